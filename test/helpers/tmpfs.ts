import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A small tmpfs of its own: a disk that really fills up and really turns read-only. Needs root (CI runs as root). */
export interface Tmpfs {
  readonly dir: string;
  /** Remounts read-only (`true`) or read-write; read-only fails while files are open for writing. */
  setReadOnly(readOnly: boolean): void;
  /** Unmounts (lazily, so open files do not block) and removes the mount point. */
  close(): void;
}

/** Mounts a tmpfs of `sizeMiB` on a fresh temporary directory. Throws when this process may not mount. */
export function mountTmpfs(sizeMiB: number): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    setReadOnly: (readOnly) => {
      execFileSync('mount', ['-o', `remount,${readOnly ? 'ro' : 'rw'}`, dir], { stdio: 'pipe' });
    },
    close() {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Why mounting is impossible here, or undefined when it works. Under CI it must work (the suite runs as root). */
export function tmpfsUnavailable(): string | undefined {
  try {
    mountTmpfs(1).close();
    return undefined;
  } catch (error) {
    if (process.env.CI) throw new Error(`CI must be able to mount a tmpfs (runs as root): ${(error as Error).message}`);
    return `cannot mount a tmpfs here (needs root): ${(error as Error).message.split('\n')[0]}`;
  }
}
