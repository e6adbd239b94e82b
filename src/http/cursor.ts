/**
 * Paging for listings (jobs, runs). Cursors are opaque to clients (base64url of a small JSON object), so the
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

/** A cursor of a listing paged by a name of up to 512 characters (concurrency keys): the page's last name. */
export function encodeKeyCursor(lastKey: string): string {
  return Buffer.from(JSON.stringify({ k: lastKey }), "utf8").toString("base64url");
}

export function decodeKeyCursor(cursor: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw badCursor();
  }
  const key = (parsed as { k?: unknown } | null)?.k;
  if (typeof key !== "string" || key.length === 0 || key.length > 512) throw badCursor();
  return key;
}

/** A cursor of a listing paged by event seq, newest first (the claim history): the page's last seq. */
export function encodeSeqCursor(seq: number): string {
  return encodeCursor(String(seq));
}

export function decodeSeqCursor(cursor: string): number {
  const seq = decodeCursor(cursor);
  if (!/^[0-9]{1,15}$/.test(seq)) throw badCursor();
  return Number(seq);
}

function badCursor(): OverseerError {
  return new OverseerError("INVALID_ARGUMENT", "cursor is not one this API returned; pass nextCursor as it came", {
    field: "cursor",
  });
}

/** A listing's `limit` query parameter: 1-500, default 50. */
export function pageLimit(raw: string | undefined): number {
  const limit = raw === undefined ? 50 : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new OverseerError("INVALID_ARGUMENT", `limit must be from 1 to 500; got ${raw}`, { field: "limit" });
  }
  return limit;
}

/** A page from rows read with `limit + 1`: the one extra row says whether there is a next page. */
export function pageOf<T extends { id: string }>(
  rows: readonly T[],
  limit: number,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null };
}
