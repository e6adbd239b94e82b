/**
 * /api/v1/execution over real HTTP: reading the switch, an operator turning it off but not on,
 * an admin turning it on, each change audited with the token's name, If-Match, bad input, and the
 * mode in /whoami and /stats.
 */
import { describe, expect, it } from "vitest";
import { testApi } from "../test-support/http.js";

describe("/api/v1/execution", () => {
  it("dry-run until an admin turns it on; an operator may only turn it off; each change is audited", async () => {
    const t = await testApi();
    const read = await t.request("GET", "/api/v1/execution", { token: t.tokens.viewer });
    expect(read.status).toBe(200);
    expect(read.body).toEqual({
      mode: "dry-run",
      source: "config",
      changedBy: null,
      changedAt: null,
      reason: null,
      version: 0,
    });
    expect(read.headers.get("etag")).toBe('"0"');

    const refused = await t.request("PUT", "/api/v1/execution", {
      token: t.tokens.operator,
      body: { mode: "enabled", reason: "please" },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: "FORBIDDEN", message: expect.stringMatching(/admin/) });
    const viewer = await t.request("PUT", "/api/v1/execution", { token: t.tokens.viewer, body: { mode: "dry-run" } });
    expect(viewer.status).toBe(403);

    const on = await t.request("PUT", "/api/v1/execution", {
      token: t.tokens.admin,
      body: { mode: "enabled", reason: "release window" },
      headers: { "if-match": '"0"' },
    });
    expect(on.status).toBe(200);
    expect(on.body).toMatchObject({ mode: "enabled", source: "switch", reason: "release window", version: 1 });
    const adminName = on.body.changedBy as string;

    for (const path of ["/api/v1/whoami", "/api/v1/stats"]) {
      const answer = await t.request("GET", path, { token: t.tokens.viewer });
      expect(answer.body.execution, path).toBe("enabled");
    }

    const stale = await t.request("PUT", "/api/v1/execution", {
      token: t.tokens.operator,
      body: { mode: "dry-run", version: 0 },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe("VERSION_CONFLICT");
    const off = await t.request("PUT", "/api/v1/execution", {
      token: t.tokens.operator,
      body: { mode: "dry-run", reason: "incident" },
    });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ mode: "dry-run", version: 2, reason: "incident" });

    const audit = (await t.overseer.readEvents()).filter((e) => e.kind === "execution.changed").map((e) => e.data);
    expect(audit).toEqual([
      { from: "dry-run", to: "enabled", by: adminName, reason: "release window" },
      { from: "enabled", to: "dry-run", by: off.body.changedBy, reason: "incident" },
    ]);
  });

  it("bad input: an unknown mode, an extra field, a reason too long, no token", async () => {
    const t = await testApi();
    const admin = { token: t.tokens.admin };
    const cases: Array<[unknown, RegExp]> = [
      [{ mode: "on" }, /mode/],
      [{}, /mode/],
      [{ mode: "enabled", force: true }, /force/],
      [{ mode: "enabled", reason: "x".repeat(501) }, /reason/],
    ];
    for (const [body, message] of cases) {
      const answer = await t.request("PUT", "/api/v1/execution", { ...admin, body });
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code).toBe("INVALID_ARGUMENT");
      expect(answer.body.error.message).toMatch(message);
    }
    expect((await t.request("GET", "/api/v1/execution", {})).status).toBe(401);
    expect((await t.overseer.execution()).version).toBe(0);
  });
});
