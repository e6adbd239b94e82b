/**
 * API tokens in the PostgreSQL store, as in SQLite's tokens.ts: only the SHA-256 of a secret
 * is written, and a name is unique among active tokens. Two nodes creating the same name at
 * once: the second insert waits for the first to commit, then inserts nothing.
 */
import { OverseerError } from "../../core/errors.js";
import type { TokenRecord } from "../../core/types.js";
import type { NewToken } from "../store.js";
import { type TokenRow, toToken } from "../token-rows.js";
import type { PgConnection } from "./connection.js";

/** $1 id, $2 name, $3 scope, $4 hash, $5 now. Inserts nothing when an active token has the name. */
const INSERT_TOKEN = `
INSERT INTO tokens (id, name, scope, hash, created_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING
RETURNING *`;

/** $1 hash. */
const FIND_ACTIVE_BY_HASH = "SELECT * FROM tokens WHERE hash = $1 AND revoked_at IS NULL";

const LIST_TOKENS = "SELECT * FROM tokens ORDER BY created_at, id";

/** $1 name, $2 now. */
const REVOKE_TOKEN = "UPDATE tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL RETURNING *";

export function createToken(conn: PgConnection, token: NewToken): Promise<TokenRecord> {
  return conn.write(async (tx) => {
    const row = await tx.one<TokenRow>(INSERT_TOKEN, [token.id, token.name, token.scope, token.hash, tx.now]);
    if (!row) {
      throw new OverseerError(
        "TOKEN_NAME_TAKEN",
        `an active token is already named "${token.name}"; revoke it first or pick another name`,
        { name: token.name },
      );
    }
    tx.event("token.created", null, null, { name: token.name, scope: token.scope, id: token.id });
    return toToken(row);
  });
}

export async function findTokenByHash(conn: PgConnection, hash: string): Promise<TokenRecord | null> {
  const row = await conn.one<TokenRow>(FIND_ACTIVE_BY_HASH, [hash]);
  return row ? toToken(row) : null;
}

export async function listTokens(conn: PgConnection): Promise<TokenRecord[]> {
  return (await conn.rows<TokenRow>(LIST_TOKENS)).map(toToken);
}

export function revokeToken(conn: PgConnection, name: string): Promise<TokenRecord> {
  return conn.write(async (tx) => {
    const row = await tx.one<TokenRow>(REVOKE_TOKEN, [name, tx.now]);
    if (!row) throw new OverseerError("TOKEN_NOT_FOUND", `no active token named "${name}"`, { name });
    tx.event("token.revoked", null, null, { name, scope: row.scope, id: row.id });
    return toToken(row);
  });
}
