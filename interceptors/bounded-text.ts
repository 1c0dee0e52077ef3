/**
 * Bounds on text that leaves the gateway: status messages, echoed client
 * values, lists of problems, log fields. A `grpc-message` trailer near 64 KB
 * never reaches the client and poisons the whole HTTP/2 connection (every
 * later call on it fails), so nothing a client sent may reach a status
 * unbounded. Lives in interceptors/ so both the interceptors and src/ use
 * the same rules (interceptors/ cannot import src/).
 */

/** Most UTF-8 bytes of one echoed client value (an order id, a language code, a slot name) before "... and N more characters". */
export const MAX_ECHO_BYTES = 200;

/** Most UTF-8 bytes of a whole status message (`grpc-message`, and `google.rpc.Status.message`). */
export const MAX_STATUS_MESSAGE_BYTES = 1024;

/** Most items of a list written into a message (problems, slot names) before "... and N more". */
export const MAX_LISTED_ITEMS = 10;

/**
 * `text` cut to at most `maxBytes` UTF-8 bytes on a character boundary, with
 * "... and N more characters" appended when it was cut (the suffix counts
 * towards the bound). Text already within the bound is returned unchanged.
 */
export function boundText(text: string, maxBytes: number): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes: short text needs no measuring (the common case on every status).
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text) <= maxBytes) return text;
  const total = [...text].length;
  // Leave room for the suffix; its digits are at most those of the total.
  const budget = Math.max(0, maxBytes - ` ... and ${total} more characters`.length);
  let bytes = 0;
  let kept = 0;
  let end = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > budget) break;
    bytes += size;
    kept += 1;
    end += char.length;
  }
  return `${text.slice(0, end)} ... and ${total - kept} more characters`;
}

/**
 * A client string quoted for a message, as `JSON.stringify` would, but at most
 * `maxBytes` of it: `"ééé" ... and 14800 more characters`. Use it wherever a
 * message echoes what the client sent.
 */
export function quoteValue(value: unknown, maxBytes: number = MAX_ECHO_BYTES): string {
  // Numbers and other non-strings (an unknown enum value) read better unquoted; they are bounded all the same.
  if (typeof value !== 'string') return boundText(String(value), maxBytes);
  const text = value;
  const bounded = boundText(text, maxBytes);
  if (bounded === text) return JSON.stringify(text);
  const cut = bounded.lastIndexOf(' ... and ');
  return `${JSON.stringify(bounded.slice(0, cut))}${bounded.slice(cut)}`;
}

/**
 * The first `maxItems` items joined with `separator`, then "... and N more"
 * (with `noun` when given: "... and 2990 more problems").
 */
export function boundList(items: readonly string[], separator: string, noun = '', maxItems: number = MAX_LISTED_ITEMS): string {
  if (items.length <= maxItems) return items.join(separator);
  const rest = items.length - maxItems;
  return `${items.slice(0, maxItems).join(separator)}${separator}... and ${rest} more${noun ? ` ${noun}` : ''}`;
}

/** A whole status message within {@link MAX_STATUS_MESSAGE_BYTES}. */
export function boundStatusMessage(message: string): string {
  return boundText(message, MAX_STATUS_MESSAGE_BYTES);
}
