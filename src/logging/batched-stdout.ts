/**
 * Log lines to standard output, written in batches. Writes to a file or pipe
 * are synchronous in Node on Linux, and each is a system call of some tens of
 * microseconds: a write per line, or even one per turn of the event loop,
 * would sit on the request path of a busy server (the access log writes one
 * line per call; measured with bench/external, one write per turn cost about
 * 3 us per call). Lines are queued in order and written together once
 * {@link FLUSH_AFTER_MS} have passed since the first of them, or at once when
 * {@link FLUSH_AT_BYTES} are queued; whatever is still queued when the process
 * exits (normally, by a signal handler's exit, or after an uncaught exception)
 * is written then. A SIGKILL loses at most the last {@link FLUSH_AFTER_MS}.
 */
export interface BatchedOutput {
  /** Queues one line (without its newline). */
  write(line: string): void;
  /** Writes everything queued now. */
  flush(): void;
}

/** How long a queued line may wait for its batch, in ms. */
export const FLUSH_AFTER_MS = 20;
/** Queued characters that make the batch go out at once (about 250 access lines). */
export const FLUSH_AT_BYTES = 64 * 1024;

let stdout: BatchedOutput | undefined;

/** The process's one batched standard output (stdout is one per process, so is its batch). */
export function batchedStdout(): BatchedOutput {
  if (stdout !== undefined) return stdout;
  let pending = '';
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (pending === '') return;
    const text = pending;
    pending = '';
    process.stdout.write(text);
  };
  process.on('exit', flush);
  stdout = {
    write(line) {
      pending += `${line}\n`;
      if (pending.length >= FLUSH_AT_BYTES) flush();
      // Unref'd: a queued line never keeps the process alive; the exit handler writes it.
      else if (timer === undefined) timer = setTimeout(flush, FLUSH_AFTER_MS).unref();
    },
    flush,
  };
  return stdout;
}
