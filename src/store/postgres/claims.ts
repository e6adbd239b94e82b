/**
 * Claims in the PostgreSQL store, as in SQLite's claims.ts. Each write first takes a
 * transaction-level advisory lock on the key, then reads the row: writers of one key queue on
 * that lock, so the row a take reads is the row it writes, and two takers can never both see the
 * key free, on any number of nodes. The lock (rather than only `SELECT ... FOR UPDATE`) also
 * covers a key with no row yet, which a row lock cannot. Decided by `claim-rows.ts`.
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
import { LOCK, type PgConnection, type Tx } from "./connection.js";

/** $1 key. */
const GET_CLAIM = "SELECT * FROM claims WHERE key = $1";

/** $1-$8: the row's values in CLAIM_COLUMNS order; the key's row is replaced whole. */
const PUT_CLAIM = `
INSERT INTO claims (${CLAIM_COLUMNS.join(", ")}) VALUES (${CLAIM_COLUMNS.map((_, i) => `$${i + 1}`).join(", ")})
ON CONFLICT (key) DO UPDATE SET owner = $2, token = $3, ttl_ms = $4, acquired_at = $5, refreshed_at = $6,
  expires_at = $7, released_at = $8`;

/** $1 now: the claims held now, by key. */
const LIST_HELD = "SELECT * FROM claims WHERE released_at IS NULL AND expires_at >= $1 ORDER BY key";

export async function takeClaim(tx: Tx, key: string, owner: string, ttlMs: number): Promise<TakeClaimResult> {
  const write = takeWrite(await readLocked(tx, key), key, owner, ttlMs, tx.now);
  await put(tx, write);
  return { claim: toClaim(write.row), ...write.result };
}

export async function refreshClaim(tx: Tx, key: string, owner: string, ttlMs: number): Promise<Claim> {
  const row = refreshWrite(await readLocked(tx, key), key, owner, ttlMs, tx.now);
  await put(tx, { row, event: null });
  return toClaim(row);
}

export async function releaseClaim(tx: Tx, key: string, owner: string): Promise<Claim> {
  const write = releaseWrite(await readLocked(tx, key), key, owner, tx.now);
  await put(tx, write);
  return toClaim(write.row);
}

export async function getClaim(conn: PgConnection, key: string): Promise<Claim | null> {
  const row = await conn.one<ClaimRow>(GET_CLAIM, [key]);
  return row !== undefined && isHeld(row, await conn.now()) ? toClaim(row) : null;
}

export async function listClaims(conn: PgConnection): Promise<Claim[]> {
  return (await conn.rows<ClaimRow>(LIST_HELD, [await conn.now()])).map(toClaim);
}

/**
 * The key's row, read after taking the key's lock: under READ COMMITTED the read sees whatever
 * the previous holder of the lock committed.
 */
async function readLocked(tx: Tx, key: string): Promise<ClaimRow | undefined> {
  await tx.lock(LOCK.claims, key);
  return tx.one<ClaimRow>(GET_CLAIM, [key]);
}

async function put(tx: Tx, write: ClaimWrite): Promise<void> {
  await tx.run(PUT_CLAIM, claimRowValues(write.row));
  if (write.event) tx.event(write.event.kind, null, null, write.event.data);
}
