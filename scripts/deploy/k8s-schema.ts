/**
 * Validation of rendered Kubernetes objects against the API schemas, offline.
 *
 * Two passes, both from the maintained kubernetes-models packages on npm:
 * 1. the JSON-schema validators shipped with each model (types, required
 *    fields, enums, formats), which like the API server ignore unknown fields;
 * 2. a strict pass that type-checks every object against the same models'
 *    TypeScript interfaces, whose excess-property check rejects unknown fields
 *    (`readOnlyRootFileSystem`, `grcp:`), the mistake the API server would only
 *    warn about or silently drop.
 * CRDs are covered by the cert-manager and prometheus-operator model packages.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** A parsed Kubernetes object; only the type meta is assumed. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** Model packages for API groups that kubernetes-models itself does not cover. */
const GROUP_PACKAGES: Readonly<Record<string, string>> = {
  'cert-manager.io': '@kubernetes-models/cert-manager/cert-manager.io',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator/monitoring.coreos.com',
};

/** `kubernetes-models/apps/v1/Deployment` for apps/v1 Deployment, and so on. */
export function modelModule(apiVersion: string, kind: string): string {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  if (group === '') return `kubernetes-models/${version}/${kind}`;
  return `${GROUP_PACKAGES[group] ?? `kubernetes-models/${group}`}/${version}/${kind}`;
}

/** `Deployment/gatehouse`, for messages. */
export const describe = (object: K8sObject): string => `${object.kind}/${object.metadata?.name ?? '?'}`;

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** Pass 1: each object against its model's JSON schema. Returns one line per problem. */
export async function validateSchemas(objects: readonly K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const object of objects) {
    const specifier = modelModule(object.apiVersion, object.kind);
    let Model: ModelClass | undefined;
    try {
      Model = ((await import(specifier)) as Record<string, ModelClass>)[object.kind];
    } catch {
      Model = undefined;
    }
    if (!Model) {
      problems.push(`${describe(object)}: no schema for ${object.apiVersion} ${object.kind} (${specifier}); add its kubernetes-models package`);
      continue;
    }
    try {
      new Model(object).validate();
    } catch (error) {
      const details = (error as { errors?: { instancePath?: string; message?: string }[] }).errors;
      if (details?.length) {
        for (const detail of details) problems.push(`${describe(object)}: ${detail.instancePath || '/'} ${detail.message ?? 'invalid'}`);
      } else {
        problems.push(`${describe(object)}: ${(error as Error).message}`);
      }
    }
  }
  return problems;
}

/** Where the virtual source lives: inside the repository, so node_modules resolves as for real code. */
const VIRTUAL_FILE = join(dirname(fileURLToPath(import.meta.url)), '__rendered_manifests__.ts');

/** An object and how to name it in messages (for example `production: Deployment/gatehouse`). */
export interface LabelledObject {
  where: string;
  object: K8sObject;
}

/**
 * Pass 2: unknown fields and wrong types, by type-checking each object as an
 * object literal of its model's interface. Takes a few seconds (the compiler
 * loads a few hundred declaration files), so check every overlay in one call.
 * Returns one line per problem.
 */
export function checkUnknownFields(entries: readonly LabelledObject[]): string[] {
  const lines: string[] = [];
  const owners: { firstLine: number; where: string }[] = [];
  entries.forEach(({ object }, index) => {
    lines.push(`import type { I${object.kind} as T${index} } from ${JSON.stringify(modelModule(object.apiVersion, object.kind))};`);
  });
  entries.forEach(({ object, where }, index) => {
    owners.push({ firstLine: lines.length, where });
    lines.push(...`export const o${index}: T${index} = ${JSON.stringify(object, null, 2)};`.split('\n'));
  });
  const source = lines.join('\n');

  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, language, ...rest) =>
    name === VIRTUAL_FILE ? ts.createSourceFile(name, source, language) : getSourceFile.call(host, name, language, ...rest);
  host.fileExists = (name) => name === VIRTUAL_FILE || fileExists.call(host, name);
  host.readFile = (name) => (name === VIRTUAL_FILE ? source : readFile.call(host, name));
  const program = ts.createProgram([VIRTUAL_FILE], options, host);

  const problems: string[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    if (diagnostic.file?.fileName !== VIRTUAL_FILE || diagnostic.start === undefined) {
      problems.push(message);
      continue;
    }
    const line = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line;
    if (line < entries.length) {
      // An import line: no model types for this kind.
      problems.push(`${entries[line]!.where}: no types: ${message}`);
      continue;
    }
    const owner = [...owners].reverse().find((candidate) => candidate.firstLine <= line);
    problems.push(`${owner?.where ?? '?'}: ${message} (at ${lines[line]!.trim()})`);
  }
  return problems;
}
