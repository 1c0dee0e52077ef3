/**
 * Errors that echo what the client sent, or list every problem, with inputs
 * big enough that an unbounded message would near 64 KB of `grpc-message`:
 * such a trailer never reaches the client, the call hangs until its deadline
 * and every later call on the same HTTP/2 connection fails. Each case must
 * answer promptly with a bounded message, and the same client (one channel,
 * one connection) must still work. Log lines stay bounded too.
 */
import type * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_STATUS_MESSAGE_BYTES } from '../../interceptors/bounded-text.js';
import { callUnary } from '../../src/client/grpc-client.js';
import { MAX_LOG_VALUE_BYTES } from '../../src/logging/logger.js';
import { assertRejects } from '../helpers/assert-status.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

const CHEESE = 'cheesefarm.v1.CheeseService';
const TTS = 'gatehouse.tts.v1.TextToSpeech';
const STT = 'gatehouse.stt.v1.SpeechToText';
/** Far longer than any answer needs; the failure this guards against hangs until the deadline. */
const DEADLINE_MS = 8000;
const PROMPT_MS = 3000;

describe('long client values in error messages', () => {
  let gw: TestGateway;
  let cheese: grpc.Client;
  let tts: grpc.Client;
  let stt: grpc.Client;

  before(async () => {
    gw = await startGateway({
      overrides: { 'tts.enabled': true, 'tts.workers': 1, 'tts.flite.enabled': false, 'stt.enabled': true, 'stt.workers': 1 },
    });
    cheese = gw.client(CHEESE);
    tts = gw.client(TTS);
    stt = gw.client(STT);
  });
  after(async () => {
    await gw?.close();
  });

  /** The call fails promptly with `code`, a message within the bound that says how much was left out. */
  async function refusedPromptly(call: (deadline: Date) => Promise<unknown>, code: 'INVALID_ARGUMENT' | 'NOT_FOUND', message: RegExp): Promise<void> {
    const started = performance.now();
    const { error, details } = await assertRejects(call(new Date(Date.now() + DEADLINE_MS)), code, message);
    const ms = performance.now() - started;
    assert.ok(ms < PROMPT_MS, `the reply took ${Math.round(ms)} ms`);
    assert.ok(Buffer.byteLength(error.details) <= MAX_STATUS_MESSAGE_BYTES, `a ${Buffer.byteLength(error.details)}-byte message`);
    assert.match(error.details, /\.\.\. and \d+ more/);
    assert.ok(details?.errorInfo?.reason, 'no ErrorInfo');
  }

  it('GetOrder with an order_id of 15,000 × "é"', async () => {
    await refusedPromptly(
      (deadline) => callUnary(cheese, 'getOrder', { orderId: 'é'.repeat(15_000) }, { deadline }),
      'NOT_FOUND',
      /^order "é+" \.\.\. and \d+ more characters does not exist$/,
    );
    await callUnary(cheese, 'listOrders', {}, { deadline: new Date(Date.now() + DEADLINE_MS) });
  });

  it('ListVoices with a 60,000-character language_code', async () => {
    await refusedPromptly(
      (deadline) => callUnary(tts, 'listVoices', { languageCode: 'x'.repeat(60_000) }, { deadline }),
      'INVALID_ARGUMENT',
      /language_code "x+" \.\.\. and \d+ more characters is not a BCP-47 language code/,
    );
    await callUnary(tts, 'listVoices', { languageCode: 'ru' }, { deadline: new Date(Date.now() + DEADLINE_MS) });
  });

  it('a template whose slot name is 15,000 × "é"', async () => {
    const template = `Hello {${'é'.repeat(15_000)}}`;
    await refusedPromptly(
      (deadline) => callUnary(tts, 'synthesize', { input: { templateInput: { template } }, voice: { name: 'en-US' } }, { deadline }),
      'INVALID_ARGUMENT',
      /has no value for slot "é+" \.\.\. and \d+ more characters/,
    );
    await callUnary(tts, 'listVoices', { languageCode: 'en' }, { deadline: new Date(Date.now() + DEADLINE_MS) });
  });

  it('Recognize with 3,000 phrases, each too long', async () => {
    const phrases = Array.from({ length: 3000 }, (_, i) => `${i} ${'word '.repeat(25)}`);
    const request = {
      config: { encoding: 'LINEAR16', sampleRateHertz: 16000, speechContexts: [{ phrases }] },
      audio: { content: Buffer.alloc(3200) },
    };
    await refusedPromptly(
      (deadline) => callUnary(stt, 'recognize', request, { deadline }),
      'INVALID_ARGUMENT',
      /^config has 3000 problems: .* \.\.\. and 2990 more problems$/,
    );
    const reply = await callUnary<{ results: unknown[] }>(
      stt,
      'recognize',
      { config: { encoding: 'LINEAR16', sampleRateHertz: 16000 }, audio: { content: Buffer.alloc(3200) } },
      { deadline: new Date(Date.now() + DEADLINE_MS) },
    );
    assert.ok(Array.isArray(reply.results));
  });

  it('no log line carries an unbounded value', () => {
    for (const line of gw.logs) {
      for (const [key, value] of Object.entries(line)) {
        if (typeof value === 'string')
          assert.ok(Buffer.byteLength(value) <= MAX_LOG_VALUE_BYTES, `log field ${key} has ${Buffer.byteLength(value)} bytes`);
      }
    }
  });
});
