import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAccessLogStep, type AccessLogSink } from '../../interceptors/access-log.js';
import type { GatewayCall } from '../../interceptors/gateway-call.js';
import { methodNames } from '../../interceptors/method-names.js';
import type { PeerIdentity } from '../../interceptors/peer-identity.js';
import { createLogger } from '../../src/logging/logger.js';

/** A finished call as the access log step reads it (only the fields it uses). */
function finishedCall(overrides: Partial<Record<keyof GatewayCall | 'unnamed', unknown>>): GatewayCall {
  return {
    method: methodNames('/gatehouse.tts.v1.TextToSpeech/ListVoices', false, false),
    code: 0,
    startMs: 0,
    details: undefined,
    messagesIn: 1,
    messagesOut: 1,
    bytesIn: 4,
    bytesOut: 195,
    peer: undefined,
    principal: undefined,
    traceId: undefined,
    internalError: undefined,
    getConnectionInfo: () => ({ remoteAddress: '127.0.0.1', remotePort: 40000, localAddress: '127.0.0.1', localPort: 50051 }),
    ...overrides,
  } as unknown as GatewayCall;
}

/** Runs the step's end hook on each call and returns the raw lines written. */
function linesFor(sink: AccessLogSink, lines: string[], calls: GatewayCall[], bytes = true): string[] {
  // The certificate identity of calls no authentication named (the `unnamed` ones here).
  const peers = { identityOf: (call: object) => ('unnamed' in call ? certificatePeer : undefined) };
  const step = createAccessLogStep({ sink, messageBytes: bytes, peers });
  const hooks = step.forMethod(calls[0]!.method)!;
  for (const call of calls) hooks.end!(call);
  return lines.splice(0);
}

const certificatePeer: PeerIdentity = Object.freeze({
  identity: 'spiffe://gatehouse.test/client/bob',
  source: 'uri',
  sans: [],
  thumbprintS256: 'y',
  notAfter: new Date(0),
});

describe('access log line (issue 10: serialised by hand on the hot path)', () => {
  const peer = Object.freeze({
    identity: 'spiffe://gatehouse.test/client/alice',
    source: 'uri',
    sans: [],
    thumbprintS256: 'x',
    notAfter: new Date(0),
  });
  const calls = () => [
    finishedCall({}),
    finishedCall({ peer, principal: { subject: 'alice "the" \\ admin\u2028', scopes: new Set() }, traceId: '0af7651916cd43dd8448eb211c80319c' }),
    // A call no authentication named: the peer comes from the certificate, through the peer cache.
    finishedCall({ getConnectionInfo: () => ({}), unnamed: true }),
    // A routed call names its upstream.
    finishedCall({ upstream: 'legacy-cheese' }),
    // A subject that looks like a credential is redacted on both paths.
    finishedCall({ principal: { subject: 'Bearer abcdefghijklmnop', scopes: new Set() } }),
  ];

  it('writes exactly what the generic path writes, key order included', () => {
    const fastLines: string[] = [];
    const fast = createLogger({ level: 'debug', write: (line) => fastLines.push(line), nowMs: () => 0 });
    const slowLines: string[] = [];
    const logger = createLogger({ level: 'debug', write: (line) => slowLines.push(line), nowMs: () => 0 });
    // The same logger without the fast-path methods: the step falls back to building fields.
    const generic: AccessLogSink = {
      debug: logger.debug,
      info: logger.info,
      warn: logger.warn,
      error: logger.error,
      enabled: logger.enabled,
    };
    for (const bytes of [true, false]) {
      const viaFast = linesFor(fast, fastLines, calls(), bytes);
      const viaGeneric = linesFor(generic, slowLines, calls(), bytes);
      assert.equal(viaFast.length, 5);
      // The step stamps the end time itself (performance.now()); only the duration may differ.
      const sameClock = (line: string) => line.replace(/"durationMs":-?[0-9.]+/, '"durationMs":0');
      assert.deepEqual(viaFast.map(sameClock), viaGeneric.map(sameClock));
    }
  });

  it("keeps child loggers' fields, names unauthenticated calls by certificate and never writes a credential", () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', write: (line) => lines.push(line) }).child({ worker: 3 });
    const [, withSubject, unnamed, routed, secret] = linesFor(logger, lines, calls());
    assert.equal(JSON.parse(routed!).upstream, 'legacy-cheese');
    assert.equal(JSON.parse(unnamed!).peer, certificatePeer.identity);
    assert.equal(JSON.parse(withSubject!).worker, 3);
    assert.equal(JSON.parse(withSubject!).subject, 'alice "the" \\ admin\u2028');
    assert.ok(!secret!.includes('abcdefghijklmnop'), secret);
  });
});
