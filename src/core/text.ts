/** Short text for people: a line, a message, a notification. */

/** `text` cut to at most `max` characters, ending with "…" when it was cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
