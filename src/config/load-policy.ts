import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import type { AccessPolicyDocument } from '../../interceptors/access-policy.js';
import { ConfigError } from './load.js';
import { PolicyDocumentSchema, type PolicyConfig } from './policy-schema.js';

/**
 * Reads and validates the policy file, then merges the inline rules over it.
 * Every problem is listed in one ConfigError. A missing file is an error
 * unless inline rules are given.
 */
export function loadPolicyDocument(section: PolicyConfig): AccessPolicyDocument {
  const problems: string[] = [];
  let fromFile: z.infer<typeof PolicyDocumentSchema> = { services: {} };
  const path = resolve(section.file);
  if (existsSync(path)) {
    let raw: unknown;
    try {
      raw = YAML.parse(readFileSync(path, 'utf8')) ?? {};
    } catch (error) {
      problems.push(`${section.file}: ${(error as Error).message}`);
    }
    if (problems.length === 0) {
      const parsed = PolicyDocumentSchema.safeParse(raw);
      if (parsed.success) fromFile = parsed.data;
      else problems.push(...parsed.error.issues.map((issue) => `${section.file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`));
    }
  } else if (section.services === undefined) {
    problems.push(`policy.file: ${section.file} does not exist, and no inline policy.services are given; every method would be denied`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    defaults: section.defaults ?? fromFile.defaults,
    services: { ...fromFile.services, ...section.services },
  };
}

/** Every scope the policy names, sorted: what a development token needs to call everything. */
export function scopesInPolicy(document: AccessPolicyDocument): string[] {
  const scopes = new Set<string>(document.defaults?.scopes ?? []);
  for (const service of Object.values(document.services)) {
    for (const s of service.scopes ?? []) scopes.add(s);
    for (const method of Object.values(service.methods ?? {})) for (const s of method.scopes ?? []) scopes.add(s);
  }
  return [...scopes].sort();
}
