/** One top-level CLI command (`gatehouse <name> ...`). */
export interface CliCommand {
  /** The word after `gatehouse`. */
  name: string;
  /** One line for `gatehouse --help`. */
  summary: string;
  /** Full usage text, printed by `gatehouse <name> --help` and on usage errors. */
  usage: string;
  /** Runs with the arguments after the command name; resolves with the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** Thrown for bad command-line usage; printed with the command's usage and exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
