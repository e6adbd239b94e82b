/**
 * Named claims, written once for both backends (see ../tx.ts), each write one transaction and
 * decided by the pure functions of rows.ts. Each write first takes the key's lock, then reads the
 * row: writers of one key queue on that lock, so the row a take reads is the row it writes, and
 * two takers can never both see the key free, on any number of nodes. On PostgreSQL the lock
 * (rather than only `SELECT ... FOR UPDATE`) also covers a key with no row yet, which a row lock
 * cannot; under READ COMMITTED the read after it sees whatever the lock's previous holder
 * committed. SQLite has one writer at a time across every process on the file, which is the same.
 */
import type { Claim, ClaimHolder, TakeClaimResult } from "../../core/claim.js";
import type { OverseerEvent } from "../../core/types.js";
import { LOCK } from "../locks.js";
import { type EventRow, toEvent } from "../rows.js";
import type { ClaimHistoryQuery } from "../store.js";
import type { Db, Op, Tx } from "../tx.js";
import {
  type ClaimRow,
  type ClaimWrite,
  claimRowValues,
  isHeld,
  refreshWrite,
  releaseWrite,
  takeWrite,
  toClaim,
} from "./rows.js";
import * as q from "./statements.js";

export function* takeClaim(
  tx: Tx,
  key: string,
  owner: string,
  ttlMs: number,
  holder?: ClaimHolder,
): Op<TakeClaimResult> {
  const write = takeWrite(yield* readLocked(tx, key), key, owner, ttlMs, tx.at, holder);
  yield* put(tx, write);
  return { claim: toClaim(write.row), ...write.result };
}

export function* refreshClaim(tx: Tx, key: string, owner: string, ttlMs: number): Op<Claim> {
  const row = refreshWrite(yield* readLocked(tx, key), key, owner, ttlMs, tx.at);
  yield* put(tx, { row, event: null });
  return toClaim(row);
}

export function* releaseClaim(tx: Tx, key: string, owner: string): Op<Claim> {
  const write = releaseWrite(yield* readLocked(tx, key), key, owner, tx.at);
  yield* put(tx, write);
  return toClaim(write.row);
}

export function* getClaim(db: Db, key: string): Op<Claim | null> {
  const row = yield* db.one<ClaimRow>(q.GET_CLAIM, [key]);
  return row !== undefined && isHeld(row, yield* db.now()) ? toClaim(row) : null;
}

export function* listClaims(db: Db): Op<Claim[]> {
  return (yield* db.rows<ClaimRow>(q.LIST_HELD, [yield* db.now()])).map(toClaim);
}

/** Claim events, newest first: every key's, or one key's (see Store.claimHistory). */
export function* claimHistory(db: Db, query: ClaimHistoryQuery): Op<OverseerEvent[]> {
  const before = query.beforeSeq ?? Number.MAX_SAFE_INTEGER;
  const limit = query.limit ?? 100;
  const rows =
    query.key === undefined
      ? yield* db.rows<EventRow>(q.CLAIM_HISTORY, [before, limit])
      : yield* db.rows<EventRow>(q.KEY_CLAIM_HISTORY, [query.key, before, limit]);
  return rows.map(toEvent);
}

/** The key's row, read once the key's lock is held (see the module comment). */
function* readLocked(tx: Tx, key: string): Op<ClaimRow | undefined> {
  yield* tx.lock(LOCK.claims, key);
  return yield* tx.one<ClaimRow>(q.GET_CLAIM, [key]);
}

function* put(tx: Tx, write: ClaimWrite): Op<void> {
  yield* tx.run(q.PUT_CLAIM, claimRowValues(write.row));
  if (write.event) tx.event(write.event.kind, null, null, write.event.data);
}
