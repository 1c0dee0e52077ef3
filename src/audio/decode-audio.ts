/**
 * Turns request audio bytes in one of the API's encodings into 16-bit mono PCM. Used by SpeechToText for uploads
 * and by tests to read what TextToSpeech produced. Every problem with the bytes becomes an `AudioFormatError` whose
 * message can go straight back to the client as INVALID_ARGUMENT.
 */

import { AudioFormatError } from './audio-format-error.js';
import { decodeAlaw, decodeMulaw } from './g711.js';
import { decodeOggOpus, looksLikeOgg } from './ogg-opus.js';
import { bufferToPcm16 } from './pcm.js';
import { looksLikeWav, parseWav } from './wav.js';

/** Encodings shared by the TTS and STT contracts (proto enum names). */
export type AudioEncodingName = 'LINEAR16' | 'MULAW' | 'ALAW' | 'OGG_OPUS';

/** Decoded audio. */
export interface DecodedAudio {
  /** Mono 16-bit samples. */
  samples: Int16Array;
  /** Their rate in Hz (48000 for OGG_OPUS, the header's rate for WAV, else the declared rate). */
  sampleRateHz: number;
}

function checkWavRate(declared: number, actual: number): void {
  if (declared > 0 && declared !== actual) {
    throw new AudioFormatError('WAV_RATE_MISMATCH', `sample_rate_hertz ${declared} does not match the WAV header (${actual})`, {
      configField: 'sample_rate_hertz',
    });
  }
}

function requireRate(encoding: AudioEncodingName, declared: number): void {
  if (!(declared > 0)) {
    throw new AudioFormatError('MISSING_SAMPLE_RATE', `sample_rate_hertz is required for headerless ${encoding} audio`, {
      configField: 'sample_rate_hertz',
    });
  }
}

/**
 * Decodes `bytes` declared as `encoding` at `declaredSampleRateHz` (0 = unknown, only allowed when the bytes carry a
 * header: WAV or Ogg). LINEAR16, MULAW and ALAW may be raw or inside a WAV file; a WAV header's rate must then match
 * a non-zero declared rate. Throws `AudioFormatError` on anything unreadable.
 */
export async function decodeAudio(bytes: Uint8Array, encoding: AudioEncodingName, declaredSampleRateHz: number): Promise<DecodedAudio> {
  switch (encoding) {
    case 'LINEAR16':
    case 'MULAW':
    case 'ALAW': {
      if (looksLikeWav(bytes)) {
        const wav = parseWav(bytes);
        const expected = encoding === 'LINEAR16' ? 'pcm16' : encoding === 'MULAW' ? 'mulaw' : 'alaw';
        if (wav.format !== expected) {
          const found = wav.format === 'pcm16' ? '16-bit PCM' : wav.format === 'mulaw' ? 'mu-law' : 'A-law';
          throw new AudioFormatError('WAV_ENCODING_MISMATCH', `encoding ${encoding} does not match the WAV header, which holds ${found} audio`, {
            configField: 'encoding',
          });
        }
        checkWavRate(declaredSampleRateHz, wav.sampleRateHz);
        return { samples: wav.samples, sampleRateHz: wav.sampleRateHz };
      }
      if (encoding === 'LINEAR16' && looksLikeOgg(bytes)) {
        throw new AudioFormatError('ENCODING_MISMATCH', 'audio_content looks like an Ogg file but encoding is LINEAR16; set encoding to OGG_OPUS', {
          configField: 'encoding',
        });
      }
      requireRate(encoding, declaredSampleRateHz);
      if (encoding === 'LINEAR16') {
        if (bytes.length % 2 !== 0) {
          throw new AudioFormatError('ODD_PCM_LENGTH', `LINEAR16 audio must have an even number of bytes, got ${bytes.length}`);
        }
        return { samples: bufferToPcm16(bytes), sampleRateHz: declaredSampleRateHz };
      }
      return { samples: encoding === 'MULAW' ? decodeMulaw(bytes) : decodeAlaw(bytes), sampleRateHz: declaredSampleRateHz };
    }
    case 'OGG_OPUS':
      return decodeOggOpus(bytes);
    default: {
      const never: never = encoding;
      throw new AudioFormatError('UNSUPPORTED_ENCODING', `unsupported audio encoding ${String(never)}`, { configField: 'encoding' });
    }
  }
}
