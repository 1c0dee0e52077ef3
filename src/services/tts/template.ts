/**
 * Parsing of splicing templates such as `Итак, мы переводим {sum} {name}`: fixed text (synthesised once and
 * cached) and named slots (synthesised per call). Braces must balance; `{{` and `}}` stand for literal braces.
 */

import { boundList, quoteValue } from '../../../interceptors/bounded-text.js';
import { invalidField } from '../../errors.js';

/** A piece of a parsed template. */
export type TemplatePart = { kind: 'fixed'; text: string } | { kind: 'slot'; name: string };

const FIELD = 'input.template_input.template';
const SLOT_NAME = /^[\p{L}\p{N}_.-]+$/u;

/** Parses a template; throws INVALID_ARGUMENT naming the position of the first unbalanced or empty brace. */
export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let fixed = '';
  let i = 0;
  const chars = [...template]; // by code point, so positions match what a person counts
  while (i < chars.length) {
    const c = chars[i]!;
    if (c === '{' && chars[i + 1] === '{') {
      fixed += '{';
      i += 2;
      continue;
    }
    if (c === '}' && chars[i + 1] === '}') {
      fixed += '}';
      i += 2;
      continue;
    }
    if (c === '}') throw invalidField(FIELD, `has an unbalanced "}" at character ${i + 1}; write "}}" for a literal brace`);
    if (c === '{') {
      const close = chars.indexOf('}', i + 1);
      const nextOpen = chars.indexOf('{', i + 1);
      if (close < 0 || (nextOpen >= 0 && nextOpen < close)) {
        throw invalidField(FIELD, `has an unbalanced "{" at character ${i + 1}; close the slot with "}" or write "{{" for a literal brace`);
      }
      const name = chars
        .slice(i + 1, close)
        .join('')
        .trim();
      if (name.length === 0) throw invalidField(FIELD, `has an empty slot "{}" at character ${i + 1}; name the slot, e.g. {name}`);
      if (!SLOT_NAME.test(name)) {
        throw invalidField(FIELD, `slot name ${quoteValue(name)} at character ${i + 1} may only contain letters, digits, "_", "-" and "."`);
      }
      if (fixed.length > 0) parts.push({ kind: 'fixed', text: fixed });
      fixed = '';
      parts.push({ kind: 'slot', name });
      i = close + 1;
      continue;
    }
    fixed += c;
    i++;
  }
  if (fixed.length > 0) parts.push({ kind: 'fixed', text: fixed });
  return parts;
}

/** A template with its slots filled: what to synthesise, in order. */
export interface TemplatePlanPiece {
  /** `fixed` pieces come from the fragment cache; `dynamic` pieces (slot values and the text between adjacent slots) are synthesised per call. */
  kind: 'fixed' | 'dynamic';
  /** Text to speak, trimmed. */
  text: string;
}

/**
 * Fills slots from `slots` (or `backupPhrase` when a slot has no value) and merges adjacent dynamic text, so
 * `{sum} {name}` is one synthesis with natural prosody instead of two. Whitespace-only fixed text between slots
 * joins the dynamic piece. Throws INVALID_ARGUMENT naming a slot that has no value when there is no backup phrase.
 */
export function planTemplate(parts: readonly TemplatePart[], slots: Readonly<Record<string, string>>, backupPhrase: string): TemplatePlanPiece[] {
  // Slot names are client input: look them up among the map's own entries only, never on a plain object, where
  // "constructor" or "__proto__" would find Object.prototype's members.
  const values = new Map(Object.entries(slots).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const slotValue = (name: string): string => (values.get(name) ?? '').trim();
  const missing = parts.filter((p): p is { kind: 'slot'; name: string } => p.kind === 'slot' && !slotValue(p.name));
  if (missing.length > 0 && !backupPhrase.trim()) {
    const names = [...new Set(missing.map((m) => m.name))];
    const list = boundList(
      names.map((n) => quoteValue(n)),
      ', ',
      'slots',
    );
    throw invalidField(
      'input.template_input.slots',
      `has no value for slot${names.length > 1 ? 's' : ''} ${list}; give ${names.length > 1 ? 'them values' : 'it a value'} or set input.template_input.backup_phrase`,
    );
  }
  const plan: TemplatePlanPiece[] = [];
  const pushDynamic = (text: string) => {
    const last = plan.at(-1);
    if (last?.kind === 'dynamic') last.text = `${last.text} ${text}`;
    else plan.push({ kind: 'dynamic', text });
  };
  parts.forEach((part, index) => {
    if (part.kind === 'slot') {
      pushDynamic(slotValue(part.name) || backupPhrase.trim());
      return;
    }
    let text = part.text.trim();
    // Punctuation that closes the previous piece stays with it ("{name}." is "Alice." with a falling end, not
    // "Alice" plus a "." that synthesises to silence), so each piece ends the way the whole sentence would there.
    const closing = /^[.,!?;:…»)\]"'”’-]+/u.exec(text)?.[0];
    const last = plan.at(-1);
    if (closing && last) {
      last.text += closing;
      text = text.slice(closing.length).trim();
    }
    if (text.length === 0) return; // spacing only
    const between = parts[index - 1]?.kind === 'slot' && parts[index + 1]?.kind === 'slot';
    // Short glue between two slots ("{sum} rubles to {name}") stays fixed: it is worth caching.
    if (between && /^[\p{P}\s]*$/u.test(text)) pushDynamic(text);
    else plan.push({ kind: 'fixed', text });
  });
  return plan;
}
