import * as grpc from '@grpc/grpc-js';
import { buildInterceptorChain } from './src/chain.ts';
import { loadConfig } from './src/config/load.ts';
import { createHealthState } from './src/health/health-state.ts';
import { createLogger } from './src/logging/logger.ts';
import { createMetricsRegistry } from './src/metrics/metrics-registry.ts';
import { loadServiceDefinition } from './src/proto/load.ts';
import { createMessageSizes } from './interceptors/message-sizes.ts';
const SERVICE = 'gatehouse.tts.v1.TextToSpeech';
const definition = loadServiceDefinition(SERVICE);
const config = loadConfig({ overrides: {
  'auth.devSigningKey.enabled': false, 'auth.hmacKeys': [{ kid: 'b', secret: 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0' }],
  'policy.defaults': { requireToken: false }, 'policy.services': { [SERVICE]: { requireToken: false } },
  'rateLimits.default': { requestsPerSecond: 1e9, burst: 1e9 }, 'logging.level': 'info' } });
const only = process.argv[2];
let interceptors = buildInterceptorChain({ config, registry: createMetricsRegistry(), logger: createLogger({ level: 'info', write: () => {} }),
  health: createHealthState([SERVICE]), services: [{ name: SERVICE, definition }], messageSizes: createMessageSizes() });
const names = ['outcome','tracing','metrics','accesslog','status','deadline','authn','authz','streamcap','ratelimit'];
if (only === 'none') interceptors = [];
else if (only) interceptors = interceptors.filter((_, i) => only.split(',').includes(names[i]!));
const method = definition.ListVoices!;
const md = { path: method.path, requestStream: false, responseStream: false, requestDeserialize: method.requestDeserialize, responseSerialize: method.responseSerialize };
class Base {
  listener: any; metadata: grpc.Metadata;
  constructor() { this.metadata = new grpc.Metadata(); this.metadata.set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'); }
  start(l: any) { this.listener = l; l.onReceiveMetadata(this.metadata); }
  sendMetadata() {} sendMessage(_m: any, cb: () => void) { cb(); } sendStatus(_s: any) { this.listener.onCancel(); }
  startRead() {} getPeer() { return '127.0.0.1:1'; } getDeadline() { return Infinity; } getHost() { return 'x'; }
  getAuthContext() { return {}; } getConnectionInfo() { return { remoteAddress: '127.0.0.1', remotePort: 1234 }; } getMetricsRecorder(): any { return null; }
}
Object.defineProperty(Base, 'name', { value: 'BaseServerInterceptingCall' });
function one() {
  const base = new Base();
  const call: any = interceptors.reduce((c: any, i) => i(md as any, c), base);
  call.start({ onReceiveMetadata() { call.startRead(); }, onReceiveMessage() {}, onReceiveHalfClose() {
    const reply = { voices: [] };
    call.sendMessage(reply, () => call.sendStatus({ code: 0, details: 'OK' }));
  }, onCancel() {} });
  base.listener.onReceiveMessage({});
  base.listener.onReceiveHalfClose();
}
for (let i = 0; i < 50000; i++) one();
const N = 200000; const t = performance.now();
for (let i = 0; i < N; i++) one();
console.log(only ?? 'all', ((performance.now() - t) * 1000 / N).toFixed(2), 'us/call');
