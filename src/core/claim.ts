/**
 * Claims: named leases for agents and scripts ("I am working on story ABC-12"). A claim is held
 * by one owner until its TTL lapses or the owner releases it; while held, nobody else can take
 * it. Every new holder gets a larger fencing token, so a resource guarded by a claim can refuse
 * a write that carries an older token than the last it saw (a holder whose claim lapsed while
 * it was paused cannot overwrite its successor's work).
 *
 * Invariants every backend keeps: at most one holder per key at any moment, across processes
 * and nodes; a claim is refreshed or released by its holder only; a key's token never shrinks
 * (the row is kept after a release for that reason); times are the store's clock. A claim is
 * held while `now <= expiresAt`, as job and run leases are: it can be taken over from
 * `expiresAt + 1 ms` on.
 */
import { type Duration, parseDuration } from "./duration.js";
import { OverseerError } from "./errors.js";

export interface Claim {
  key: string;
  /** Who holds it: an agent, a script, a person, as they name themselves. */
  owner: string;
  /** The fencing token: grows by one with every new holder of this key, never for a refresh. */
  token: number;
  /** The TTL of the last take or refresh, in ms. */
  ttlMs: number;
  /** When the current holder took it. */
  acquiredAt: string;
  /** When it was last taken or refreshed. */
  refreshedAt: string;
  /** The last moment it is held, unless refreshed. */
  expiresAt: string;
  /** What the holder does here (`reviewer`, `deployer`), as its last take said; null if it did not say. */
  role: string | null;
  /** Which agent holds it (`claude-code`, `codex`, `nightly-script`); null if the take did not say. */
  agent: string | null;
  /** What tells one session of that agent from another (a host and process, a run id); null if not given. */
  fingerprint: string | null;
}

/** Who takes a claim, beyond its owner's name; each optional, recorded as the take gives them. */
export interface ClaimHolder {
  role?: string | undefined;
  agent?: string | undefined;
  fingerprint?: string | undefined;
}

export const CLAIM_HOLDER_FIELDS = ["role", "agent", "fingerprint"] as const;
export type ClaimHolderField = (typeof CLAIM_HOLDER_FIELDS)[number];

/** A take's holder fields, checked (each as an owner is) and with null for those not given. */
export function validateClaimHolder(holder: ClaimHolder | undefined): Record<ClaimHolderField, string | null> {
  const out: Record<ClaimHolderField, string | null> = { role: null, agent: null, fingerprint: null };
  for (const field of CLAIM_HOLDER_FIELDS) {
    const value = holder?.[field];
    if (value !== undefined) out[field] = validateClaimOwner(value, field);
  }
  return out;
}

export interface TakeClaimResult {
  claim: Claim;
  /** True for a new holder (a new token); false when the holder took it again (a refresh). */
  acquired: boolean;
  /** The owner whose claim had lapsed, when this take was a takeover; null otherwise. */
  previousOwner: string | null;
}

export const CLAIM_EVENT_KINDS = ["claim.taken", "claim.released"] as const;

export const MAX_CLAIM_KEY_LENGTH = 200;
export const MAX_CLAIM_OWNER_LENGTH = 200;
export const MIN_CLAIM_TTL_MS = 1_000;
export const MAX_CLAIM_TTL_MS = 86_400_000;

/** Like task and queue names, and URL-safe: keys appear in paths (`/api/v1/claims/:key`). */
const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
/** Any text without control characters, not blank and with no space at either end. */
const OWNER_PATTERN = /^[^\s\p{Cc}](?:[^\p{Cc}]*[^\s\p{Cc}])?$/u;

export function validateClaimKey(value: unknown, field = "key"): string {
  if (typeof value !== "string" || !KEY_PATTERN.test(value)) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `${field} must be 1-${MAX_CLAIM_KEY_LENGTH} characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit; got ${describe(value)}`,
      { field },
    );
  }
  return value;
}

export function validateClaimOwner(value: unknown, field = "owner"): string {
  if (typeof value !== "string" || value.length > MAX_CLAIM_OWNER_LENGTH || !OWNER_PATTERN.test(value)) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `${field} must be 1-${MAX_CLAIM_OWNER_LENGTH} characters without control characters or surrounding spaces; got ${describe(value)}`,
      { field },
    );
  }
  return value;
}

/** A TTL as people write it (`30s`, `5m`, or ms), between 1 s and 24 h. */
export function parseClaimTtl(value: Duration | undefined, field = "ttl"): number {
  if (value === undefined) throw new OverseerError("INVALID_ARGUMENT", `${field} is required, e.g. 30s`, { field });
  const ms = parseDuration(value, field);
  if (ms < MIN_CLAIM_TTL_MS || ms > MAX_CLAIM_TTL_MS) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `${field} must be between 1s and 24h (${MIN_CLAIM_TTL_MS}-${MAX_CLAIM_TTL_MS} ms), got ${JSON.stringify(value)}`,
      { field },
    );
  }
  return ms;
}

export function claimNotFound(key: string): OverseerError {
  return new OverseerError("CLAIM_NOT_FOUND", `nobody holds a claim on "${key}"`, { key });
}

function describe(value: unknown): string {
  if (typeof value === "string")
    return value.length > 60 ? `${JSON.stringify(value.slice(0, 60))}…` : JSON.stringify(value);
  return value === undefined ? "nothing" : typeof value;
}
