import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/logging/logger.js';

/** Every line the logger writes, parsed. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }) };
}

describe('logger redaction (issue 12, item 1)', () => {
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
  const opaque = 'opaque-0123456789abcdef';

  it('removes bearer tokens of any shape, separator and case from messages and field values', () => {
    const { lines, logger } = capture();
    logger.warn(`Failed to add metadata entry authorization: Bearer ${jwt},Bearer\t${opaque}. Metadata value must be valid`);
    logger.info('call', { detail: `bEaReR%20${opaque}`, nested: { text: `x Bearer  ${opaque} y` }, list: [`Bearer\t\t${opaque}`] });
    logger.error(`header was authorization=${opaque}`);
    const text = JSON.stringify(lines);
    assert.ok(!text.includes(opaque), text);
    assert.ok(!text.includes('eyJzdWIiOiJhbGljZSJ9'), text);
    assert.equal(lines[0]!.msg, 'Failed to add metadata entry authorization: [REDACTED]');
    assert.equal(lines[2]!.msg, 'header was authorization= [REDACTED]');
  });

  it('leaves prose and placeholders readable', () => {
    const { lines, logger } = capture();
    logger.info('bearer token is not a JWT: expected three base64url parts separated by dots');
    logger.info('more than one authorization header; send exactly one "authorization: Bearer <token>"');
    assert.equal(lines[0]!.msg, 'bearer token is not a JWT: expected three base64url parts separated by dots');
    assert.equal(lines[1]!.msg, 'more than one authorization header; send exactly one "authorization: Bearer <token>"');
  });
});
