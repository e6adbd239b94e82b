/**
 * API tokens in the SQLite store. Only the SHA-256 of a secret is ever written; a name is
 * unique among active tokens (a partial unique index), so a revoked name can be reused.
 */
import { OverseerError } from "../../core/errors.js";
import type { TokenRecord } from "../../core/types.js";
import type { NewToken } from "../store.js";
import { type TokenRow, toToken } from "../token-rows.js";
import type { SqliteConnection } from "./connection.js";

/** ?1 id, ?2 name, ?3 scope, ?4 hash, ?5 now. Inserts nothing when an active token has the name. */
const INSERT_TOKEN = `
INSERT INTO tokens (id, name, scope, hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING
RETURNING *`;

/** ?1 hash. */
const FIND_ACTIVE_BY_HASH = "SELECT * FROM tokens WHERE hash = ?1 AND revoked_at IS NULL";

const LIST_TOKENS = "SELECT * FROM tokens ORDER BY created_at, id";

/** ?1 name, ?2 now. */
const REVOKE_TOKEN = "UPDATE tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL RETURNING *";

export function createToken(conn: SqliteConnection, token: NewToken): TokenRecord {
  return conn.write(() => {
    const now = conn.clock();
    const row = conn.stmt(INSERT_TOKEN).get(token.id, token.name, token.scope, token.hash, now) as TokenRow | undefined;
    if (!row) throw nameTaken(token.name);
    conn.event(now, "token.created", null, null, { name: token.name, scope: token.scope, id: token.id });
    return toToken(row);
  });
}

export function findTokenByHash(conn: SqliteConnection, hash: string): TokenRecord | null {
  const row = conn.stmt(FIND_ACTIVE_BY_HASH).get(hash) as TokenRow | undefined;
  return row ? toToken(row) : null;
}

export function listTokens(conn: SqliteConnection): TokenRecord[] {
  return (conn.stmt(LIST_TOKENS).all() as TokenRow[]).map(toToken);
}

export function revokeToken(conn: SqliteConnection, name: string): TokenRecord {
  return conn.write(() => {
    const now = conn.clock();
    const row = conn.stmt(REVOKE_TOKEN).get(name, now) as TokenRow | undefined;
    if (!row) throw new OverseerError("TOKEN_NOT_FOUND", `no active token named "${name}"`, { name });
    conn.event(now, "token.revoked", null, null, { name, scope: row.scope, id: row.id });
    return toToken(row);
  });
}

function nameTaken(name: string): OverseerError {
  return new OverseerError(
    "TOKEN_NAME_TAKEN",
    `an active token is already named "${name}"; revoke it first or pick another name`,
    { name },
  );
}
