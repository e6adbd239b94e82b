/**
 * Claims as both backends store them (times in epoch ms), their mapping to the records the API
 * sees, and the decisions every claim write shares: what a take, a refresh or a release makes of
 * a key's row. Pure: operations.ts reads the row inside a transaction that no other claim write
 * on that key can interleave with (SQLite: the one writer; PostgreSQL: a lock on the key), calls
 * these with the transaction's `now`, and writes what comes back.
 */
import {
  type Claim,
  type ClaimHolder,
  parseClaimTtl,
  type TakeClaimResult,
  validateClaimHolder,
  validateClaimKey,
  validateClaimOwner,
} from "../../core/claim.js";
import { OverseerError } from "../../core/errors.js";
import { iso } from "../rows.js";

export interface ClaimRow {
  key: string;
  owner: string;
  token: number;
  ttl_ms: number;
  acquired_at: number;
  refreshed_at: number;
  expires_at: number;
  released_at: number | null;
  /** Migration 027. */
  role: string | null;
  agent: string | null;
  fingerprint: string | null;
}

/** The columns of a claim row a write sets, in the order PUT_CLAIM binds them. */
export const CLAIM_COLUMNS = [
  "key",
  "owner",
  "token",
  "ttl_ms",
  "acquired_at",
  "refreshed_at",
  "expires_at",
  "released_at",
  "role",
  "agent",
  "fingerprint",
] as const;

export function toClaim(r: ClaimRow): Claim {
  return {
    key: r.key,
    owner: r.owner,
    token: Number(r.token),
    ttlMs: Number(r.ttl_ms),
    acquiredAt: iso(Number(r.acquired_at)),
    refreshedAt: iso(Number(r.refreshed_at)),
    expiresAt: iso(Number(r.expires_at)),
    role: r.role ?? null,
    agent: r.agent ?? null,
    fingerprint: r.fingerprint ?? null,
  };
}

/** Held now: not released, and not past its expiry (a claim is held through its `expiresAt`). */
export function isHeld(row: ClaimRow | undefined, now: number): boolean {
  return row !== undefined && row.released_at === null && Number(row.expires_at) >= now;
}

export function claimRowValues(row: ClaimRow): Array<string | number | null> {
  return CLAIM_COLUMNS.map((c) => row[c]);
}

export interface ClaimEvent {
  kind: "claim.taken" | "claim.released";
  data: Record<string, unknown>;
}

export interface ClaimWrite {
  /** The row to store (insert when the key had none, update otherwise). */
  row: ClaimRow;
  /** The event to append, if the write is one a person would want in the log. */
  event: ClaimEvent | null;
}

/** Checks a take's or refresh's arguments (the HTTP and CLI boundaries check them first, with the same messages). */
export function checkClaimArgs(key: string, owner: string, ttlMs?: number): number {
  validateClaimKey(key);
  validateClaimOwner(owner);
  return ttlMs === undefined ? 0 : parseClaimTtl(ttlMs, "ttlMs");
}

/**
 * A take: a new claim (token 1), the holder's own retake (a refresh: same token, no event), or a
 * new holder of a released or expired claim (token + 1; a takeover names the lapsed owner).
 * CLAIM_HELD, naming the holder, when someone else holds it.
 */
export function takeWrite(
  current: ClaimRow | undefined,
  key: string,
  owner: string,
  ttlMs: number,
  now: number,
  holder?: ClaimHolder,
): ClaimWrite & { result: Omit<TakeClaimResult, "claim"> } {
  const ttl = checkClaimArgs(key, owner, ttlMs);
  const who = validateClaimHolder(holder);
  if (current !== undefined && isHeld(current, now)) {
    if (current.owner !== owner) throw held(current);
    return {
      row: { ...current, ttl_ms: ttl, refreshed_at: now, expires_at: now + ttl, ...who },
      event: null,
      result: { acquired: false, previousOwner: null },
    };
  }
  const takeover = current !== undefined && current.released_at === null;
  const row: ClaimRow = {
    key,
    owner,
    token: current === undefined ? 1 : Number(current.token) + 1,
    ttl_ms: ttl,
    acquired_at: now,
    refreshed_at: now,
    expires_at: now + ttl,
    released_at: null,
    ...who,
  };
  const data: Record<string, unknown> = { key, owner, token: row.token, ttlMs: ttl, expiresAt: iso(row.expires_at) };
  for (const [field, value] of Object.entries(who)) if (value !== null) data[field] = value;
  if (takeover) {
    data.takeover = true;
    data.previousOwner = current.owner;
    data.previousExpiresAt = iso(Number(current.expires_at));
  }
  return {
    row,
    event: { kind: "claim.taken", data },
    result: { acquired: true, previousOwner: takeover ? current.owner : null },
  };
}

/**
 * A refresh by the holder: a new expiry from now, same token. No event: an agent refreshes every
 * few seconds for as long as it works, and the log would fill with heartbeats that say nothing
 * the take and the release do not (jobs' and runs' lease extensions append no events either).
 */
export function refreshWrite(
  current: ClaimRow | undefined,
  key: string,
  owner: string,
  ttlMs: number,
  now: number,
): ClaimRow {
  const ttl = checkClaimArgs(key, owner, ttlMs);
  if (current === undefined || !isHeld(current, now) || current.owner !== owner) {
    throw notHeld(current, key, owner, "refresh", now);
  }
  return { ...current, ttl_ms: ttl, refreshed_at: now, expires_at: now + ttl };
}

/** A release by the holder: the key is free at once; the row stays, for its token. */
export function releaseWrite(current: ClaimRow | undefined, key: string, owner: string, now: number): ClaimWrite {
  checkClaimArgs(key, owner);
  if (current === undefined || !isHeld(current, now) || current.owner !== owner) {
    throw notHeld(current, key, owner, "release", now);
  }
  return {
    row: { ...current, released_at: now },
    event: { kind: "claim.released", data: { key, owner, token: Number(current.token) } },
  };
}

function held(row: ClaimRow): OverseerError {
  const expiresAt = iso(Number(row.expires_at));
  return new OverseerError("CLAIM_HELD", `claim "${row.key}" is held by "${row.owner}" until ${expiresAt}`, {
    key: row.key,
    owner: row.owner,
    expiresAt,
  });
}

function notHeld(
  row: ClaimRow | undefined,
  key: string,
  owner: string,
  verb: "refresh" | "release",
  now: number,
): OverseerError {
  if (row !== undefined && isHeld(row, now)) {
    const expiresAt = iso(Number(row.expires_at));
    return new OverseerError(
      "CLAIM_NOT_HELD",
      `claim "${key}" is held by "${row.owner}", not "${owner}"; only its holder can ${verb} it`,
      { key, owner: row.owner, expiresAt },
    );
  }
  const why =
    row === undefined
      ? "nobody has taken it"
      : row.released_at !== null
        ? `it was released at ${iso(Number(row.released_at))}`
        : `it expired at ${iso(Number(row.expires_at))}`;
  return new OverseerError("CLAIM_NOT_HELD", `claim "${key}" is not held (${why}); take it again to hold it`, {
    key,
    owner: null,
    expiresAt: null,
  });
}
