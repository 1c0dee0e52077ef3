#!/usr/bin/env node
// Container HEALTHCHECK: one grpc.health.v1.Health/Check against the plaintext
// health-only listener, the same question the kubelet's `grpc` probe asks.
// Plain JavaScript on purpose: it must not depend on tsx (no compile step, no
// cache in /tmp on a read-only root filesystem) nor on a grpc_health_probe
// binary that the image would have to download.
//
// Usage: node deploy/healthcheck.mjs [host:port] [service]
//   host:port  default $GATEHOUSE_HEALTHCHECK_TARGET or 127.0.0.1:8081
//   service    default "" (the whole server; NOT_SERVING while draining)
// Exit status: 0 when the answer is SERVING, 1 otherwise (what Docker expects).
import grpc from '@grpc/grpc-js';
import health from 'grpc-health-check';

const target = process.argv[2] ?? process.env.GATEHOUSE_HEALTHCHECK_TARGET ?? '127.0.0.1:8081';
const service = process.argv[3] ?? '';
/** Docker's own --timeout kills us anyway; answer before it so the log says why. */
const deadlineMs = 2500;

const HealthClient = grpc.makeGenericClientConstructor(health.service, 'Health');
const client = new HealthClient(target, grpc.credentials.createInsecure());

client.check({ service }, { deadline: Date.now() + deadlineMs }, (error, response) => {
  client.close();
  if (error) {
    console.error(`unhealthy: ${target} ${JSON.stringify(service)}: ${error.message}`);
    process.exit(1);
  }
  const status = response?.status;
  if (status === 'SERVING' || status === 1) {
    console.log(`healthy: ${target} ${JSON.stringify(service)} SERVING`);
    process.exit(0);
  }
  console.error(`unhealthy: ${target} ${JSON.stringify(service)} ${status}`);
  process.exit(1);
});
