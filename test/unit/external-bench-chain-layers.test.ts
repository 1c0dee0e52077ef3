import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { benchGatewayConfig, makeBenchFiles } from '../../bench/external/bench-files.js';
import { BENCH_STREAM_SERVICE, benchStreamDefinition } from '../../bench/external/bench-stream-service.js';
import { CHAIN_LAYERS, chainWith } from '../../bench/external/chain-layers.js';
import { createHealthState } from '../../src/health/health-state.js';
import { createLogger } from '../../src/logging/logger.js';

/**
 * The external benchmark measures each chain layer alone through chainWith();
 * when src/chain.ts changes shape, this fails here (naming the one function to
 * adapt) instead of the benchmark measuring the wrong layer under a name.
 */
describe('external benchmark: one chain layer alone', () => {
  const files = makeBenchFiles();
  after(() => rmSync(files.dir, { recursive: true, force: true }));
  const deps = () => ({
    config: benchGatewayConfig(files), registry: new Registry(), logger: createLogger({ level: 'silent' }),
    // The bench config's policy names the bench stream service, so the listener must host it, as the bench gateway does.
    health: createHealthState([]), services: [{ name: BENCH_STREAM_SERVICE, definition: benchStreamDefinition() }],
  });

  it('builds the whole chain, no interceptor, and each layer alone', () => {
    const whole = chainWith('all')(deps());
    assert.ok(whole.length > 0);
    assert.deepEqual(chainWith('none')(deps()), []);
    for (const layer of CHAIN_LAYERS) {
      const alone = chainWith(layer)(deps());
      assert.equal(alone.length, layer === 'auth' ? 2 : 1, layer);
      assert.ok(alone.length < whole.length, layer);
    }
  });
});
