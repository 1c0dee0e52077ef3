/**
 * Log lines to standard output, written in one batch per turn of the event
 * loop. Writes to a file or pipe are synchronous in Node on Linux: a write
 * system call per line would sit on every call's path (the access log writes
 * one line per call). Lines queued during a turn go out together right after
 * it (`setImmediate`), in order, and whatever is still queued when the
 * process exits is written then.
 */
export interface BatchedOutput {
  /** Queues one line (without its newline). */
  write(line: string): void;
  /** Writes everything queued now. */
  flush(): void;
}

let stdout: BatchedOutput | undefined;

/** The process's one batched standard output (stdout is one per process, so is its batch). */
export function batchedStdout(): BatchedOutput {
  if (stdout !== undefined) return stdout;
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join('\n') + '\n';
    pending = [];
    process.stdout.write(text);
  };
  process.on('exit', flush);
  stdout = {
    write(line) {
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
  return stdout;
}
