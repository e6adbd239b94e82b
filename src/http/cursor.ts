/**
 * Page cursors for job listings: opaque to clients (base64url of a small JSON object), so the
 * paging key can change without breaking them. Today it is the last id of the page: ids are
 * time-sortable, and "newest first" is "id descending".
 */
import { OverseerError } from "../core/errors.js";

export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ b: lastId }), "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw badCursor();
  }
  const before = (parsed as { b?: unknown } | null)?.b;
  if (typeof before !== "string" || before.length === 0 || before.length > 64) throw badCursor();
  return before;
}

function badCursor(): OverseerError {
  return new OverseerError("INVALID_ARGUMENT", "cursor is not one this API returned; pass nextCursor as it came", {
    field: "cursor",
  });
}
