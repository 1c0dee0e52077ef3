/** proto3 JSON name of a field: protoc's rule (drop each underscore, capitalise the letter after it). */
export function jsonNameOf(fieldName: string): string {
  return fieldName.replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}
