// Chain-only load for profiling.
process.argv.push('--seconds', '4', '--rounds', '1');
