/**
 * Issue 12, item 20: is memory growth under hostile input a leak or a bounded cache? Rounds of hostile calls
 * (a new token per call, forged tokens, undecodable bodies, metadata floods, a new connection per batch) against
 * a real gateway in this process; after each round the heap is measured after a full GC. Caches fill in the
 * first rounds and stay at their bounds; a leak would grow the heap in proportion to the calls of every round.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { devTokenFor } from '../helpers/dev-token.js';
import { startGateway, type TestGateway } from '../helpers/start-gateway.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const CALLS_PER_ROUND = 600;
const ROUNDS = Number(process.env.MEMORY_ROUNDS ?? 4);
/** Allowed heap growth from the second round to the last, in bytes: an unbounded token cache adds ~3 MB per round. */
const MAX_GROWTH_BYTES = 2 * 1024 * 1024;

describe('memory under hostile input stays bounded', () => {
  let gw: TestGateway;
  before(async () => {
    // No token on the channel: each call brings its own. A small token cache, so it is full after the first round.
    gw = await startGateway({ devTokens: false, overrides: { 'logging.level': 'error', 'auth.tokenCacheSize': 100 } });
  });
  after(async () => {
    await gw?.close();
  });

  it(`${ROUNDS} rounds of ${CALLS_PER_ROUND} hostile calls: the heap stops growing once caches are full`, async (t) => {
    const identity = (b: Buffer) => b;
    let serial = 0;
    const shared = devTokenFor(gw.certs, 'alice');
    // Fresh tokens are made large (4 KiB of extra scopes), so an unbounded token cache would show plainly.
    const scopes = [
      ...String((JSON.parse(Buffer.from(shared.split('.')[1]!, 'base64url').toString()) as { scope: string }).scope).split(' '),
      ...Array.from({ length: 200 }, (_, i) => `padding.scope.${i}`),
    ];
    const fresh = () => devTokenFor(gw.certs, 'alice', { clientId: `hostile-${serial}`, scopes });
    const outcomes = new Map<string, number>();
    const heaps: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      for (let batch = 0; batch < CALLS_PER_ROUND / 50; batch += 1) {
        // A new connection per batch: per-connection state must go when the connection does.
        const client = new grpc.Client(gw.target, gw.credentials('alice'), {
          'grpc.ssl_target_name_override': 'localhost',
          'grpc.use_local_subchannel_pool': 1,
        });
        await Promise.all(
          Array.from({ length: 50 }, (_, i) => {
            serial += 1;
            const metadata = new grpc.Metadata();
            const kind = i % 4;
            // Every valid token is new (client_id differs): each one is verified and cached.
            if (kind === 0 || kind === 2) metadata.set('authorization', `Bearer ${fresh()}`);
            else if (kind === 1)
              metadata.set(
                'authorization',
                `Bearer ${randomBytes(24).toString('base64url')}.${randomBytes(60).toString('base64url')}.${randomBytes(32).toString('base64url')}`,
              );
            else metadata.set('authorization', `Bearer ${shared}`);
            if (kind === 2) for (let k = 0; k < 40; k += 1) metadata.set(`x-flood-${serial}-${k}`, randomBytes(20).toString('hex'));
            const body = kind === 3 ? randomBytes(40) : Buffer.from([0x0a, 0x03, 0x61, 0x62, 0x63]); // GetOrderRequest { order_id: 'abc' };
            return new Promise<void>((resolve) => {
              const call = client.makeUnaryRequest(
                '/cheesefarm.v1.CheeseService/GetOrder',
                identity,
                identity,
                body,
                metadata,
                { deadline: Date.now() + 5000 },
                () => {},
              );
              call.on('status', (status) => {
                const key = `${kind} ${grpc.status[status.code]}`;
                outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
                resolve();
              });
            });
          }),
        );
        client.close();
      }
      gw.logs.length = 0; // the test keeps every log line; those are the test's memory, not the server's
      await sleep(300);
      gc();
      gc();
      heaps.push(process.memoryUsage().heapUsed);
    }
    const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
    t.diagnostic(
      `heap after each round (MB): ${heaps.map(mb).join(', ')}; replies by kind and code: ${JSON.stringify(Object.fromEntries(outcomes))}`,
    );
    // Each kind reached the layer it was aimed at: new tokens were verified (then NOT_FOUND), forged ones refused.
    assert.ok((outcomes.get('0 NOT_FOUND') ?? 0) > 0 && (outcomes.get('1 UNAUTHENTICATED') ?? 0) > 0, JSON.stringify(Object.fromEntries(outcomes)));
    const growth = heaps[ROUNDS - 1]! - heaps[1]!;
    assert.ok(
      growth < MAX_GROWTH_BYTES,
      `the heap grew ${mb(growth)} MB over ${(ROUNDS - 2) * CALLS_PER_ROUND} hostile calls once caches were full: ${heaps.map(mb).join(', ')} MB`,
    );
  });
});
