/**
 * Stream tokens: short-lived credentials for the event streams only, for clients that cannot
 * send an Authorization header (a browser's EventSource). `ovss_<token id>.<expiry ms>.<mac>`,
 * where the MAC is an HMAC-SHA256 of id and expiry keyed by the parent token's stored hash.
 *
 * Why this shape: nothing is stored, so any server process or node on the same database
 * accepts it; revoking the parent token revokes its stream tokens at once; the long-lived
 * secret never appears in a URL; and a stream token carries its parent's scope, so it can open
 * only what its parent could read. Accepted only as `?access_token=` on the stream routes.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { TokenRecord } from "../core/types.js";
import type { Store } from "../store/store.js";

export const STREAM_TOKEN_PREFIX = "ovss_";
/** How long a stream token is valid unless asked otherwise; long enough to open a stream. */
export const STREAM_TOKEN_TTL_MS = 60_000;
/** The longest a stream token may live: a leaked URL must go stale quickly. */
export const MAX_STREAM_TOKEN_TTL_MS = 10 * 60_000;

const PATTERN = /^ovss_([0-9A-Za-z]{1,64})\.(\d{1,16})\.([A-Za-z0-9_-]{43})$/;

function mac(parent: TokenRecord, expiresAt: number): Buffer {
  return createHmac("sha256", Buffer.from(parent.hash, "hex")).update(`${parent.id}.${expiresAt}`).digest();
}

export function mintStreamToken(parent: TokenRecord, now: number, ttlMs = STREAM_TOKEN_TTL_MS): string {
  const expiresAt = now + ttlMs;
  return `${STREAM_TOKEN_PREFIX}${parent.id}.${expiresAt}.${mac(parent, expiresAt).toString("base64url")}`;
}

/** The active parent token of a valid, unexpired stream token; null otherwise. */
export async function verifyStreamToken(
  store: Pick<Store, "listTokens">,
  value: string,
  now: number,
): Promise<TokenRecord | null> {
  const match = PATTERN.exec(value);
  if (!match) return null;
  const [, id, expiry, given] = match as unknown as [string, string, string, string];
  const expiresAt = Number(expiry);
  if (!(expiresAt > now) || expiresAt > now + MAX_STREAM_TOKEN_TTL_MS) return null;
  // Tokens are few (people and services, not sessions): a scan is cheaper than another index.
  const parent = (await store.listTokens()).find((t) => t.id === id && t.revokedAt === null);
  if (!parent) return null;
  const expected = mac(parent, expiresAt);
  const actual = Buffer.from(given, "base64url");
  return actual.length === expected.length && timingSafeEqual(actual, expected) ? parent : null;
}
