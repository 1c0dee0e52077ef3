/**
 * Cutting a piece of text out of a Flite synthesis of it with the words around it (`SynthesisRequest.preceding`
 * and `continuation`), so that it starts and ends as inside the whole sentence. Flite prints the end time of every
 * segment (phone or pause) with `-psdur`; the context's phones are counted from a synthesis of the context alone,
 * and the cut falls where the text's first phone starts and where the continuation's first phone starts (a pause
 * before it stays with the text, as a whole sentence has it there).
 */

/** A segment Flite printed: phone name (`pau` for a pause) and end time in seconds. */
export interface FliteSegment {
  name: string;
  end: number;
}

/** Parses Flite's `-psdur` output (`pau:0.220 y:0.280 ...`); ignores anything that is not a segment. */
export function parseSegments(output: string): FliteSegment[] {
  const segments: FliteSegment[] = [];
  for (const token of output.trim().split(/\s+/)) {
    const m = /^([^:\s]+):(\d+(?:\.\d+)?)$/.exec(token);
    if (m) segments.push({ name: m[1]!, end: Number(m[2]) });
  }
  return segments;
}

/** Phones (not pauses) among Flite's `-ps` / `-psdur` output tokens. */
export function countPhones(output: string): number {
  return output
    .trim()
    .split(/\s+/)
    .filter((t) => t.length > 0 && t.split(':')[0] !== 'pau').length;
}

/**
 * Where the text lies in a synthesis of `preceding text continuation`, in seconds, given the segments of that
 * synthesis and how many phones the context words have: from the start of the text's first phone (0 without a
 * preceding context) to the start of the continuation's first phone (undefined: to the end). Undefined when the
 * counts do not fit the segments (the caller then keeps the whole synthesis).
 */
export function textSpan(
  segments: readonly FliteSegment[],
  precedingPhones: number,
  continuationPhones: number,
): { start: number; end: number | undefined } | undefined {
  const phones = segments.flatMap((s, i) => (s.name === 'pau' ? [] : [i]));
  if (precedingPhones + continuationPhones >= phones.length) return undefined;
  const startOf = (segment: number): number => (segment === 0 ? 0 : segments[segment - 1]!.end);
  const start = precedingPhones === 0 ? 0 : startOf(phones[precedingPhones]!);
  const end = continuationPhones === 0 ? undefined : startOf(phones[phones.length - continuationPhones]!);
  return { start, end };
}
