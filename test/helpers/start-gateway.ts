import type * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTemporaryDevCertificates, type DevCertificateSet } from '../../certs/dev-certificates.js';
import { channelCredentials, createClient } from '../../src/client/grpc-client.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/logging/logger.js';
import { createGateway, type Gateway, type GatewayAddresses } from '../../src/server.js';
import type { HostedService } from '../../src/services/hosted-service.js';
import type { Telemetry } from '../../src/telemetry/telemetry.js';
import { discoverRoutes } from '../../src/upstream/discover-routes.js';
import { devSigningKeyFile, devTokenFor, withBearerToken } from './dev-token.js';

/** Who a test client is. */
export type TestClientIdentity = 'alice' | 'bob' | 'untrusted' | 'expired' | 'no-certificate' | 'insecure';

/** Options for {@link startGateway}. */
export interface StartGatewayOptions {
  /** Dotted config overrides, e.g. `{ 'server.tls.mode': 'tls' }`. */
  overrides?: Record<string, unknown>;
  /** Replace the services config enables. */
  services?: HostedService[];
  /** Host these too (slow or failing test services). */
  extraServices?: HostedService[];
  /** Certificate set to use; default a fresh temporary one. */
  certs?: DevCertificateSet;
  /** Wait for every service's warm-up before resolving. Default true. */
  waitForWarmUp?: boolean;
  /** Tracing (e.g. an SDK with an in-memory exporter); default none. */
  telemetry?: Telemetry;
  /** Give alice's and bob's credentials a development token that may call everything (sub = their identity). Default true. */
  devTokens?: boolean;
}

/** A gateway running in this process on loopback, with everything a test needs to call it. */
export interface TestGateway {
  gateway: Gateway;
  config: Config;
  addresses: GatewayAddresses;
  certs: DevCertificateSet;
  /** `127.0.0.1:<port>` of the main listener. */
  target: string;
  /** `127.0.0.1:<port>` of the health-only listener. */
  healthTarget: string;
  /** `http://127.0.0.1:<port>` of the admin listener. */
  adminUrl: string;
  /** Every log line the gateway wrote, parsed. */
  logs: Record<string, unknown>[];
  /** Channel credentials as one of the test identities. */
  credentials(identity?: TestClientIdentity): grpc.ChannelCredentials;
  /** A client of a service on the main listener; closed by `close()`. */
  client(serviceName: string, identity?: TestClientIdentity, channelOptions?: grpc.ChannelOptions): grpc.Client;
  /** Drains and stops the gateway, closes clients, removes temporary files. */
  close(): Promise<void>;
}

/** Starts a real gateway with real TLS on ephemeral loopback ports, with a private SQLite file. */
export async function startGateway(options: StartGatewayOptions = {}): Promise<TestGateway> {
  const ownCerts = options.certs === undefined;
  const certs = options.certs ?? makeTemporaryDevCertificates();
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-data-'));
  const config = loadConfig({
    overrides: {
      'server.host': '127.0.0.1',
      'server.port': 0,
      'server.tls.certFile': certs.serverCert,
      'server.tls.keyFile': certs.serverKey,
      'server.tls.clientCaFile': certs.caCert,
      'server.tls.generateDevCertificates': false,
      'server.shutdownGraceMs': 2000,
      'health.host': '127.0.0.1',
      'health.port': 0,
      'admin.host': '127.0.0.1',
      'admin.port': 0,
      'storage.sqlitePath': join(dataDir, 'gatehouse.db'),
      'logging.level': 'debug',
      'auth.devSigningKey.file': devSigningKeyFile(certs),
      // Speech engines take seconds to warm up: only tests that call them turn them on.
      'tts.enabled': false,
      'stt.enabled': false,
      ...options.overrides,
    },
  });
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({ level: config.logging.level, write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) });
  const routes = await discoverRoutes(config, logger);
  const gateway = createGateway({
    config,
    logger,
    services: options.services,
    extraServices: options.extraServices,
    telemetry: options.telemetry,
    routes,
  });
  const addresses = await gateway.listen();
  if (options.waitForWarmUp ?? true) await gateway.warmedUp();
  const clients: grpc.Client[] = [];
  const credentials = (identity: TestClientIdentity = 'alice') => {
    switch (identity) {
      case 'alice':
      case 'bob': {
        const channel = channelCredentials({ caFile: certs.caCert, certFile: certs.clients[identity].cert, keyFile: certs.clients[identity].key });
        return options.devTokens === false ? channel : withBearerToken(channel, devTokenFor(certs, identity, {}, config));
      }
      case 'untrusted':
        return channelCredentials({ caFile: certs.caCert, certFile: certs.untrusted.clientCert, keyFile: certs.untrusted.clientKey });
      case 'expired':
        return channelCredentials({ caFile: certs.caCert, certFile: certs.expired.cert, keyFile: certs.expired.key });
      case 'no-certificate':
        return channelCredentials({ caFile: certs.caCert });
      case 'insecure':
        return channelCredentials('insecure');
    }
  };
  const target = `127.0.0.1:${addresses.grpcPort}`;
  return {
    gateway,
    config,
    addresses,
    certs,
    target,
    healthTarget: `127.0.0.1:${addresses.healthPort ?? 0}`,
    adminUrl: `http://127.0.0.1:${addresses.adminPort ?? 0}`,
    logs,
    credentials,
    client(serviceName, identity = 'alice', channelOptions = {}) {
      // The certificate names localhost; naming it avoids Node's "TLS ServerName is an IP" warning.
      const tlsName = identity === 'insecure' ? {} : { 'grpc.ssl_target_name_override': 'localhost' };
      const client = createClient(serviceName, target, credentials(identity), { ...tlsName, ...channelOptions });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.close();
      await gateway.shutdown();
      rmSync(dataDir, { recursive: true, force: true });
      if (ownCerts) rmSync(certs.dir, { recursive: true, force: true });
    },
  };
}
