import { batchedStdout } from './batched-stdout.js';
import { boundText } from '../../interceptors/bounded-text.js';

/**
 * Most UTF-8 bytes of one string value in a log line (a message, a status
 * message, an error's stack); longer ones end in "... and N more characters".
 * A status message echoing a client's input once made one line 8 MB.
 */
export const MAX_LOG_VALUE_BYTES = 4096;

/** Log levels, most verbose first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Structured fields of one log line. */
export type LogFields = Record<string, unknown>;

/** A structured JSON logger: one object per line on its sink. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Whether a line at this level would be written; lets hot paths skip building fields. */
  enabled(level: LogLevel): boolean;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
  /**
   * Writes one line whose fields the caller serialised itself: `fieldsJson` is
   * the inside of a JSON object (`"a":1,"b":"x"`, or empty). For hot paths
   * (the access log) that build the same shape of line per call; every string
   * in it that anything outside the code could influence must have come from
   * {@link Logger.jsonString}, so redaction and bounds still apply.
   */
  writeJson(level: LogLevel, message: string, fieldsJson: string): void;
  /** `value` as a JSON string literal, redacted and bounded exactly as a field value of {@link Logger.info} would be. */
  jsonString(value: string): string;
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level written. Default `info`. */
  level?: LogLevel;
  /** Where lines go. Default: process.stdout, a batch per turn of the event loop (batched-stdout.ts). */
  write?: (line: string) => void;
  /** Clock, for tests. Default `Date.now`. */
  nowMs?: () => number;
}

/** Field names whose values are never written, whatever the caller passes. */
const REDACTED_KEYS = /^(authorization|token|access_token|id_token|password|secret|private_?key|key_?pem|cookie)$/i;

/**
 * Creates a JSON-lines logger. Secrets under well-known keys are replaced by
 * `[REDACTED]`, and every string value is bounded to {@link MAX_LOG_VALUE_BYTES}.
 */
export function createLogger(options: LoggerOptions = {}, bound: LogFields = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? 'info');
  const write = options.write ?? batchedStdout().write;
  const now = options.nowMs ?? Date.now;
  // Whether a key is safe to write as is, learned once per key: keys come from code, so the set stays small.
  const safeKeys = new Map<string, boolean>();
  const boundIsFlat = isFlatAndSafe(bound, safeKeys);
  const boundJson = JSON.stringify(bound, redact).slice(1, -1);
  const boundSuffix = boundJson === '' ? '' : `,${boundJson}`;
  // Many lines share a millisecond: the timestamp text is made once per millisecond.
  let isoMs = NaN;
  let iso = '';
  const timestamp = (): string => {
    const ms = now();
    if (ms !== isoMs) {
      isoMs = ms;
      iso = new Date(ms).toISOString();
    }
    return iso;
  };
  let lastMessage = '';
  let lastMessageJson = '""';
  const jsonString = (value: string): string => JSON.stringify(redact('', value));
  const emit = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    const line = { time: timestamp(), level, msg: message, ...bound, ...fields };
    // A replacer makes JSON.stringify several times slower; lines of plain values that need no redaction skip it.
    const flat =
      boundIsFlat &&
      (fields === undefined || isFlatAndSafe(fields, safeKeys)) &&
      !mayHoldSecret(message) &&
      message.length <= MAX_LOG_VALUE_BYTES / 3;
    write(flat ? JSON.stringify(line) : JSON.stringify(line, redact));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    enabled: (level) => LOG_LEVELS.indexOf(level) >= threshold,
    child: (fields) => createLogger(options, { ...bound, ...fields }),
    writeJson(level, message, fieldsJson) {
      if (LOG_LEVELS.indexOf(level) < threshold) return;
      if (message !== lastMessage) {
        lastMessage = message;
        lastMessageJson = jsonString(message);
      }
      write(`{"time":"${timestamp()}","level":"${level}","msg":${lastMessageJson}${boundSuffix}${fieldsJson === '' ? '' : ','}${fieldsJson}}`);
    },
    jsonString,
  };
}

/** True when every value is a primitive that {@link redact} would leave alone, so no replacer is needed. */
function isFlatAndSafe(fields: LogFields, safeKeys: Map<string, boolean>): boolean {
  for (const key in fields) {
    let safe = safeKeys.get(key);
    if (safe === undefined) {
      safe = !REDACTED_KEYS.test(key);
      safeKeys.set(key, safe);
    }
    if (!safe) return false;
    const value = fields[key];
    if (typeof value === 'string') {
      if (mayHoldSecret(value) || value.length > MAX_LOG_VALUE_BYTES / 3) return false;
    } else if (value !== undefined && value !== null && typeof value !== 'number' && typeof value !== 'boolean') {
      return false;
    }
  }
  return true;
}

/** Cheap test for text that may carry a credential; only such text goes through {@link redactText}. */
const SECRET_HINT = /eyJ|bearer|authoriz/i;

/** Whether `text` may hold a token or an authorization value. */
export function mayHoldSecret(text: string): boolean {
  return SECRET_HINT.test(text);
}

/** A compact JWS (header.payload.signature, base64url, JSON header): a bearer token wherever it turns up. */
const JWT_PATTERN = /eyJ[\w-]*\.[\w-]+\.[\w-]*/g;
/**
 * An authorization value as text shows it: `authorization: ...`, `authorization=...`, `"authorization":"..."`.
 * Its end cannot be known (a token may hold dots, commas, spaces), so everything to the end of the line goes.
 */
const AUTHORIZATION_VALUE = /(authorization["']?\s*[:=])(?!\s*["']?Bearer <)[^\r\n]*/gi;
/**
 * A bearer credential whatever the separator (space, tab, %20, several) or case: `Bearer<TAB>opaque-token`.
 * Eight characters at least, so prose ("bearer token is not a JWT") and placeholders (`Bearer <token>`) stay readable.
 */
const BEARER_VALUE = /\b(bearer)(?:\s|%20|\\t)*[^\s,;"'\\<]{8,}/gi;

/**
 * Removes credentials from free text: JWT-shaped strings, bearer tokens of
 * any shape, and authorization values. Every sink that writes text a client
 * could have influenced (the JSON logger, grpc-js's own log lines) uses it.
 */
export function redactText(text: string): string {
  if (!mayHoldSecret(text)) return text;
  return text.replace(AUTHORIZATION_VALUE, '$1 [REDACTED]').replace(BEARER_VALUE, '$1 [REDACTED]').replace(JWT_PATTERN, '[REDACTED JWT]');
}

function redact(key: string, value: unknown): unknown {
  if (REDACTED_KEYS.test(key)) return '[REDACTED]';
  // Values too: a token pasted into an error message must not reach the log; long values are bounded.
  if (typeof value === 'string') return boundText(redactText(value), MAX_LOG_VALUE_BYTES);
  if (value instanceof Error)
    return { name: value.name, message: redact('message', value.message), stack: redact('stack', value.stack), cause: value.cause };
  return value;
}
