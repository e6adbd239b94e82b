/**
 * NUL characters (U+0000) in text. PostgreSQL cannot store one in a text column (SQLSTATE 22021)
 * nor as `\u0000` in jsonb (22P05), so both stores refuse them in text they are given and the
 * HTTP API refuses them anywhere in a request: the same precise 400 on either backend, rather
 * than a driver error on one of them and a stored NUL on the other.
 */
import { OverseerError } from "./errors.js";

const NUL = "\u0000";

export function hasNul(text: string): boolean {
  return text.includes(NUL);
}

/**
 * Where the first NUL is in a JSON-like value (in a string or an object key), as a dotted path
 * from `root` (`body.labels.team`, `body.0.task`), or null if it holds none. Iterative, so a
 * deeply nested body cannot overflow the stack.
 */
export function findNul(value: unknown, root: string): string | null {
  const stack: Array<[unknown, string]> = [[value, root]];
  while (stack.length > 0) {
    const [item, path] = stack.pop() as [unknown, string];
    if (typeof item === "string") {
      if (hasNul(item)) return path;
    } else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) stack.push([item[i], `${path}.${i}`]);
    } else if (item !== null && typeof item === "object") {
      const entries = Object.entries(item);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i] as [string, unknown];
        const at = `${path}.${printable(key)}`;
        if (hasNul(key)) return at;
        stack.push([child, at]);
      }
    }
  }
  return null;
}

/** The refusal of a NUL found at `field` of a request's `where` (path, query or body). */
export function nulInRequest(where: "path" | "query" | "body", field: string): OverseerError {
  return new OverseerError(
    "INVALID_CHARACTER",
    `${field}: holds a NUL character (\\u0000), which cannot be stored; remove it`,
    { in: where, field, character: "U+0000" },
  );
}

/** The store's refusal of a NUL in text it was asked to store or look up: the same on both backends. */
export function nulInStore(): OverseerError {
  return new OverseerError(
    "INVALID_CHARACTER",
    "a string holds a NUL character (\\u0000), which the store does not accept in text; remove it",
    { character: "U+0000" },
  );
}

/** A key as it can be shown in a message: its NULs written as \u0000. */
function printable(key: string): string {
  return key.replaceAll(NUL, "\\u0000");
}
