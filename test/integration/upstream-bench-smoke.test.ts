import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEBIAN_PYTHON } from '../../bench/external/servers.js';

/**
 * Keeps bench/upstream.bench.ts from rotting: runs it for a moment (tiny
 * windows, unpinned) with both upstreams (`--upstream go,python`) and checks
 * every row and summary line of each is printed, with no failed call (the
 * bench itself fails on any, and on a stream without its 10 messages). Never
 * asserts timings.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const hasGo = existsSync('/usr/share/gocode/src/google.golang.org/grpc');
const hasPythonGrpc = existsSync(DEBIAN_PYTHON);
// Skipped only on a developer machine without the Debian packages; CI installs them, so there it fails instead.
const skip = (hasGo && hasPythonGrpc) || process.env.CI ? false : 'needs golang-google-grpc-dev and python3-grpcio (.ci/install-system-deps.sh)';

describe('upstream routing benchmark (smoke)', { skip, timeout: 240_000 }, () => {
  it('measures unary and streaming calls directly and through the gateway, with a Go and a Python upstream', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/upstream.bench.ts',
        '--upstream',
        'go,python',
        '--seconds',
        '0.3',
        '--warmup-seconds',
        '0.1',
        '--connections',
        '1',
        '--inflight',
        '2',
        '--no-pin',
      ],
      { cwd: ROOT, timeout: 200_000 },
    );
    // Each upstream's section: its title line, then its table and summary lines, up to the next section.
    const sections = stdout.split(/^(?=upstream \w+: )/m).filter((part) => part.startsWith('upstream '));
    assert.deepEqual(
      sections.map((section) => /^upstream (\w+):/.exec(section)?.[1]),
      ['go', 'python'],
    );
    for (const [index, name] of ['go', 'python'].entries()) {
      const section = sections[index] ?? '';
      for (const kind of ['unary', 'server-stream']) {
        for (const via of ['direct', 'gateway'])
          assert.match(section, new RegExp(`^\\s*${kind}\\s+${via}\\s+\\d+\\.\\d{3}\\s`, 'm'), `no ${name} ${kind} ${via} row`);
        assert.match(
          section,
          new RegExp(`^${name} upstream, ${kind}: the gateway adds -?\\d+\\.\\d{3} ms .* keeps \\d+% of the direct throughput`, 'm'),
        );
      }
    }
  });
});
