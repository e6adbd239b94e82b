/**
 * API tokens, written once for both backends (see ../tx.ts). Only the SHA-256 of a secret is
 * ever written; a name is unique among active tokens (a partial unique index), so a revoked name
 * can be reused. Two nodes creating the same name at once: on PostgreSQL the second insert waits
 * for the first to commit, then inserts nothing; SQLite has one writer at a time anyway.
 */
import { OverseerError } from "../../core/errors.js";
import type { TokenRecord } from "../../core/types.js";
import { LOCK } from "../locks.js";
import type { NewToken } from "../store.js";
import type { Db, Op, Tx } from "../tx.js";
import { type TokenRow, toToken } from "./rows.js";
import * as q from "./statements.js";

export function* createToken(tx: Tx, token: NewToken): Op<TokenRecord> {
  const row = yield* tx.one<TokenRow>(q.INSERT_TOKEN, [token.id, token.name, token.scope, token.hash, tx.at]);
  if (!row) {
    throw new OverseerError(
      "TOKEN_NAME_TAKEN",
      `an active token is already named "${token.name}"; revoke it first or pick another name`,
      { name: token.name },
    );
  }
  tx.event("token.created", null, null, { name: token.name, scope: token.scope, id: token.id });
  return toToken(row);
}

/**
 * Makes `token` the active token of its name, unless it is already: the active token with its
 * secret is returned as it is; another active token of the name is revoked first; a secret
 * whose token was revoked is refused (TOKEN_REVOKED_SECRET). Several processes seeding the same
 * secret at once take the name's lock in turn, so one inserts and the others find it.
 */
export function* seedToken(tx: Tx, token: NewToken): Op<TokenRecord> {
  yield* tx.lock(LOCK.tokens, token.name);
  const same = yield* tx.one<TokenRow>(q.FIND_BY_HASH, [token.hash]);
  if (same) {
    if (same.revoked_at !== null) {
      throw new OverseerError("INVALID_ARGUMENT", `the secret is that of token "${same.name}", which was revoked`, {
        name: same.name,
      });
    }
    return toToken(same);
  }
  yield* revokeIfActive(tx, token.name);
  return yield* createToken(tx, token);
}

function* revokeIfActive(tx: Tx, name: string): Op<void> {
  const row = yield* tx.one<TokenRow>(q.REVOKE_TOKEN, [name, tx.at]);
  if (row) tx.event("token.revoked", null, null, { name, scope: row.scope, id: row.id });
}

export function* findTokenByHash(db: Db, hash: string): Op<TokenRecord | null> {
  const row = yield* db.one<TokenRow>(q.FIND_ACTIVE_BY_HASH, [hash]);
  return row ? toToken(row) : null;
}

export function* listTokens(db: Db): Op<TokenRecord[]> {
  return (yield* db.rows<TokenRow>(q.LIST_TOKENS)).map(toToken);
}

export function* revokeToken(tx: Tx, name: string): Op<TokenRecord> {
  const row = yield* tx.one<TokenRow>(q.REVOKE_TOKEN, [name, tx.at]);
  if (!row) throw new OverseerError("TOKEN_NOT_FOUND", `no active token named "${name}"`, { name });
  tx.event("token.revoked", null, null, { name, scope: row.scope, id: row.id });
  return toToken(row);
}
