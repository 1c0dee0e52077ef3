/**
 * Just enough of WASI preview1, in JavaScript, to run the Flite command-line program: arguments, a clock, stdout
 * and stderr captured, and one pre-opened directory that lives in memory. Flite writes its WAV output there and we
 * read it back without touching the disk. Node's own `node:wasi` would also do, but it needs a real writable
 * directory (the production image has a read-only root) and writes every sentence to disk, and it still prints an
 * ExperimentalWarning on Node 24. (It crashed the process in worker threads once on Node 20; re-checked on Node 24.22
 * and 20.20 with four workers running Flite 20 times each, it did not.)
 */

const ERRNO_SUCCESS = 0;
const ERRNO_BADF = 8;
const ERRNO_INVAL = 28;
const ERRNO_NOENT = 44;
const ERRNO_NOSYS = 52;
const FILETYPE_CHARACTER_DEVICE = 2;
const FILETYPE_DIRECTORY = 3;
const FILETYPE_REGULAR_FILE = 4;
const OFLAGS_CREAT = 1;
const OFLAGS_TRUNC = 8;
const PREOPEN_FD = 3;

/** Thrown from `proc_exit` to unwind the WASM stack; carries the exit code. */
class ProcExit {
  constructor(readonly code: number) {}
}

interface OpenFile {
  name: string;
  position: number;
}

/** Result of running a WASI program with `runWasiProgram`. */
export interface WasiRunResult {
  /** Exit code (0 when `_start` returned normally). */
  exitCode: number;
  /** Files the program created in its in-memory directory, by name. */
  files: Map<string, Uint8Array>;
  /** Everything written to stdout and stderr, as text. */
  output: string;
}

/** Runs `_start` of a WASI command module with `args` (args[0] is the program name) and an in-memory `.` directory. */
export function runWasiProgram(module: WebAssembly.Module, args: readonly string[]): WasiRunResult {
  const encoder = new TextEncoder();
  const argBytes = args.map((a) => encoder.encode(`${a}\0`));
  const files = new Map<string, Uint8Array>();
  const sizes = new Map<string, number>();
  const open = new Map<number, OpenFile>();
  let nextFd = PREOPEN_FD + 1;
  let output = '';
  let memory: WebAssembly.Memory | undefined;
  const view = () => new DataView(memory!.buffer);
  const bytes = () => new Uint8Array(memory!.buffer);

  const writeFile = (file: OpenFile, data: Uint8Array): void => {
    const size = sizes.get(file.name) ?? 0;
    let store = files.get(file.name) ?? new Uint8Array(0);
    const end = file.position + data.length;
    if (end > store.length) {
      // Grow geometrically: Flite writes its WAV in many small pieces.
      const grown = new Uint8Array(Math.max(end, store.length * 2, 4096));
      grown.set(store.subarray(0, size));
      store = grown;
      files.set(file.name, store);
    }
    store.set(data, file.position);
    file.position = end;
    sizes.set(file.name, Math.max(size, end));
  };

  const imports = {
    args_sizes_get(argcPtr: number, bufSizePtr: number): number {
      view().setUint32(argcPtr, argBytes.length, true);
      view().setUint32(
        bufSizePtr,
        argBytes.reduce((n, b) => n + b.length, 0),
        true,
      );
      return ERRNO_SUCCESS;
    },
    args_get(argvPtr: number, bufPtr: number): number {
      let p = bufPtr;
      argBytes.forEach((b, i) => {
        view().setUint32(argvPtr + i * 4, p, true);
        bytes().set(b, p);
        p += b.length;
      });
      return ERRNO_SUCCESS;
    },
    clock_time_get(_id: number, _precision: bigint, timePtr: number): number {
      view().setBigUint64(timePtr, BigInt(Date.now()) * 1_000_000n, true);
      return ERRNO_SUCCESS;
    },
    fd_prestat_get(fd: number, bufPtr: number): number {
      if (fd !== PREOPEN_FD) return ERRNO_BADF;
      view().setUint8(bufPtr, 0); // preopen type: directory
      view().setUint32(bufPtr + 4, 1, true); // name length of "."
      return ERRNO_SUCCESS;
    },
    fd_prestat_dir_name(fd: number, pathPtr: number, len: number): number {
      if (fd !== PREOPEN_FD || len < 1) return ERRNO_BADF;
      bytes()[pathPtr] = 0x2e; // "."
      return ERRNO_SUCCESS;
    },
    fd_fdstat_get(fd: number, bufPtr: number): number {
      let type: number;
      if (fd <= 2) type = FILETYPE_CHARACTER_DEVICE;
      else if (fd === PREOPEN_FD) type = FILETYPE_DIRECTORY;
      else if (open.has(fd)) type = FILETYPE_REGULAR_FILE;
      else return ERRNO_BADF;
      const v = view();
      v.setUint8(bufPtr, type);
      v.setUint16(bufPtr + 2, 0, true);
      v.setBigUint64(bufPtr + 8, 0xffffffffffffffffn, true); // rights: everything
      v.setBigUint64(bufPtr + 16, 0xffffffffffffffffn, true);
      return ERRNO_SUCCESS;
    },
    fd_fdstat_set_flags(): number {
      return ERRNO_SUCCESS;
    },
    path_open(
      dirFd: number,
      _dirFlags: number,
      pathPtr: number,
      pathLen: number,
      oflags: number,
      _rb: bigint,
      _ri: bigint,
      _fdFlags: number,
      fdPtr: number,
    ): number {
      if (dirFd !== PREOPEN_FD) return ERRNO_BADF;
      const name = new TextDecoder().decode(bytes().subarray(pathPtr, pathPtr + pathLen)).replace(/^\.\//, '');
      if (!files.has(name)) {
        if (!(oflags & OFLAGS_CREAT)) return ERRNO_NOENT;
        files.set(name, new Uint8Array(0));
        sizes.set(name, 0);
      } else if (oflags & OFLAGS_TRUNC) {
        sizes.set(name, 0);
      }
      const fd = nextFd++;
      open.set(fd, { name, position: 0 });
      view().setUint32(fdPtr, fd, true);
      return ERRNO_SUCCESS;
    },
    fd_write(fd: number, iovsPtr: number, iovsLen: number, writtenPtr: number): number {
      const v = view();
      let written = 0;
      const file = open.get(fd);
      if (!file && fd !== 1 && fd !== 2) return ERRNO_BADF;
      for (let i = 0; i < iovsLen; i++) {
        const ptr = v.getUint32(iovsPtr + i * 8, true);
        const len = v.getUint32(iovsPtr + i * 8 + 4, true);
        const chunk = bytes().slice(ptr, ptr + len);
        if (file) writeFile(file, chunk);
        else if (output.length < 65536) output += new TextDecoder().decode(chunk);
        written += len;
      }
      v.setUint32(writtenPtr, written, true);
      return ERRNO_SUCCESS;
    },
    fd_read(fd: number, iovsPtr: number, iovsLen: number, readPtr: number): number {
      const file = open.get(fd);
      const v = view();
      if (fd === 0) {
        v.setUint32(readPtr, 0, true); // empty stdin
        return ERRNO_SUCCESS;
      }
      if (!file) return ERRNO_BADF;
      const store = files.get(file.name)!;
      const size = sizes.get(file.name) ?? 0;
      let read = 0;
      for (let i = 0; i < iovsLen && file.position < size; i++) {
        const ptr = v.getUint32(iovsPtr + i * 8, true);
        const len = Math.min(v.getUint32(iovsPtr + i * 8 + 4, true), size - file.position);
        bytes().set(store.subarray(file.position, file.position + len), ptr);
        file.position += len;
        read += len;
      }
      v.setUint32(readPtr, read, true);
      return ERRNO_SUCCESS;
    },
    fd_seek(fd: number, offset: bigint, whence: number, newOffsetPtr: number): number {
      const file = open.get(fd);
      if (!file) return fd <= 2 ? ERRNO_NOSYS : ERRNO_BADF;
      const size = sizes.get(file.name) ?? 0;
      const base = whence === 0 ? 0 : whence === 1 ? file.position : whence === 2 ? size : -1;
      if (base < 0) return ERRNO_INVAL;
      const target = base + Number(offset);
      if (target < 0) return ERRNO_INVAL;
      file.position = target;
      view().setBigUint64(newOffsetPtr, BigInt(target), true);
      return ERRNO_SUCCESS;
    },
    fd_close(fd: number): number {
      if (open.delete(fd) || fd <= PREOPEN_FD) return ERRNO_SUCCESS;
      return ERRNO_BADF;
    },
    proc_exit(code: number): never {
      throw new ProcExit(code);
    },
  };

  const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: imports as unknown as WebAssembly.ModuleImports });
  memory = instance.exports.memory as WebAssembly.Memory;
  let exitCode = 0;
  try {
    (instance.exports._start as () => void)();
  } catch (error) {
    if (error instanceof ProcExit) exitCode = error.code;
    else throw error;
  }
  const result = new Map<string, Uint8Array>();
  for (const [name, store] of files) result.set(name, store.slice(0, sizes.get(name) ?? 0));
  return { exitCode, files: result, output };
}
