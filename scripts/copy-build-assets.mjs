// Part of `npm run build`: tsc emits only JavaScript, so the other files the server reads next to its modules
// (src/proto/descriptor-set.binpb, ...) are copied to the same place under dist/. Plain JavaScript: it runs in the
// image's build stage and before any TypeScript tooling.
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const SOURCE_DIRS = ['src', 'interceptors'];
let copied = 0;
for (const dir of SOURCE_DIRS) {
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith('.ts')) continue;
    const from = join(entry.parentPath ?? entry.path, entry.name);
    cpSync(from, join('dist', from));
    copied++;
  }
}
console.log(`copy-build-assets: ${copied} file(s) copied to dist/`);
