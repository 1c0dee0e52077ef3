/**
 * The proto3 JSON mapping of the web listener (src/web/json-mapping.ts) and
 * its routes from the annotations (src/web/http-routes.ts), over the
 * descriptor set protoc built from proto/.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadApiDescriptors } from '../../src/web/api-descriptors.js';
import { buildHttpRouter } from '../../src/web/http-routes.js';
import { JsonMappingError, messageFromJson, messageToJson } from '../../src/web/json-mapping.js';

const api = loadApiDescriptors();
const type = (name: string) => api.root.lookupType(name);
const roundTrip = (name: string, json: unknown) => {
  const t = type(name);
  return messageToJson(t, t.decode(t.encode(messageFromJson(t, json)).finish()));
};

describe('proto3 JSON mapping over the descriptor set', () => {
  it('writes lowerCamelCase names, enum names, 64-bit integers as strings, RFC 3339 timestamps, and leaves defaults out', () => {
    assert.deepEqual(
      roundTrip('cheesefarm.v1.Cheese', {
        age: 12,
        type: 'BRIE',
        order_id: 'ord_1',
        ordered_at: '2026-01-02T03:04:05.120Z',
        sequence: '18446744073709551615',
        quantity: 0,
      }),
      { age: 12, type: 'BRIE', orderId: 'ord_1', orderedAt: '2026-01-02T03:04:05.120Z', sequence: '18446744073709551615' },
    );
  });

  it('reads both spellings, enums by number, integers from strings; bytes as base64; maps as objects; Duration as seconds', () => {
    assert.deepEqual(roundTrip('cheesefarm.v1.CheeseRequest', { idempotencyKey: 'k', age: '7', type: 3 }), {
      age: 7,
      type: 'PECORINO',
      idempotencyKey: 'k',
    });
    assert.deepEqual(roundTrip('gatehouse.tts.v1.SynthesizeResponse', { audioContent: 'aGk=', audioInfo: { durationSeconds: 1.5 } }), {
      audioContent: 'aGk=',
      audioInfo: { durationSeconds: 1.5 },
    });
    assert.deepEqual(roundTrip('gatehouse.tts.v1.TemplateInput', { template: 'a {x}', slots: { x: 'y' } }), { template: 'a {x}', slots: { x: 'y' } });
    assert.deepEqual(roundTrip('gatehouse.stt.v1.WordInfo', { startTime: '1.500s', word: 'go', confidence: 0.1 }), {
      startTime: '1.500s',
      word: 'go',
      confidence: 0.1,
    });
  });

  it('keeps a proto3 optional field that is set to its default (presence)', () => {
    assert.deepEqual(roundTrip('cheesefarm.v1.WatchOrdersRequest', { afterSequence: 0 }), { afterSequence: '0' });
    assert.deepEqual(roundTrip('cheesefarm.v1.WatchOrdersRequest', {}), {});
  });

  it('refuses what does not fit, naming the field', () => {
    const refuse = (name: string, json: unknown, field: string, pattern: RegExp) =>
      assert.throws(
        () => messageFromJson(type(name), json),
        (error: unknown) => error instanceof JsonMappingError && error.field === field && pattern.test(error.description),
      );
    refuse('cheesefarm.v1.CheeseRequest', { colour: 'red' }, 'colour', /unknown field/);
    refuse('cheesefarm.v1.CheeseRequest', { age: 1.5 }, 'age', /integer/);
    refuse('cheesefarm.v1.CheeseRequest', { age: 2 ** 31 }, 'age', /out of range/);
    refuse('cheesefarm.v1.CheeseRequest', { type: 'GOUDA' }, 'type', /one of/);
    refuse('gatehouse.tts.v1.SynthesizeRequest', { input: { text: 'a', templateInput: { template: 'b' } } }, 'input.templateInput', /only one of/);
    refuse('gatehouse.tts.v1.SynthesizeRequest', { audioConfig: { sampleRateHertz: 'fast' } }, 'audioConfig.sampleRateHertz', /integer/);
    refuse('cheesefarm.v1.WatchOrdersRequest', { afterSequence: '-1' }, 'afterSequence', /non-negative/);
    refuse('gatehouse.stt.v1.RecognizeRequest', { audio: { content: 'not base64!' } }, 'audio.content', /base64/);
    refuse('cheesefarm.v1.Cheese', { orderedAt: 'yesterday' }, 'orderedAt', /RFC 3339/);
  });
});

describe('routes from the google.api.http annotations', () => {
  const router = buildHttpRouter(api.methods.values(), () => true);

  it('matches templates with variables and custom verbs, and tells a wrong HTTP method from an unknown path', () => {
    const get = router.match('GET', '/v1/cheese/orders/ord_%2Fx');
    assert.ok(get !== undefined && get !== 'method-not-allowed');
    assert.equal(get.route.method.path, '/cheesefarm.v1.CheeseService/GetOrder');
    assert.deepEqual(get.variables, { order_id: 'ord_/x' });
    const watch = router.match('GET', '/v1/cheese/orders:watch');
    assert.ok(watch !== undefined && watch !== 'method-not-allowed');
    assert.equal(watch.route.method.path, '/cheesefarm.v1.CheeseService/WatchOrders');
    assert.equal(router.match('DELETE', '/v1/cheese/orders'), 'method-not-allowed');
    assert.equal(router.match('GET', '/v1/nothing'), undefined);
  });

  it('routes only what is hosted', () => {
    const cheeseOnly = buildHttpRouter(api.methods.values(), (path) => path.startsWith('/cheesefarm.'));
    assert.equal(cheeseOnly.match('POST', '/v1/text:synthesize'), undefined);
    assert.ok(cheeseOnly.routes.every((route) => route.method.path.startsWith('/cheesefarm.')));
  });
});
