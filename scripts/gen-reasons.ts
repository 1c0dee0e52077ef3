/**
 * Writes the reason catalogue (src/status/reasons.ts) into README.md's error
 * table. `--check` fails instead when the README differs, so CI catches a
 * reason added without regenerating.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withReasonTable } from '../src/status/reason-table.js';

const readmePath = fileURLToPath(new URL('../README.md', import.meta.url));
const current = readFileSync(readmePath, 'utf8');
const wanted = withReasonTable(current);
if (process.argv.includes('--check')) {
  if (wanted !== current) {
    console.error("README.md's reason table is out of date: run `npm run gen:reasons`");
    process.exit(1);
  }
} else if (wanted !== current) {
  writeFileSync(readmePath, wanted);
  console.log('README.md: reason table updated');
}
