import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { benchGatewayConfig, makeBenchFiles } from '../../bench/external/bench-files.js';
import { BENCH_STREAM_SERVICE, benchStreamDefinition } from '../../bench/external/bench-stream-service.js';
import { CHAIN_LAYERS, chainWith } from '../../bench/external/chain-layers.js';
import { STEP_NAMES } from '../../interceptors/gateway-call.js';
import { buildInterceptorChain } from '../../src/chain.js';
import { createLogger } from '../../src/logging/logger.js';

/**
 * The external benchmark measures each chain layer alone through chainWith();
 * when src/chain.ts changes its steps, this fails here (naming the one function
 * to adapt) instead of the benchmark measuring the wrong layer under a name.
 */
describe('external benchmark: one chain layer alone', () => {
  const files = makeBenchFiles();
  after(() => rmSync(files.dir, { recursive: true, force: true }));
  const deps = () => ({
    config: benchGatewayConfig(files),
    registry: new Registry(),
    logger: createLogger({ level: 'silent' }),
    // The bench config's policy names the bench stream service, so the listener must host it, as the bench gateway does.
    services: [{ name: BENCH_STREAM_SERVICE, definition: benchStreamDefinition() }],
  });

  it('names steps the chain has, every step once across the layers, and builds each layer alone', () => {
    assert.equal(chainWith('all'), undefined);
    assert.deepEqual(chainWith('none'), []);
    const covered = CHAIN_LAYERS.flatMap((layer) => chainWith(layer) ?? []);
    assert.deepEqual([...covered].sort(), [...STEP_NAMES].sort(), "the layers do not cover the chain's steps exactly once");
    for (const layer of CHAIN_LAYERS) {
      const chain = buildInterceptorChain({ ...deps(), steps: chainWith(layer) });
      assert.equal(typeof chain.interceptor, 'function', layer);
      chain.stop();
    }
  });
});
