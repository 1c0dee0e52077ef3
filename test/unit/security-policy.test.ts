import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AccessPolicyError, checkAccess, compileAccessPolicy, type AccessPolicyDocument } from '../../interceptors/access-policy.js';
import type { TokenPrincipal } from '../../interceptors/call-state.js';
import { compileIdentityPatterns } from '../../interceptors/identity-pattern.js';
import type { PeerIdentity } from '../../interceptors/peer-identity.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { loadPolicyDocument, scopesInPolicy } from '../../src/config/load-policy.js';

const ALICE = 'spiffe://gatehouse.dev/client/alice';
const BOB = 'spiffe://gatehouse.dev/client/bob';
const PATHS = ['/pkg.Svc/Read', '/pkg.Svc/Write', '/pkg.Other/Do', '/grpc.health.v1.Health/Check'];

const peer = (identity: string, thumbprint = 't'.repeat(43)): PeerIdentity => ({
  identity,
  source: 'uri',
  sans: [identity],
  thumbprintS256: thumbprint,
  notAfter: new Date(0),
});
const principal = (subject: string, scopes: string[], boundThumbprint?: string): TokenPrincipal => ({
  subject,
  scopes: new Set(scopes),
  boundThumbprint,
});

describe('identity patterns', () => {
  it('* stays within a path segment, ** crosses them, everything else is literal', () => {
    const match = compileIdentityPatterns(['spiffe://gatehouse.dev/client/*', 'spiffe://other.dev/**', 'host?.example.com', 'exact.name']);
    assert.ok(match(ALICE));
    assert.ok(!match('spiffe://gatehouse.dev/client/alice/extra'));
    assert.ok(!match('spiffe://gatehouse.dev/clientX/alice'));
    assert.ok(match('spiffe://other.dev/a/b/c'));
    assert.ok(match('host1.example.com'));
    assert.ok(!match('host1xexample.com'), 'a dot is literal');
    assert.ok(match('exact.name'));
    assert.ok(!match('exact.name.evil'));
    assert.ok(compileIdentityPatterns(['**'])('anything at all'));
  });

  it('no wildcard matches an empty path segment, which a SPIFFE ID cannot have (issue 12, item 6)', () => {
    const match = compileIdentityPatterns(['spiffe://gatehouse.dev/client/*', 'spiffe://other.dev/**', 'spiffe://third.dev/*/svc']);
    assert.ok(!match('spiffe://gatehouse.dev/client/'));
    assert.ok(!match('spiffe://other.dev/'));
    assert.ok(!match('spiffe://other.dev/a//b'));
    assert.ok(!match('spiffe://other.dev/a/'));
    assert.ok(!match('spiffe://third.dev//svc'));
    assert.ok(match('spiffe://third.dev/x/svc'));
    assert.ok(match('spiffe://other.dev/a/b'));
  });
});

describe('access policy', () => {
  const document: AccessPolicyDocument = {
    defaults: { identities: ['spiffe://gatehouse.dev/client/*'] },
    services: {
      'pkg.Svc': {
        scopes: ['svc.read'],
        methods: {
          Write: { scopes: ['svc.write', 'svc.audit'], identities: [ALICE], requireBoundToken: true, requireSubjectMatchesIdentity: true },
        },
      },
    },
  };
  const policy = compileAccessPolicy(document, { methodPaths: PATHS, exemptServices: ['grpc.health.v1.Health'] });

  it('resolves each method once: method over service over defaults; unnamed services have no rule (denied)', () => {
    assert.deepEqual(policy.paths, ['/pkg.Svc/Read', '/pkg.Svc/Write']);
    assert.deepEqual(policy.ruleFor('/pkg.Svc/Read')!.scopes, ['svc.read']);
    assert.deepEqual(policy.ruleFor('/pkg.Svc/Write')!.scopes, ['svc.write', 'svc.audit']);
    assert.equal(policy.ruleFor('/pkg.Other/Do'), undefined);
    assert.equal(policy.ruleFor('/grpc.health.v1.Health/Check'), undefined);
  });

  it('decides: certificate, identity, token, binding, sub, scopes', () => {
    const read = policy.ruleFor('/pkg.Svc/Read')!;
    const write = policy.ruleFor('/pkg.Svc/Write')!;
    const bound = 'b'.repeat(43);
    assert.equal(checkAccess(read, peer(BOB), principal(BOB, ['svc.read'])), undefined);
    assert.equal(checkAccess(read, undefined, principal(BOB, ['svc.read']))?.reason, 'CLIENT_CERTIFICATE_REQUIRED');
    assert.equal(checkAccess(read, peer('spiffe://evil.dev/client/x'), principal(BOB, ['svc.read']))?.reason, 'IDENTITY_NOT_ALLOWED');
    assert.equal(checkAccess(read, peer(BOB), undefined)?.reason, 'TOKEN_MISSING');
    assert.equal(checkAccess(read, peer(BOB), principal(BOB, []))?.message, 'scope svc.read required for /pkg.Svc/Read');
    assert.equal(checkAccess(write, peer(BOB), principal(BOB, ['svc.write', 'svc.audit'], bound))?.reason, 'IDENTITY_NOT_ALLOWED');
    assert.equal(checkAccess(write, peer(ALICE), principal(ALICE, ['svc.write', 'svc.audit']))?.reason, 'TOKEN_BINDING_REQUIRED');
    assert.equal(checkAccess(write, peer(ALICE), principal(BOB, ['svc.write', 'svc.audit'], bound))?.reason, 'TOKEN_SUBJECT_MISMATCH');
    assert.equal(checkAccess(write, peer(ALICE), principal(ALICE, ['svc.write'], bound))?.message, 'scope svc.audit required for /pkg.Svc/Write');
    assert.equal(checkAccess(write, peer(ALICE), principal(ALICE, ['svc.write', 'svc.audit'], bound)), undefined);
    assert.equal(checkAccess(read, peer(BOB), undefined)?.code, 16);
    assert.equal(checkAccess(read, peer(BOB), principal(BOB, []))?.code, 7);
  });

  it('a global allow-list narrows every rule; without one, a method with no identity rule needs no certificate', () => {
    const narrowed = compileAccessPolicy({ services: { 'pkg.Svc': { requireToken: false } } }, { methodPaths: PATHS, allowedIdentities: [ALICE] });
    assert.equal(checkAccess(narrowed.ruleFor('/pkg.Svc/Read')!, peer(BOB), undefined)?.reason, 'IDENTITY_NOT_ALLOWED');
    assert.equal(checkAccess(narrowed.ruleFor('/pkg.Svc/Read')!, undefined, undefined)?.reason, 'CLIENT_CERTIFICATE_REQUIRED');
    const open = compileAccessPolicy({ services: { 'pkg.Svc': { requireToken: false } } }, { methodPaths: PATHS });
    assert.equal(checkAccess(open.ruleFor('/pkg.Svc/Read')!, undefined, undefined), undefined);
  });

  it('lists every mistake at once: unknown services and methods, exempt services, contradictions', () => {
    assert.throws(
      () =>
        compileAccessPolicy(
          {
            services: {
              'pkg.Nope': {},
              'pkg.Svc': { methods: { Delete: {} }, requireToken: false, scopes: ['x'] },
              'grpc.health.v1.Health': {},
            },
          },
          { methodPaths: PATHS, exemptServices: ['grpc.health.v1.Health'] },
        ),
      (error: unknown) => {
        assert.ok(error instanceof AccessPolicyError);
        assert.equal(error.problems.length, 5, error.message);
        assert.match(error.message, /pkg.Nope: no such service/);
        assert.match(error.message, /pkg.Svc has no method Delete \(it has Read, Write\)/);
        assert.match(error.message, /grpc.health.v1.Health: exempt/);
        assert.match(error.message, /\/pkg.Svc\/Read: scopes are required but requireToken is false/);
        return true;
      },
    );
    // A service that exists in the protos but is not hosted now may be named.
    assert.doesNotThrow(() => compileAccessPolicy({ services: { 'pkg.Later': {} } }, { methodPaths: PATHS, knownMethodPaths: ['/pkg.Later/Go'] }));
  });
});

describe('policy file', () => {
  it('config/policy.yaml lets the development clients call every hosted method with a full development token', () => {
    const config = loadConfig({ file: 'config/default.yaml' });
    const document = loadPolicyDocument(config.policy);
    const scopes = scopesInPolicy(document);
    assert.deepEqual(scopes, ['cheese.order', 'cheese.read', 'stt.recognize', 'tts.synthesize']);
    const paths = ['Order', 'GetOrder', 'ListOrders', 'WatchOrders', 'PlaceOrders']
      .map((m) => `/cheesefarm.v1.CheeseService/${m}`)
      .concat(['/gatehouse.tts.v1.TextToSpeech/Synthesize', '/gatehouse.stt.v1.SpeechToText/StreamingRecognize']);
    const policy = compileAccessPolicy(document, { methodPaths: paths, allowedIdentities: config.auth.allowedIdentities });
    for (const path of paths) {
      for (const who of [ALICE, BOB])
        assert.equal(checkAccess(policy.ruleFor(path)!, peer(who), principal(who, scopes)), undefined, `${who} ${path}`);
      assert.equal(
        checkAccess(policy.ruleFor(path)!, peer('spiffe://gatehouse.dev/client/mallory/x'), principal(ALICE, scopes))?.reason,
        'IDENTITY_NOT_ALLOWED',
      );
    }
  });

  it('merges inline rules over the file and lists file problems in a ConfigError', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-policy-'));
    try {
      const file = join(dir, 'policy.yaml');
      writeFileSync(file, 'services:\n  a.B: { scopes: [x] }\n  c.D: { requireToken: false }\n');
      const merged = loadPolicyDocument({ file, services: { 'c.D': { scopes: ['y'] } } });
      assert.deepEqual(merged.services, { 'a.B': { scopes: ['x'] }, 'c.D': { scopes: ['y'] } });
      writeFileSync(file, 'services:\n  bad name: {}\n  a.B: { scopes: ["has space"], surprise: 1 }\n');
      assert.throws(
        () => loadPolicyDocument({ file }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError);
          assert.ok(error.problems.length >= 3, error.message);
          return true;
        },
      );
      assert.throws(() => loadPolicyDocument({ file: join(dir, 'missing.yaml') }), /does not exist/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
