import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw, alawDecodeSample, mulawDecodeSample } from '../../src/audio/g711.js';
import alawmulawModule from 'alawmulaw';

// alawmulaw is a UMD bundle; depending on the loader its namespace is the default export or nested in it.
const alawmulaw = (alawmulawModule as unknown as { mulaw?: unknown }).mulaw
  ? alawmulawModule
  : (alawmulawModule as unknown as { default: typeof alawmulawModule }).default;

const everySample = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);

test('mu-law matches the reference implementation bit for bit', () => {
  assert.deepEqual(encodeMulaw(everySample), alawmulaw.mulaw.encode(everySample));
  assert.deepEqual(decodeMulaw(everyByte), alawmulaw.mulaw.decode(everyByte));
});

test('A-law decoding matches the reference; encoding is within one step of it', () => {
  assert.deepEqual(decodeAlaw(everyByte), alawmulaw.alaw.decode(everyByte));
  const mine = decodeAlaw(encodeAlaw(everySample));
  const ref = alawmulaw.alaw.decode(alawmulaw.alaw.encode(everySample));
  for (let i = 0; i < everySample.length; i++) {
    // The two differ only for negative inputs lying exactly on a quantiser boundary.
    assert.ok(Math.abs(mine[i]! - ref[i]!) <= 1024, `sample ${everySample[i]}`);
  }
});

test('round trips keep speech-level error small and the sign right', () => {
  for (const [enc, dec] of [
    [encodeMulaw, decodeMulaw],
    [encodeAlaw, decodeAlaw],
  ] as const) {
    const back = dec(enc(everySample));
    for (let i = 0; i < everySample.length; i += 7) {
      const s = everySample[i]!;
      const err = Math.abs(back[i]! - s);
      assert.ok(err <= Math.max(16, Math.abs(s) * 0.07), `sample ${s} came back as ${back[i]}`);
    }
  }
  assert.equal(mulawDecodeSample(0xff), 0);
  assert.ok(Math.abs(alawDecodeSample(0xd5)) <= 8);
});
