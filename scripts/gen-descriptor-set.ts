/**
 * Builds the FileDescriptorSet that server reflection serves
 * (src/proto/descriptor-set.binpb) with protoc, from proto/ plus the
 * well-known types Debian's libprotobuf-dev installs: the compiler's own
 * descriptors, with original field names, `XxxEntry` map entries, real file
 * names, every dependency and the comments (grpcurl `describe` shows them).
 * `--check` rebuilds into a temporary file and fails when the committed one
 * differs, so CI catches a proto edited without regenerating.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DESCRIPTOR_SET_FILE, REFLECTED_PROTO_FILES } from '../src/proto/descriptor-files.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');
const wellKnown = '/usr/include/google/protobuf/timestamp.proto';
if (!existsSync(wellKnown)) {
  console.error(`${wellKnown} is missing: install Debian's protobuf-compiler and libprotobuf-dev (.ci/install-system-deps.sh)`);
  process.exit(1);
}

const out = mkdtempSync(join(tmpdir(), 'gatehouse-descriptors-'));
try {
  const fresh = join(out, 'descriptor-set.binpb');
  // protoc finds google/protobuf/* under /usr/include by itself (Debian's build); proto/ holds the rest.
  execFileSync(
    'protoc',
    ['-I', join(root, 'proto'), '--include_imports', '--include_source_info', `--descriptor_set_out=${fresh}`, ...REFLECTED_PROTO_FILES],
    {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const name = relative(root, DESCRIPTOR_SET_FILE);
  if (check) {
    if (!existsSync(DESCRIPTOR_SET_FILE) || !readFileSync(DESCRIPTOR_SET_FILE).equals(readFileSync(fresh))) {
      console.error(`${name} is out of date with proto/ (run npm run gen:proto)`);
      process.exit(1);
    }
    console.log(`${name} matches proto/ (${REFLECTED_PROTO_FILES.length} files and their imports)`);
  } else {
    writeFileSync(DESCRIPTOR_SET_FILE, readFileSync(fresh));
    console.log(`wrote ${name} (${readFileSync(fresh).length} bytes)`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
