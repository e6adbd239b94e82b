/** The SQL of the named claims area (see operations.ts), parameters listed. */
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
