import type * as grpc from '@grpc/grpc-js';
import type { Http2SecureServer, Http2Server, SecureServerOptions } from 'node:http2';

/** Node options for the HTTP/2 servers grpc-js creates, beyond those grpc-js sets itself. */
export type Http2ServerOptionsPatch = Pick<SecureServerOptions, 'maxHeaderListPairs'> & {
  /** HTTP/2 SETTINGS_MAX_HEADER_LIST_SIZE advertised to clients, in bytes. */
  maxHeaderListSize?: number;
};

type CreateHttp2Server = (credentials: grpc.ServerCredentials) => Http2Server | Http2SecureServer;

/**
 * GRPC-JS INTERNALS, kept to this one function (to move into the grpc-js compatibility module):
 * grpc-js has no public way to pass Node server options (the header pair limit) or to reach
 * the `http2.Server` it creates per bound address. This wraps its `createHttp2Server` method and adds `options`
 * to its `commonServerOptions` before each server is made, then hands the server to `configure` (which uses
 * Node's public events only). Call before `bindAsync`. Returns false, changing nothing, when grpc-js no longer
 * has these members; tests covering the limits then fail.
 */
export function configureHttp2Servers(server: grpc.Server, options: Http2ServerOptionsPatch, configure: (http2Server: Http2Server | Http2SecureServer) => void): boolean {
  const target = server as unknown as { createHttp2Server?: CreateHttp2Server; commonServerOptions?: Record<string, unknown> };
  const original = target.createHttp2Server;
  if (typeof original !== 'function' || typeof target.commonServerOptions !== 'object' || target.commonServerOptions === null) return false;
  const { maxHeaderListSize, ...serverOptions } = options;
  target.createHttp2Server = function createHttp2Server(this: typeof target, credentials) {
    const common = this.commonServerOptions ?? {};
    const settings = { ...(common.settings as object | undefined), ...(maxHeaderListSize === undefined ? {} : { maxHeaderListSize }) };
    this.commonServerOptions = { ...common, ...serverOptions, settings };
    const http2Server = original.call(this, credentials);
    configure(http2Server);
    return http2Server;
  };
  return true;
}
