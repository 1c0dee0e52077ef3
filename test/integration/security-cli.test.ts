import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { devSigningKeyFile } from '../helpers/dev-token.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

describe('security: gatehouse token mint and --token / GATEHOUSE_TOKEN', () => {
  let gw: TestGateway;
  let env: NodeJS.ProcessEnv;

  const gatehouse = async (args: string[], extraEnv: Record<string, string> = {}) => {
    try {
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/gatehouse.ts', ...args], {
        cwd: ROOT,
        env: { ...env, ...extraEnv },
        timeout: 20_000,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };
  const connection = (client: 'alice' | 'bob') => [
    '--target',
    `localhost:${gw.addresses.grpcPort}`,
    '--ca',
    gw.certs.caCert,
    '--cert',
    gw.certs.clients[client].cert,
    '--key',
    gw.certs.clients[client].key,
  ];

  before(async () => {
    gw = await startGateway({ devTokens: false });
    const { GATEHOUSE_TOKEN: _ignored, ...rest } = process.env;
    // The CLI reads the same development key as this gateway; nothing else from the environment.
    env = { ...rest, GATEHOUSE_CONFIG: 'config/default.yaml', GATEHOUSE_AUTH__DEV_SIGNING_KEY__FILE: devSigningKeyFile(gw.certs) };
  });
  after(async () => {
    await gw?.close();
  });

  it('mints a certificate-bound token that works with --token on its own certificate and is refused on another', async () => {
    const minted = await gatehouse(['token', 'mint', '--bind-cert', gw.certs.clients.alice.cert, '--ttl', '10m', '--json']);
    assert.equal(minted.code, 0, minted.stderr);
    const { token, sub, scopes, bound } = JSON.parse(minted.stdout) as { token: string; sub: string; scopes: string[]; bound: boolean };
    assert.equal(sub, gw.certs.clients.alice.identity);
    assert.deepEqual(scopes, ['cheese.order', 'cheese.read', 'stt.recognize', 'tts.synthesize']);
    assert.equal(bound, true);

    const [ok, stolen] = await Promise.all([
      gatehouse(['cheese', 'list', ...connection('alice'), '--token', token, '--json']),
      gatehouse(['cheese', 'list', ...connection('bob')], { GATEHOUSE_TOKEN: token }),
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(stolen.code, 10 + 16, 'exit 26: UNAUTHENTICATED');
    assert.match(stolen.stderr, /UNAUTHENTICATED: token is bound to a different client certificate/);
    assert.match(stolen.stderr, /reason: TOKEN_BINDING_MISMATCH/);
    assert.ok(!stolen.stderr.includes(token.split('.')[2]!), 'the token is echoed');
  });

  it('without --token, a client command signs a development token with the development key', async () => {
    const result = await gatehouse(['cheese', 'list', ...connection('bob'), '--json']);
    assert.equal(result.code, 0, result.stderr);
  });
});
