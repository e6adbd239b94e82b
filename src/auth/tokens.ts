/**
 * API tokens: `ovs_` + 32 random bytes (base64url). The secret is shown once, when it is made;
 * the store keeps only its SHA-256, so a copied database grants nothing. Lookups go by hash and
 * the match is confirmed with a constant-time comparison, so response times say nothing about
 * how much of a guess was right.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { OverseerError } from "../core/errors.js";
import { newId } from "../core/ids.js";
import { validateName } from "../core/job-options.js";
import { TOKEN_SCOPES, type TokenRecord } from "../core/types.js";
import type { Store } from "../store/store.js";
import { isTokenScope } from "./scopes.js";

export const TOKEN_PREFIX = "ovs_";
/** The name of the token seeded from OVERSEER_ADMIN_TOKEN; a new value there replaces it. */
export const ENV_TOKEN_NAME = "env-admin";
/** The name of the admin token `overseer start` makes on a database that has never had one. */
export const FIRST_TOKEN_NAME = "admin";
/** Secrets from the environment must be at least this long: they guard everything. */
const MIN_SECRET_LENGTH = 24;
const SECRET_PATTERN = /^[\x21-\x7e]+$/;

export function generateSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export interface CreatedToken {
  /** Shown once; never stored. */
  secret: string;
  token: TokenRecord;
}

/** Makes a token with a fresh secret. INVALID_ARGUMENT for a bad name or scope, TOKEN_NAME_TAKEN for a used name. */
export async function createToken(store: Store, name: string, scope: string): Promise<CreatedToken> {
  const validName = validateName(name, "name");
  if (!isTokenScope(scope)) {
    throw new OverseerError("INVALID_ARGUMENT", `scope must be one of ${TOKEN_SCOPES.join(", ")}; got "${scope}"`, {
      field: "scope",
    });
  }
  const secret = generateSecret();
  const token = await store.createToken({ id: newId(), name: validName, scope, hash: hashSecret(secret) });
  return { secret, token };
}

/** The active token whose secret this is, or null. */
export async function authenticate(store: Store, secret: string): Promise<TokenRecord | null> {
  const hash = hashSecret(secret);
  const token = await store.findTokenByHash(hash);
  if (!token) return null;
  // The lookup matched on the hash; confirm it without an early-exit comparison.
  const a = Buffer.from(token.hash, "hex");
  const b = Buffer.from(hash, "hex");
  return a.length === b.length && timingSafeEqual(a, b) ? token : null;
}

/**
 * Makes sure the secret in OVERSEER_ADMIN_TOKEN is an active admin token, named `env-admin`.
 * A different secret there replaces the previous one (rotation); a secret that was revoked
 * stays revoked. Safe when several processes start at once.
 */
export async function seedAdminToken(store: Store, secret: string): Promise<void> {
  if (secret.length < MIN_SECRET_LENGTH || !SECRET_PATTERN.test(secret)) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `OVERSEER_ADMIN_TOKEN must be at least ${MIN_SECRET_LENGTH} printable characters without spaces; make one with \`overseer tokens create\` or \`openssl rand -base64 32\``,
      { field: "OVERSEER_ADMIN_TOKEN" },
    );
  }
  const hash = hashSecret(secret);
  const existing = (await store.listTokens()).find((t) => t.hash === hash);
  if (existing && existing.revokedAt === null) {
    if (existing.scope !== "admin") {
      throw new OverseerError(
        "INVALID_ARGUMENT",
        `OVERSEER_ADMIN_TOKEN holds the secret of token "${existing.name}", whose scope is ${existing.scope}, not admin`,
        { field: "OVERSEER_ADMIN_TOKEN" },
      );
    }
    return;
  }
  if (existing) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `OVERSEER_ADMIN_TOKEN holds the secret of token "${existing.name}", which was revoked; set a new secret`,
      { field: "OVERSEER_ADMIN_TOKEN" },
    );
  }
  // One transaction, under the name's lock: nodes starting at once with the same secret neither
  // revoke each other's token nor collide on its hash.
  await store.seedToken({ id: newId(), name: ENV_TOKEN_NAME, scope: "admin", hash });
}

/**
 * On a database that has never had a token, makes an admin token and returns its secret (to
 * print once); otherwise null. When several processes start at once, one of them makes it.
 */
export async function createFirstAdminToken(store: Store): Promise<CreatedToken | null> {
  if ((await store.listTokens()).length > 0) return null;
  try {
    return await createToken(store, FIRST_TOKEN_NAME, "admin");
  } catch (err) {
    if (err instanceof OverseerError && err.code === "TOKEN_NAME_TAKEN") return null;
    throw err;
  }
}
