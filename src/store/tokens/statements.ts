/** The SQL of the API tokens area (see operations.ts), parameters listed. */

/** $1 id, $2 name, $3 scope, $4 hash, $5 now. Inserts nothing when an active token has the name. */
export const INSERT_TOKEN = `
INSERT INTO tokens (id, name, scope, hash, created_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING
RETURNING *`;

/** $1 hash. */
export const FIND_ACTIVE_BY_HASH = "SELECT * FROM tokens WHERE hash = $1 AND revoked_at IS NULL";
/** $1 hash: the token with this secret, active or revoked (a hash is unique). */
export const FIND_BY_HASH = "SELECT * FROM tokens WHERE hash = $1";

export const LIST_TOKENS = "SELECT * FROM tokens ORDER BY created_at, id";

/** $1 name, $2 now. */
export const REVOKE_TOKEN = "UPDATE tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL RETURNING *";
