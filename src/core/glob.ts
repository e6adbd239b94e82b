/**
 * The one pattern language of Overseer's policies: `*` stands for any run of characters
 * (dots included), everything else matches itself. `deploy.*` matches `deploy.prod` and
 * `deploy.prod.eu`; `HTTP_5*` matches `HTTP_503`. Case-sensitive, like task names and codes.
 */

/** True when `value` matches `pattern`. A pattern without `*` is an exact match. */
export function matchesGlob(pattern: string, value: string): boolean {
  if (!pattern.includes("*")) return pattern === value;
  const parts = pattern.split("*");
  const first = parts[0] ?? "";
  const last = parts[parts.length - 1] ?? "";
  if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) return false;
  // Greedy left-to-right over the middle pieces: the leftmost place for each is never worse.
  let at = first.length;
  const end = value.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const piece = parts[i] ?? "";
    const found = value.indexOf(piece, at);
    if (found === -1 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}

/** True when any of the patterns matches. */
export function matchesAny(patterns: readonly string[], value: string): boolean {
  for (const p of patterns) if (matchesGlob(p, value)) return true;
  return false;
}
