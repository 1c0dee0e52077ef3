import type * as grpc from '@grpc/grpc-js';
import type { ServerHttp2Session } from 'node:http2';
import type { Registry } from 'prom-client';
import type { ForwardedCertificates } from '../../interceptors/peer-cache.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { loadApiDescriptors } from './api-descriptors.js';
import { createInternalChannel, FORWARDED_PEER_HEADER } from './internal-channel.js';
import { startWebListener, type WebListener } from './web-listener.js';

/** The web front end as the gateway wires it: what the chain and the HTTP/2 hooks need, and the listener's life. */
export interface WebFront {
  /** For the chain's peer cache: certificates the web listener verified. */
  readonly forwardedCertificates: ForwardedCertificates;
  /** For the gRPC server's HTTP/2 hooks: the forwarded-certificate header counts only on internal sessions. */
  readonly trustedHeader: { name: string; trusted(session: ServerHttp2Session): boolean };
  /** Binds the web listener with the main listener's credentials; resolves to its port. */
  listen(credentials: grpc.ServerCredentials): Promise<number>;
  /** Stops accepting connections (the drain's first step). */
  beginDrain(): void;
  /** Closes the listener and every internal connection. */
  close(): Promise<void>;
}

/**
 * The web front end when config turns it on (`http.enabled`), else
 * undefined. Built with the gateway (descriptors read once, here); listens
 * only when `listen` is called.
 */
export function createWebFront(options: {
  config: Config;
  logger: Logger;
  registry: Registry;
  server: () => grpc.Server;
  hostedPaths: ReadonlySet<string>;
}): WebFront | undefined {
  if (!options.config.http.enabled) return undefined;
  const api = loadApiDescriptors();
  const channel = createInternalChannel(options.server);
  let listener: WebListener | undefined;
  return {
    forwardedCertificates: channel,
    trustedHeader: { name: FORWARDED_PEER_HEADER, trusted: (session) => channel.isInternal(session) },
    async listen(credentials) {
      listener = await startWebListener({
        config: options.config,
        logger: options.logger,
        registry: options.registry,
        channel,
        api,
        credentials,
        hosted: (path) => options.hostedPaths.has(path),
      });
      return listener.port;
    },
    beginDrain: () => listener?.beginDrain(),
    // The listener closes the channel with its connections; one that never listened has only the channel.
    close: async () => (listener !== undefined ? listener.close() : channel.close()),
  };
}
