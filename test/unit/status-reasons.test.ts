/**
 * The reason catalogue (src/status/reasons.ts) is complete and the README's
 * table is generated from it: every reason the code uses (read from the
 * source's syntax tree, so a new string literal anywhere is seen) is
 * catalogued with the code it is used with, every catalogued reason is used,
 * and the README shows the current table.
 */
import { status as Status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { INTERCEPTOR_REASONS } from '../../interceptors/reasons.js';
import { withReasonTable } from '../../src/status/reason-table.js';
import { genericReason, HTTP_STATUS_FOR_CODE, REASONS } from '../../src/status/reasons.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REASON_SHAPE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;

/** Functions whose first argument is a reason, with the code that reason must have (undefined: any). */
const REASON_TAKERS: Readonly<Record<string, Status | undefined>> = {
  GatehouseError: undefined,
  notFound: Status.NOT_FOUND,
  failedPrecondition: Status.FAILED_PRECONDITION,
  unavailable: Status.UNAVAILABLE,
  resourceExhausted: Status.RESOURCE_EXHAUSTED,
  unauthenticated: Status.UNAUTHENTICATED,
  permissionDenied: Status.PERMISSION_DENIED,
};

interface ReasonUse {
  reason: string;
  /** The code the code pairs it with, when it says. */
  code?: Status;
  where: string;
}

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'generated') files.push(...sourceFiles(path));
    } else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) {
      files.push(path);
    }
  }
  return files;
}

/** A string literal, seen through `as`, `satisfies`, `!` and parentheses; undefined for anything else. */
function literal(node: ts.Expression): ts.StringLiteralLike | undefined {
  let inner: ts.Expression = node;
  while (ts.isAsExpression(inner) || ts.isSatisfiesExpression(inner) || ts.isParenthesizedExpression(inner) || ts.isNonNullExpression(inner))
    inner = inner.expression;
  return ts.isStringLiteralLike(inner) && REASON_SHAPE.test(inner.text) ? inner : undefined;
}

/** Every reason literal in a file: arguments of the reason-taking functions and `reason:` properties of object literals. */
function reasonUses(path: string): ReasonUse[] {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
  const uses: ReasonUse[] = [];
  const where = (node: ts.Node) => `${relative(ROOT, path)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  const visit = (node: ts.Node): void => {
    if ((ts.isCallExpression(node) || ts.isNewExpression(node)) && node.arguments?.length) {
      const callee = ts.isIdentifier(node.expression)
        ? node.expression.text
        : ts.isPropertyAccessExpression(node.expression)
          ? node.expression.name.text
          : '';
      const first = literal(node.arguments[0]!);
      if (callee in REASON_TAKERS && first) {
        uses.push({ reason: first.text, code: REASON_TAKERS[callee], where: where(first) });
      }
    }
    if (ts.isObjectLiteralExpression(node)) {
      let reason: ts.StringLiteralLike | undefined;
      let code: Status | undefined;
      for (const property of node.properties) {
        if (!ts.isPropertyAssignment(property) || !ts.isIdentifier(property.name)) continue;
        if (property.name.text === 'reason') reason = literal(property.initializer) ?? reason;
        if (property.name.text === 'code' && ts.isPropertyAccessExpression(property.initializer)) {
          const name = property.initializer.name.text as keyof typeof Status;
          if (typeof Status[name] === 'number') code = Status[name];
        }
      }
      if (reason) uses.push({ reason: reason.text, code, where: where(reason) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return uses;
}

const uses = [...sourceFiles(join(ROOT, 'src')), ...sourceFiles(join(ROOT, 'interceptors'))].flatMap(reasonUses);
const catalogue = REASONS as Readonly<Record<string, { code: Status; http: number; retryable: boolean; meaning: string }>>;

test('the scan sees reasons in services, status mapping and interceptors (it cannot pass by finding nothing)', () => {
  const found = new Set(uses.map((u) => u.reason));
  for (const known of [
    'ORDER_NOT_FOUND',
    'ENGINE_BUSY',
    'ENGINE_WORKER_FAILED',
    'REQUEST_UNDECODABLE',
    'RATE_LIMITED',
    'TOKEN_EXPIRED',
    'SCOPE_MISSING',
  ]) {
    assert.ok(found.has(known), `the scan missed ${known}`);
  }
});

test('every reason used in code is catalogued, with the code it is used with', () => {
  for (const use of uses) {
    const entry = catalogue[use.reason];
    assert.ok(entry, `${use.where}: reason ${use.reason} is not in src/status/reasons.ts`);
    if (use.code !== undefined) {
      assert.equal(
        Status[entry.code],
        Status[use.code],
        `${use.where}: ${use.reason} is used with ${Status[use.code]}, catalogued as ${Status[entry.code]}`,
      );
    }
  }
});

test('every interceptor reason (interceptors/reasons.ts) is catalogued', () => {
  for (const reason of INTERCEPTOR_REASONS) assert.ok(catalogue[reason], `interceptors/reasons.ts names ${reason}, which the catalogue lacks`);
});

test('every catalogued reason is used somewhere (no stale entries)', () => {
  const used = new Set<string>([...uses.map((u) => u.reason), ...INTERCEPTOR_REASONS]);
  for (let code = 1; code <= 16; code++) used.add(genericReason(code));
  for (const reason of Object.keys(catalogue)) assert.ok(used.has(reason), `${reason} is catalogued but nothing sends it`);
});

test('every entry is well-formed: a sendable code, its HTTP status, a one-line meaning', () => {
  for (const [reason, entry] of Object.entries(catalogue)) {
    assert.match(reason, REASON_SHAPE);
    assert.ok(entry.code !== Status.OK && entry.code !== Status.UNKNOWN, `${reason} has code ${Status[entry.code]}`);
    // The code's usual HTTP status, or a more precise one of the same kind (413 for a request too large).
    const usual = HTTP_STATUS_FOR_CODE[entry.code]!;
    assert.ok(
      entry.http === usual || Math.floor(entry.http / 100) === Math.floor(usual / 100),
      `${reason}: HTTP ${entry.http} for ${Status[entry.code]}`,
    );
    assert.equal(typeof entry.retryable, 'boolean');
    assert.ok(entry.meaning.length > 10 && !entry.meaning.includes('\n'), `${reason}: meaning ${JSON.stringify(entry.meaning)}`);
  }
  for (let code = 1; code <= 16; code++) {
    if (code === Status.UNKNOWN) continue;
    assert.equal(catalogue[genericReason(code)]!.code, code, `the generic reason for ${Status[code]}`);
  }
});

test('README.md shows the table generated from the catalogue (npm run gen:reasons)', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  assert.equal(readme, withReasonTable(readme), "README.md's reason table is out of date: run `npm run gen:reasons`");
  for (const reason of Object.keys(catalogue)) assert.ok(readme.includes(`| \`${reason}\` |`), `README lacks ${reason}`);
});
