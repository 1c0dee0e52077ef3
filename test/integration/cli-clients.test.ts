/**
 * The CLI's client commands over real mTLS against a real gateway: they call the services through the generated
 * client types (src/generated/services.ts), and flags naming proto enums are checked against the generated enums.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { devSigningKeyFile } from '../helpers/dev-token.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);
/** Debian's pocketsphinx-testdata: 16 kHz LINEAR16, "go forward ten meters". */
const GOFORWARD = '/usr/share/pocketsphinx/test/data/goforward.raw';

describe('CLI client commands (typed clients)', () => {
  let gw: TestGateway;
  let env: NodeJS.ProcessEnv;
  let dir: string;

  const gatehouse = async (args: string[]) => {
    const connection = [
      '--target',
      `localhost:${gw.addresses.grpcPort}`,
      '--ca',
      gw.certs.caCert,
      '--cert',
      gw.certs.clients.alice.cert,
      '--key',
      gw.certs.clients.alice.key,
    ];
    try {
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/gatehouse.ts', ...args, ...connection], {
        cwd: ROOT,
        env,
        timeout: 30_000,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
    gw = await startGateway({
      overrides: { 'tts.enabled': true, 'tts.workers': 1, 'tts.flite.enabled': false, 'stt.enabled': true, 'stt.workers': 1 },
    });
    const { GATEHOUSE_TOKEN: _ignored, ...rest } = process.env;
    env = { ...rest, GATEHOUSE_CONFIG: 'config/default.yaml', GATEHOUSE_AUTH__DEV_SIGNING_KEY__FILE: devSigningKeyFile(gw.certs) };
  });
  after(async () => {
    await gw?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('cheese order, get and list round-trip one order', async () => {
    const ordered = await gatehouse(['cheese', 'order', '--type', 'brie', '--age', '12', '--quantity', '2', '--json']);
    assert.equal(ordered.code, 0, ordered.stderr);
    const order = JSON.parse(ordered.stdout) as { orderId: string; type: string; quantity: number; age: number };
    assert.equal(order.type, 'BRIE');
    assert.equal(order.quantity, 2);
    assert.equal(order.age, 12);
    const got = await gatehouse(['cheese', 'get', order.orderId, '--json']);
    assert.equal(got.code, 0, got.stderr);
    assert.equal((JSON.parse(got.stdout) as { orderId: string }).orderId, order.orderId);
    const listed = await gatehouse(['cheese', 'list', '--type', 'BRIE', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as { orders: { orderId: string }[] }).orders.map((o) => o.orderId),
      [order.orderId],
    );
  });

  it('a cheese type the proto does not declare is a usage error naming the declared ones', async () => {
    const result = await gatehouse(['cheese', 'order', '--type', 'gouda', '--age', '12']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--type must be one of EMMENTAL, BRIE, PECORINO, ROQUEFORT, CANASTRA; got "gouda"/);
  });

  it('tts voices and tts say (unary and streaming) through the generated TextToSpeech client', async () => {
    const voices = await gatehouse(['tts', 'voices', '--language', 'en', '--json']);
    assert.equal(voices.code, 0, voices.stderr);
    const names = (JSON.parse(voices.stdout) as { voices: { name: string }[] }).voices.map((v) => v.name);
    assert.ok(names.length > 0, 'no English voice listed');
    for (const stream of [false, true]) {
      const wav = join(dir, `hello-${stream}.wav`);
      const said = await gatehouse(['tts', 'say', 'Hello there', '--language', 'en', '--gender', 'male', '-o', wav, ...(stream ? ['--stream'] : [])]);
      assert.equal(said.code, 0, said.stderr);
      const bytes = readFileSync(wav);
      assert.equal(bytes.subarray(0, 4).toString('latin1'), 'RIFF');
      assert.ok(bytes.length > 44 + 8000, `only ${bytes.length} bytes of audio`);
    }
    const badGender = await gatehouse(['tts', 'say', 'Hello', '--gender', 'robot', '-o', join(dir, 'x.wav')]);
    assert.equal(badGender.code, 2);
    assert.match(badGender.stderr, /--gender must be male, female or neutral/);
  });

  it('stt recognize and stt stream through the generated SpeechToText client', async () => {
    const recognized = await gatehouse(['stt', 'recognize', GOFORWARD, '--json']);
    assert.equal(recognized.code, 0, recognized.stderr);
    const reply = JSON.parse(recognized.stdout) as { results: { alternatives: { transcript: string }[] }[] };
    assert.equal(reply.results[0]?.alternatives[0]?.transcript, 'go forward ten meters');
    const streamed = await gatehouse(['stt', 'stream', GOFORWARD, '--no-interim']);
    assert.equal(streamed.code, 0, streamed.stderr);
    assert.match(streamed.stdout, /\[final @[\d.]+s\] go forward ten meters/);
  });
});
