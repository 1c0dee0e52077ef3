import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/logging/logger.js';
import { discoverRoutes } from '../../src/upstream/discover-routes.js';
import { createRetryBudget } from '../../src/upstream/retry-budget.js';
import { routeCovers } from '../../src/upstream/route-match.js';
import { freePort } from '../helpers/free-port.js';

const silent = createLogger({ level: 'silent' });

/** The problems a config with these overrides is refused for. */
function problemsOf(overrides: Record<string, unknown>): string[] {
  try {
    loadConfig({ overrides });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return [...error.problems];
  }
  return [];
}

/** The problems discovery refuses these routes for (it runs at start, before the gateway listens). */
async function discoveryProblems(overrides: Record<string, unknown>): Promise<string[]> {
  try {
    await discoverRoutes(loadConfig({ overrides }), silent);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return [...error.problems];
  }
  return [];
}

describe('upstreams and routes in config', () => {
  it('a route naming no configured upstream, a bad target, mtls without a certificate and a dns target among others are refused', () => {
    const problems = problemsOf({
      upstreams: {
        a: { targets: ['127.0.0.1:6000', 'dns:///cheese.internal:6000'] },
        b: { targets: ['not a target'], tls: { mode: 'mtls' } },
      },
      routes: [
        { service: 'cheesefarm.CheeseService', upstream: 'nowhere' },
        { service: 'helloworld.Greeter', upstream: 'a', descriptorSetFile: 'x.binpb', protoFiles: ['x.proto'] },
      ],
    });
    const text = problems.join('\n');
    assert.match(text, /routes\.0\.upstream: no upstream named nowhere \(upstreams: a, b\)/);
    assert.match(text, /upstreams\.b\.targets\.0: a target is host:port/);
    assert.match(text, /upstreams\.b\.tls: mode mtls needs certFile and keyFile/);
    assert.match(text, /upstreams\.a\.targets: a dns:\/\/\/ target must be the only target/);
    assert.match(text, /routes\.1\.protoFiles: name either descriptorSetFile or protoFiles, not both/);
  });

  it('a valid section loads with documented defaults', () => {
    const config = loadConfig({
      overrides: { upstreams: { legacy: { targets: ['127.0.0.1:6000'] } }, routes: [{ service: 'tinkoff.*', upstream: 'legacy' }] },
    });
    assert.equal(config.upstreams.legacy!.tls.mode, 'insecure');
    assert.equal(config.upstreams.legacy!.ejection.consecutiveFailures, 3);
    assert.deepEqual(config.routes[0]!.retry.idempotentMethods, []);
    assert.equal(config.routes[0]!.retry.budgetRatio, 0.2);
  });

  it('a route over a service the gateway hosts is refused before anything is asked of the network', async () => {
    const upstreams = { u: { targets: ['127.0.0.1:1'] } };
    for (const service of ['cheesefarm.v1.CheeseService', 'cheesefarm.*', 'grpc.health.v1.Health', 'gatehouse.*']) {
      const problems = await discoveryProblems({ upstreams, routes: [{ service, upstream: 'u' }] });
      assert.match(problems.join('\n'), /which the gateway hosts itself/, service);
    }
  });

  it('an upstream whose reflection never answers stops the start with its name, not its address', async () => {
    const port = await freePort();
    const problems = await discoveryProblems({
      upstreams: { legacy: { targets: [`127.0.0.1:${port}`], discovery: { startTimeoutMs: 300 } } },
      routes: [{ service: 'helloworld.Greeter', upstream: 'legacy' }],
    });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^upstreams\.legacy: server reflection did not answer within 300 ms .*descriptorSetFile/);
    assert.doesNotMatch(problems[0]!, /127\.0\.0\.1|:\d{4,5}\b/);
  });

  it('the policy accepts a bare service name (a proto without package)', () => {
    assert.deepEqual(problemsOf({ 'policy.services': { Search: {} } }), []);
  });
});

describe('route patterns and the retry budget', () => {
  it('a full name covers itself only; a package prefix covers its package and those below', () => {
    assert.ok(routeCovers('helloworld.Greeter', 'helloworld.Greeter'));
    assert.ok(!routeCovers('helloworld.Greeter', 'helloworld.GreeterV2'));
    assert.ok(routeCovers('tinkoff.*', 'tinkoff.Search'));
    assert.ok(routeCovers('tinkoff.*', 'tinkoff.cards.v1.Cards'));
    assert.ok(!routeCovers('tinkoff.*', 'tinkoffx.Search'));
    assert.ok(routeCovers('Search', 'Search'));
  });

  it('retries never exceed the ratio of calls made', () => {
    const budget = createRetryBudget({ ratio: 0.2 });
    let retries = 0;
    for (let i = 0; i < 1000; i++) {
      budget.onCall();
      while (budget.tryRetry()) retries++;
    }
    assert.equal(retries, 200);
    const fresh = createRetryBudget({ ratio: 0.2 });
    fresh.onCall();
    assert.equal(fresh.tryRetry(), false, 'a fresh budget has nothing saved up');
  });
});
