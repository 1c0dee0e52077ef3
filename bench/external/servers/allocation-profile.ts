/**
 * With GATEHOUSE_BENCH_ALLOCATION_DIR set, a bench server samples every
 * allocation (including objects the young-generation GC collects, which a
 * heap snapshot never shows) from when it is ready until SIGTERM, and writes
 * a `.heapprofile` there (open in Chrome DevTools, Memory tab). For finding
 * what a call allocates; profiling slows the server, so its figures do not count.
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Starts sampling when the variable is set; returns what stops it and writes the profile. */
export async function startAllocationProfile(): Promise<() => Promise<void>> {
  const dir = process.env.GATEHOUSE_BENCH_ALLOCATION_DIR;
  if (!dir) return async () => {};
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return async () => {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    writeFileSync(join(dir, `alloc-${process.pid}.heapprofile`), JSON.stringify(profile));
    session.disconnect();
  };
}
