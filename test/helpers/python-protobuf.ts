import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROTO_DIR } from '../../src/proto/load.js';

/** Debian's Python with python3-protobuf (the pyenv `python3` on PATH lacks it). */
const PYTHON = '/usr/bin/python3';

const SCRIPT = `
import json, sys, importlib, warnings
warnings.simplefilter('ignore')
from google.protobuf import json_format
module_name, message_name = sys.argv[1], sys.argv[2]
cls = getattr(importlib.import_module(module_name), message_name)
out = []
for hex_bytes in json.load(sys.stdin):
    m = cls()
    try:
        m.ParseFromString(bytes.fromhex(hex_bytes))
        out.append({"ok": json_format.MessageToDict(m, preserving_proto_field_name=True, including_default_value_fields=True)})
    except Exception as e:
        out.append({"error": type(e).__name__})
print(json.dumps(out))
`;

const WELL_KNOWN = (name: string) => `syntax = "proto3";\npackage google.protobuf;\nmessage ${name} { int64 seconds = 1; int32 nanos = 2; }\n`;

const GOOGLE_API_PROTOS = ['google/api/http.proto', 'google/api/annotations.proto'];

/** What Python's protobuf made of one message: its fields as MessageToDict writes them, or the error it raised. */
export type PythonDecoding = { ok: Record<string, unknown> } | { error: string };

/**
 * Decodes many messages with Python's protobuf (the C++ implementation Debian
 * ships) in one process: the reference for "read the same as other decoders".
 * `protoFile` is relative to proto/, `message` a name in it.
 */
export function decodeWithPython(protoFile: string, message: string, messages: readonly Uint8Array[]): PythonDecoding[] {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-pyproto-'));
  try {
    // protoc needs the imported well-known protos' text, which Debian ships only with libprotobuf-dev; these
    // declarations are only read by protoc: at run time Python uses its own google.protobuf modules.
    const wellKnown = join(dir, 'well-known');
    mkdirSync(join(wellKnown, 'google/protobuf'), { recursive: true });
    writeFileSync(join(wellKnown, 'google/protobuf/timestamp.proto'), WELL_KNOWN('Timestamp'));
    writeFileSync(join(wellKnown, 'google/protobuf/duration.proto'), WELL_KNOWN('Duration'));
    // The HTTP annotations (google/api/*) are imported by our protos: their modules must exist for the import.
    execFileSync('protoc', [`-I${PROTO_DIR}`, `-I${wellKnown}`, `--python_out=${dir}`, protoFile, ...GOOGLE_API_PROTOS]);
    writeFileSync(join(dir, 'decode.py'), SCRIPT);
    const module = protoFile.replace(/\.proto$/, '_pb2').replace(/\//g, '.');
    const output = execFileSync(PYTHON, [join(dir, 'decode.py'), module, message], {
      cwd: dir,
      env: { ...process.env, PYTHONPATH: dir },
      input: JSON.stringify(messages.map((m) => Buffer.from(m).toString('hex'))),
      maxBuffer: 64 << 20,
    });
    return JSON.parse(output.toString('utf8')) as PythonDecoding[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
