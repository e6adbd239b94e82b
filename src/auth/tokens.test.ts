import { describe, expect, it } from "vitest";
import { OverseerError } from "../core/errors.js";
import { TOKEN_SCOPES, type TokenScope } from "../core/types.js";
import { tempDatabase } from "../test-support/temp-database.js";
import { isTokenScope, scopeAllows } from "./scopes.js";
import {
  authenticate,
  createFirstAdminToken,
  createToken,
  ENV_TOKEN_NAME,
  generateSecret,
  hashSecret,
  seedAdminToken,
} from "./tokens.js";

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof OverseerError) return err.code;
    throw err;
  }
  throw new Error("expected an OverseerError");
}

describe("secrets", () => {
  it("are ovs_ and 32 random bytes in base64url, different every time; the hash is SHA-256 hex", () => {
    const a = generateSecret();
    expect(a).toMatch(/^ovs_[A-Za-z0-9_-]{43}$/);
    expect(generateSecret()).not.toBe(a);
    expect(hashSecret("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("scopes", () => {
  const table: Record<TokenScope, TokenScope[]> = {
    admin: ["admin", "operator", "viewer", "metrics"],
    operator: ["operator", "viewer"],
    viewer: ["viewer"],
    metrics: ["metrics"],
  };
  it.each(TOKEN_SCOPES)("%s reaches exactly what it should", (held) => {
    expect(TOKEN_SCOPES.filter((required) => scopeAllows(held, required))).toEqual(table[held]);
  });
  it("knows its scopes", () => {
    expect(isTokenScope("viewer")).toBe(true);
    expect(isTokenScope("root")).toBe(false);
    expect(isTokenScope(undefined)).toBe(false);
  });
});

describe("tokens on a store", () => {
  it("stores only the hash; authenticate finds the token by its secret and not by anything else", async () => {
    const o = await tempDatabase().open();
    const { secret, token } = await createToken(o.store, "ci", "operator");
    expect(token).toMatchObject({ name: "ci", scope: "operator", hash: hashSecret(secret), revokedAt: null });
    expect(JSON.stringify(await o.store.listTokens())).not.toContain(secret);
    expect(await authenticate(o.store, secret)).toEqual(token);
    expect(await authenticate(o.store, `${secret}x`)).toBeNull();
    expect(await authenticate(o.store, token.hash)).toBeNull();
    await o.store.revokeToken("ci");
    expect(await authenticate(o.store, secret)).toBeNull();
  });

  it("refuses a bad name or scope, and a name in use", async () => {
    const o = await tempDatabase().open();
    expect(await codeOf(createToken(o.store, "has space", "viewer"))).toBe("INVALID_ARGUMENT");
    expect(await codeOf(createToken(o.store, "ci", "root"))).toBe("INVALID_ARGUMENT");
    await createToken(o.store, "ci", "viewer");
    expect(await codeOf(createToken(o.store, "ci", "viewer"))).toBe("TOKEN_NAME_TAKEN");
  });

  it("makes a first admin token only on a database that never had one", async () => {
    const o = await tempDatabase().open();
    const first = await createFirstAdminToken(o.store);
    expect(first?.token).toMatchObject({ name: "admin", scope: "admin" });
    expect(await createFirstAdminToken(o.store)).toBeNull();
    await o.store.revokeToken("admin");
    // Revoking every token is a decision; a restart must not undo it with a fresh admin token.
    expect(await createFirstAdminToken(o.store)).toBeNull();
  });

  it("seeds OVERSEER_ADMIN_TOKEN once, replaces it when it changes, and refuses a revoked or short one", async () => {
    const o = await tempDatabase().open();
    const one = generateSecret();
    await seedAdminToken(o.store, one);
    await seedAdminToken(o.store, one);
    expect((await authenticate(o.store, one))?.name).toBe(ENV_TOKEN_NAME);
    expect(await o.store.listTokens()).toHaveLength(1);

    const two = generateSecret();
    await seedAdminToken(o.store, two);
    expect(await authenticate(o.store, one)).toBeNull();
    expect((await authenticate(o.store, two))?.scope).toBe("admin");
    expect(await codeOf(seedAdminToken(o.store, one))).toBe("INVALID_ARGUMENT");
    expect(await codeOf(seedAdminToken(o.store, "short"))).toBe("INVALID_ARGUMENT");
    const viewer = await createToken(o.store, "v", "viewer");
    expect(await codeOf(seedAdminToken(o.store, viewer.secret))).toBe("INVALID_ARGUMENT");
    // Two processes seeding the same new secret at once both succeed, with one token made.
    const three = generateSecret();
    await Promise.all([seedAdminToken(o.store, three), seedAdminToken(o.store, three)]);
    expect((await o.store.listTokens()).filter((t) => t.name === ENV_TOKEN_NAME && t.revokedAt === null)).toHaveLength(
      1,
    );
  });
});
