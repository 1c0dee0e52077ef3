/**
 * The `gatehouse` command line: `serve` runs the gateway; the other commands
 * are clients of a running one. Exit codes: 0 success, 1 a check failed
 * (health not SERVING), 2 usage error, 10 + gRPC code for a failed call
 * (13 INVALID_ARGUMENT, 17 PERMISSION_DENIED, 24 UNAVAILABLE, 26 UNAUTHENTICATED).
 */
import { ConfigError } from '../config/load.js';
import { UsageError } from './command.js';
import { COMMANDS } from './commands/index.js';

const HELP = `gatehouse: a secure gRPC gateway

Usage: gatehouse <command> [flags]      (gatehouse <command> --help for its flags)

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}

Exit codes: 0 ok, 1 check failed, 2 usage error, 10 + gRPC status code when a call fails
(13 INVALID_ARGUMENT, 15 NOT_FOUND, 17 PERMISSION_DENIED, 19 FAILED_PRECONDITION, 24 UNAVAILABLE, 26 UNAUTHENTICATED).`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP + '\n');
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`gatehouse: unknown command "${name}"\n\n${HELP}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage + '\n');
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(
        error.message ? `gatehouse ${name}: ${error.message}\n(gatehouse ${name} --help shows the flags)\n` : `${command.usage}\n`,
      );
      return 2;
    }
    process.stderr.write(`gatehouse ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    // Bad configuration is a usage problem: nothing was started.
    return error instanceof ConfigError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
