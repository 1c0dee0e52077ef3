/**
 * Checks the one layering rule tsc cannot: `interceptors/` is a library that depends on grpc-js and never on the
 * server in `src/` (DESIGN.md, README architecture). Every import of every file under interceptors/ (static, type-only,
 * re-exports, dynamic `import()`, `require`) is resolved against the file's folder; one that lands in src/ fails,
 * naming the file, line and specifier. Run by `npm run lint` and so by .ci/run.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const library = join(root, 'interceptors');
const forbidden = join(root, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(c|m)?[jt]s$/.test(name) ? [path] : [];
  });
}

const violations: string[] = [];
for (const file of sourceFiles(library)) {
  const text = readFileSync(file, 'utf8');
  // preProcessFile lists every module reference without type-checking; `true, true`: imports and dynamic imports.
  const { importedFiles } = ts.preProcessFile(text, true, true);
  for (const reference of importedFiles) {
    const specifier = reference.fileName;
    if (!specifier.startsWith('.') && !specifier.startsWith('/')) continue; // a package, not a repository file
    const target = resolve(dirname(file), specifier);
    if (target === forbidden || target.startsWith(forbidden + sep)) {
      const line = text.slice(0, reference.pos).split('\n').length;
      violations.push(`${relative(root, file)}:${line}: imports ${specifier} (${relative(root, target)})`);
    }
  }
}

if (violations.length > 0) {
  console.error(`interceptors/ must never import from src/ (pass what it needs in through options instead):\n  ${violations.join('\n  ')}`);
  process.exit(1);
}
console.log(`interceptors/ imports nothing from src/ (${sourceFiles(library).length} files checked)`);
