/**
 * Turns 16-bit mono PCM into the bytes of one of the API's output encodings: the inverse of `decodeAudio` for a
 * whole clip. Streaming output uses the incremental pieces (`OggOpusEncoder`, G.711 per chunk) directly.
 */

import type { AudioEncodingName } from './decode-audio.js';
import { encodeAlaw, encodeMulaw } from './g711.js';
import { encodeOggOpus } from './ogg-opus.js';
import { pcm16ToBuffer } from './pcm.js';
import { encodeG711Wav, encodeWav } from './wav.js';

/** Encodes a whole clip. `wav` wraps LINEAR16/MULAW/ALAW in a RIFF header; it is ignored for OGG_OPUS. */
export function encodeAudio(samples: Int16Array, sampleRateHz: number, encoding: AudioEncodingName, wav = false): Buffer {
  switch (encoding) {
    case 'LINEAR16':
      return wav ? encodeWav(samples, sampleRateHz) : pcm16ToBuffer(samples);
    case 'MULAW':
    case 'ALAW': {
      const law = encoding === 'MULAW' ? 'mulaw' : 'alaw';
      const bytes = law === 'mulaw' ? encodeMulaw(samples) : encodeAlaw(samples);
      return wav ? encodeG711Wav(bytes, sampleRateHz, law) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    }
    case 'OGG_OPUS':
      return encodeOggOpus(samples, sampleRateHz);
    default: {
      const never: never = encoding;
      throw new Error(`unsupported audio encoding ${String(never)}`);
    }
  }
}
