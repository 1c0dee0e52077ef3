import type * as grpc from '@grpc/grpc-js';
import { after, before } from 'node:test';
import { waitForHealth } from './health-client.js';
import { generateUpstreamContracts, startPythonUpstream, type PythonUpstream, type UpstreamContracts } from './python-upstream.js';
import { startGateway, type TestGateway } from './start-gateway.js';

/** A unary method of a client made from the pair's contracts, called with metadata and options. */
export type Unary = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null) => void,
) => grpc.ClientUnaryCall;

/** Channel options of a test client: the gateway's development certificate names localhost, not 127.0.0.1. */
export const TLS_NAME = { 'grpc.ssl_target_name_override': 'localhost' };

/** Options of {@link pythonEndpointPair}. */
export interface EndpointPairOptions {
  /** The first endpoint fails SayHello and SayHelloClientStream UNAVAILABLE while its health says SERVING. */
  firstBroken?: boolean;
  /** Keys of the `pair` upstream besides its targets (healthCheck, ejection, keepalive). */
  upstream?: Record<string, unknown>;
  /** Keys of the helloworld.Greeter route besides its service, upstream and descriptor set (retry). */
  route?: Record<string, unknown>;
  /** More services routed to the pair, as the contracts describe them (policy allows them too). */
  alsoRoute?: string[];
}

/** What {@link pythonEndpointPair} started; filled in by its `before` hook. */
export interface EndpointPair {
  contracts: UpstreamContracts;
  first: PythonUpstream;
  second: PythonUpstream;
  gw: TestGateway;
}

/**
 * Two Python grpcio endpoints of one upstream, `pair`, behind a gateway that routes helloworld.Greeter to them
 * (mTLS and a token as any client), started before the enclosing describe's tests and stopped after them.
 */
export function pythonEndpointPair(options: EndpointPairOptions = {}): EndpointPair {
  const pair = {} as EndpointPair;
  before(async () => {
    pair.contracts = generateUpstreamContracts();
    [pair.first, pair.second] = await Promise.all([
      startPythonUpstream(pair.contracts, { unavailable: options.firstBroken }),
      startPythonUpstream(pair.contracts),
    ]);
    const also = options.alsoRoute ?? [];
    pair.gw = await startGateway({
      overrides: {
        upstreams: { pair: { targets: [pair.first.target, pair.second.target], ...options.upstream } },
        routes: [
          { service: 'helloworld.Greeter', upstream: 'pair', descriptorSetFile: pair.contracts.descriptorSetFile, ...options.route },
          ...also.map((service) => ({ service, upstream: 'pair', descriptorSetFile: pair.contracts.descriptorSetFile })),
        ],
        'policy.services': Object.fromEntries(['helloworld.Greeter', ...also].map((service) => [service, {}])),
      },
    });
    await waitForHealth(pair.gw.target, pair.gw.credentials('alice'), 'SERVING', 10_000, 'helloworld.Greeter');
  });
  after(async () => {
    await pair.gw?.close();
    await Promise.all([pair.first?.kill(), pair.second?.kill()]);
    pair.contracts?.remove();
  });
  return pair;
}
