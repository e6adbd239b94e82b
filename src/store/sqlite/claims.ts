/**
 * Claims in the SQLite store: each verb is one write transaction, and SQLite has one writer at
 * a time across every process on the file, so the row a take reads is the row it writes: two
 * takers can never both see a key free. Decided by the shared functions of `claim-rows.ts`.
 */
import type { Claim, TakeClaimResult } from "../../core/claim.js";
import {
  CLAIM_COLUMNS,
  type ClaimRow,
  type ClaimWrite,
  claimRowValues,
  isHeld,
  refreshWrite,
  releaseWrite,
  takeWrite,
  toClaim,
} from "../claim-rows.js";
import type { SqliteConnection } from "./connection.js";

/** ?1 key. */
const GET_CLAIM = "SELECT * FROM claims WHERE key = ?1";

/** ?1-?8: the row's values in CLAIM_COLUMNS order; the key's row is replaced whole. */
const PUT_CLAIM = `
INSERT INTO claims (${CLAIM_COLUMNS.join(", ")}) VALUES (${CLAIM_COLUMNS.map((_, i) => `?${i + 1}`).join(", ")})
ON CONFLICT (key) DO UPDATE SET owner = ?2, token = ?3, ttl_ms = ?4, acquired_at = ?5, refreshed_at = ?6,
  expires_at = ?7, released_at = ?8`;

/** ?1 now: the claims held now, by key. */
const LIST_HELD = "SELECT * FROM claims WHERE released_at IS NULL AND expires_at >= ?1 ORDER BY key";

export function takeClaim(conn: SqliteConnection, key: string, owner: string, ttlMs: number): TakeClaimResult {
  return conn.write(() => {
    const now = conn.clock();
    const write = takeWrite(read(conn, key), key, owner, ttlMs, now);
    put(conn, write, now);
    return { claim: toClaim(write.row), ...write.result };
  });
}

export function refreshClaim(conn: SqliteConnection, key: string, owner: string, ttlMs: number): Claim {
  return conn.write(() => {
    const now = conn.clock();
    const row = refreshWrite(read(conn, key), key, owner, ttlMs, now);
    put(conn, { row, event: null }, now);
    return toClaim(row);
  });
}

export function releaseClaim(conn: SqliteConnection, key: string, owner: string): Claim {
  return conn.write(() => {
    const now = conn.clock();
    const write = releaseWrite(read(conn, key), key, owner, now);
    put(conn, write, now);
    return toClaim(write.row);
  });
}

export function getClaim(conn: SqliteConnection, key: string): Claim | null {
  const row = read(conn, key);
  return row !== undefined && isHeld(row, conn.clock()) ? toClaim(row) : null;
}

export function listClaims(conn: SqliteConnection): Claim[] {
  return (conn.stmt(LIST_HELD).all(conn.clock()) as ClaimRow[]).map(toClaim);
}

function read(conn: SqliteConnection, key: string): ClaimRow | undefined {
  return conn.stmt(GET_CLAIM).get(key) as ClaimRow | undefined;
}

function put(conn: SqliteConnection, write: ClaimWrite, now: number): void {
  conn.stmt(PUT_CLAIM).run(...claimRowValues(write.row));
  if (write.event) conn.event(now, write.event.kind, null, null, write.event.data);
}
