import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeOggOpus, encodeOggOpus, OggOpusEncoder, oggCrc32 } from '../../src/audio/ogg-opus.js';
import { AudioFormatError } from '../../src/audio/audio-format-error.js';
import { rms } from '../../src/audio/pcm.js';

const hasOpusinfo = spawnSync('opusinfo', ['-h']).error === undefined;

function tone(rateHz: number, seconds: number): Int16Array {
  return Int16Array.from({ length: Math.round(rateHz * seconds) }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rateHz)));
}

/** Splits an Ogg file into pages and returns their headers. */
function pages(buf: Buffer): { flags: number; granule: bigint; seq: number; crcOk: boolean }[] {
  const out = [];
  let off = 0;
  while (off < buf.length) {
    assert.equal(buf.toString('ascii', off, off + 4), 'OggS');
    const nseg = buf[off + 26]!;
    let body = 0;
    for (let i = 0; i < nseg; i++) body += buf[off + 27 + i]!;
    const len = 27 + nseg + body;
    const page = Buffer.from(buf.subarray(off, off + len));
    const crc = page.readUInt32LE(22);
    page.writeUInt32LE(0, 22);
    out.push({ flags: page[5]!, granule: page.readBigInt64LE(6), seq: page.readUInt32LE(18), crcOk: oggCrc32(page) === crc });
    off += len;
  }
  return out;
}

test('Ogg CRC-32 matches the known check value', () => {
  // CRC-32/OGG (poly 0x04C11DB7, init 0, no reflection, no xorout) of "123456789" is 0x89A1897F.
  assert.equal(oggCrc32(Buffer.from('123456789')), 0x89a1897f);
});

for (const rate of [8000, 16000, 22050, 24000, 48000]) {
  test(`encode/decode round trip at ${rate} Hz keeps duration and level; pages are well-formed`, async () => {
    const input = tone(rate, 1.25);
    const ogg = encodeOggOpus(input, rate, { serialNumber: 42 });
    const ps = pages(ogg);
    assert.equal(ps[0]!.flags, 0x02, 'first page is BOS');
    assert.equal(ps.at(-1)!.flags, 0x04, 'last page is EOS');
    assert.ok(ps.every((p, i) => p.crcOk && p.seq === i));
    const length48 = Math.round((input.length * 48000) / rate);
    assert.equal(ps.at(-1)!.granule, BigInt(312 + length48), 'final granule = pre-skip + length at 48 kHz');
    for (let i = 3; i < ps.length; i++) assert.ok(ps[i]!.granule >= ps[i - 1]!.granule);
    const decoded = await decodeOggOpus(ogg);
    assert.equal(decoded.sampleRateHz, 48000);
    assert.equal(decoded.samples.length, length48);
    assert.ok(Math.abs(rms(decoded.samples) - rms(input)) < rms(input) * 0.1, `rms ${rms(decoded.samples)} vs ${rms(input)}`);
  });
}

test('the incremental encoder emits headers first, pages as it goes, and decodes like the one-shot form', async () => {
  const input = tone(22050, 2);
  const enc = new OggOpusEncoder({ inputSampleRateHz: 22050, serialNumber: 7 });
  const chunks: Buffer[] = [];
  for (let i = 0; i < input.length; i += 4410) chunks.push(enc.push(input.subarray(i, i + 4410)));
  chunks.push(enc.end());
  assert.equal(chunks[0]!.toString('ascii', 28, 36), 'OpusHead');
  assert.ok(chunks.slice(1, -1).filter((c) => c.length > 0).length >= 5, 'audio leaves before end()');
  const decoded = await decodeOggOpus(Buffer.concat(chunks));
  assert.equal(decoded.samples.length, 96000);
  assert.ok(rms(decoded.samples) > 5000);
});

test('opusinfo accepts the file', { skip: !hasOpusinfo && !process.env.CI && 'opusinfo (opus-tools) not installed (never skipped under CI)' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-opus-'));
  try {
    const file = join(dir, 'tone.opus');
    writeFileSync(file, encodeOggOpus(tone(22050, 1.5), 22050));
    const out = execFileSync('opusinfo', [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(out, /Original sample rate: 22050 Hz/);
    assert.match(out, /Playback length: 0m:01\.500s/);
    assert.doesNotMatch(out, /WARNING|ERROR/i);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('garbage is rejected with AudioFormatError naming the problem', async () => {
  const good = encodeOggOpus(tone(16000, 0.2), 16000);
  const corrupted = Buffer.from(good);
  // readUInt8 throws if the clip were ever shorter than 41 bytes, instead of silently flipping nothing.
  corrupted.writeUInt8(corrupted.readUInt8(40) ^ 0xff, 40);
  const cases: [Buffer, RegExp][] = [
    [Buffer.from('definitely not audio'), /does not start with an Ogg page/],
    [Buffer.from('OggS'), /shorter than one Ogg page header/],
    [corrupted, /fails its CRC check/],
  ];
  for (const [buf, re] of cases) {
    await assert.rejects(decodeOggOpus(buf), (err: unknown) => {
      assert.ok(err instanceof AudioFormatError);
      assert.match(err.message, /^audio_content is not a valid Ogg Opus stream: /);
      assert.match(err.message, re);
      return true;
    });
  }
});
