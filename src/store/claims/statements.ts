/** The SQL of the named claims area (see operations.ts), parameters listed. */
import { type Sql, sql } from "../tx.js";
import { CLAIM_COLUMNS } from "./rows.js";

/** $1 key. */
export const GET_CLAIM = "SELECT * FROM claims WHERE key = $1";

/** $1-$11: the row's values in CLAIM_COLUMNS order; the key's row is replaced whole. */
export const PUT_CLAIM = `
INSERT INTO claims (${CLAIM_COLUMNS.join(", ")}) VALUES (${CLAIM_COLUMNS.map((_, i) => `$${i + 1}`).join(", ")})
ON CONFLICT (key) DO UPDATE SET owner = $2, token = $3, ttl_ms = $4, acquired_at = $5, refreshed_at = $6,
  expires_at = $7, released_at = $8, role = $9, agent = $10, fingerprint = $11`;

/** $1 now: the claims held now, by key. */
export const LIST_HELD = "SELECT * FROM claims WHERE released_at IS NULL AND expires_at >= $1 ORDER BY key";

/**
 * The events a claim write appends, as written in the partial indexes of migration 028: a query
 * must repeat this term for SQLite to use them.
 */
const CLAIM_EVENTS = "kind IN ('claim.taken', 'claim.released')";

/** A claim event's key, as migration 028's `events_claim_key` indexes it. */
const EVENT_KEY: Sql = { sqlite: "json_extract(data, '$.key')", postgres: "(data::json ->> 'key')" };

/** $1 before seq, $2 limit: every key's claim events, newest first (index `events_claims`). */
export const CLAIM_HISTORY = `
SELECT * FROM events WHERE ${CLAIM_EVENTS} AND seq < $1 ORDER BY seq DESC LIMIT $2`;

/** $1 key, $2 before seq, $3 limit: one key's claim events, newest first (index `events_claim_key`). */
export const KEY_CLAIM_HISTORY = sql`
SELECT * FROM events WHERE ${CLAIM_EVENTS} AND ${EVENT_KEY} = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`;
