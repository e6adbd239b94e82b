/**
 * /api/v1/claims over real HTTP: 20 concurrent takers get one 201 and 19 × 409 naming the
 * holder; retake, refresh, release by the holder only; reading; the history, paged; and bad
 * input with messages that name the field.
 */
import { describe, expect, it } from "vitest";
import { testApi } from "../test-support/http.js";
import { testDatabase } from "../test-support/test-backend.js";

describe("/api/v1/claims", () => {
  it("20 concurrent takers of one key: exactly one 201, and 19 × 409 CLAIM_HELD naming the holder", async () => {
    const t = await testApi();
    const started = performance.now();
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.request("POST", "/api/v1/claims/story:ABC-12", {
          token: t.tokens.operator,
          body: { owner: `agent-${i}`, ttl: "30s" },
        }),
      ),
    );
    const ms = performance.now() - started;
    const won = responses.filter((r) => r.status === 201);
    expect(won).toHaveLength(1);
    const winner = won[0]?.body.claim.owner as string;
    expect(won[0]?.body).toMatchObject({ claim: { key: "story:ABC-12", owner: winner, token: 1, ttlMs: 30_000 } });
    expect(won[0]?.headers.get("location")).toBe("/api/v1/claims/story%3AABC-12");
    const lost = responses.filter((r) => r.status !== 201);
    expect(lost.map((r) => r.status)).toEqual(Array(19).fill(409));
    for (const r of lost) {
      expect(r.body.error).toMatchObject({
        code: "CLAIM_HELD",
        details: { key: "story:ABC-12", owner: winner, expiresAt: won[0]?.body.claim.expiresAt },
      });
    }
    expect(ms).toBeLessThan(5_000);
    const events = (await t.overseer.readEvents()).filter((e) => e.kind.startsWith("claim."));
    expect(events.map((e) => [e.kind, e.data.owner])).toEqual([["claim.taken", winner]]);
  });

  it("the holder retakes (200) and refreshes; a stranger cannot refresh or release (409); the holder releases", async () => {
    const t = await testApi();
    const op = { token: t.tokens.operator };
    const first = await t.request("POST", "/api/v1/claims/k", { ...op, body: { owner: "a", ttl: 60_000 } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ acquired: true, previousOwner: null, claim: { owner: "a", ttlMs: 60_000 } });
    expect(first.body.claim).toMatchObject({ role: null, agent: null, fingerprint: null });
    const who = { role: "reviewer", agent: "claude-code", fingerprint: "host-7:4242" };
    const again = await t.request("POST", "/api/v1/claims/k", { ...op, body: { owner: "a", ttl: "5m", ...who } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ acquired: false, claim: { token: 1, ttlMs: 300_000, ...who } });

    const refreshed = await t.request("POST", "/api/v1/claims/k/refresh", { ...op, body: { owner: "a", ttl: "10s" } });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.claim).toMatchObject({ owner: "a", token: 1, ttlMs: 10_000 });

    for (const path of ["/api/v1/claims/k/refresh", "/api/v1/claims/k/release"]) {
      const body = path.endsWith("refresh") ? { owner: "b", ttl: "10s" } : { owner: "b" };
      const refused = await t.request("POST", path, { ...op, body });
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({ code: "CLAIM_NOT_HELD", details: { key: "k", owner: "a" } });
    }

    const viewer = { token: t.tokens.viewer };
    expect((await t.request("GET", "/api/v1/claims/k", viewer)).body.claim).toMatchObject({ key: "k", owner: "a" });
    expect((await t.request("GET", "/api/v1/claims", viewer)).body.items.map((c: { key: string }) => c.key)).toEqual([
      "k",
    ]);

    const released = await t.request("POST", "/api/v1/claims/k/release", { ...op, body: { owner: "a" } });
    expect(released.status).toBe(200);
    expect(released.body.claim).toMatchObject({ key: "k", owner: "a", token: 1 });
    const gone = await t.request("GET", "/api/v1/claims/k", viewer);
    expect(gone.status).toBe(404);
    expect(gone.body.error).toMatchObject({ code: "CLAIM_NOT_FOUND", message: 'nobody holds a claim on "k"' });
    expect((await t.request("GET", "/api/v1/claims", viewer)).body.items).toEqual([]);
    const again2 = await t.request("POST", "/api/v1/claims/k/release", { ...op, body: { owner: "a" } });
    expect(again2.status).toBe(409);
    expect(again2.body.error).toMatchObject({ code: "CLAIM_NOT_HELD", details: { owner: null } });
    const next = await t.request("POST", "/api/v1/claims/k", { ...op, body: { owner: "b", ttl: "1s" } });
    expect(next.status).toBe(201);
    expect(next.body.claim.token).toBe(2);
  });

  it("GET /claim-history: takes, releases and takeovers newest first, for a viewer, of one key or all, in pages", async () => {
    let now = Date.parse("2030-01-01T09:00:00.000Z");
    const t = await testApi({
      open: async (o) => (await testDatabase("overseer-http-")).open({ ...o, clock: () => now }),
    });
    const op = { token: t.tokens.operator };
    const viewer = { token: t.tokens.viewer };
    const take = (key: string, body: object) => t.request("POST", `/api/v1/claims/${key}`, { ...op, body });
    await take("story:A", { owner: "agent-1", ttl: "30s", role: "reviewer", agent: "claude-code" });
    await take("story:B", { owner: "agent-2", ttl: "30s" });
    await t.request("POST", "/api/v1/claims/story:B/release", { ...op, body: { owner: "agent-2" } });
    now += 30_001;
    expect((await take("story:A", { owner: "agent-3", ttl: "1m", fingerprint: "host-9:1" })).status).toBe(201);

    const all = await t.request("GET", "/api/v1/claim-history", viewer);
    expect(all.status).toBe(200);
    expect(all.body.nextCursor).toBeNull();
    expect(all.body.items.map((e: { kind: string; data: { owner: string } }) => [e.kind, e.data.owner])).toEqual([
      ["claim.taken", "agent-3"],
      ["claim.released", "agent-2"],
      ["claim.taken", "agent-2"],
      ["claim.taken", "agent-1"],
    ]);
    expect(all.body.items[0]).toMatchObject({
      at: "2030-01-01T09:00:30.001Z",
      data: { key: "story:A", token: 2, takeover: true, previousOwner: "agent-1", fingerprint: "host-9:1" },
    });

    const first = await t.request("GET", "/api/v1/claim-history?key=story:A&limit=1", viewer);
    expect(first.body.items.map((e: { data: { owner: string } }) => e.data.owner)).toEqual(["agent-3"]);
    const second = await t.request(
      "GET",
      `/api/v1/claim-history?key=story:A&limit=1&cursor=${first.body.nextCursor}`,
      viewer,
    );
    expect(second.body).toEqual({ items: [all.body.items[3]], nextCursor: null });

    for (const [query, field] of [
      ["key=bad%20key", "key"],
      ["cursor=nonsense", "cursor"],
      ["limit=0", "limit"],
    ]) {
      const refused = await t.request("GET", `/api/v1/claim-history?${query}`, viewer);
      expect(refused.status, query).toBe(400);
      expect(refused.body.error).toMatchObject({ code: "INVALID_ARGUMENT", details: { field } });
    }
  });

  it("bad input is 400 INVALID_ARGUMENT with a message naming the field", async () => {
    const t = await testApi();
    const op = { token: t.tokens.operator };
    const cases: Array<[string, unknown, RegExp]> = [
      ["/api/v1/claims/k", { ttl: "30s" }, /^body\.owner: is required$/],
      ["/api/v1/claims/k", { owner: "a" }, /^body\.ttl: is required$/],
      ["/api/v1/claims/k", { owner: "a", ttl: "soon" }, /^ttl must be a duration such as 500ms, 30s/],
      ["/api/v1/claims/k", { owner: "a", ttl: "500ms" }, /^ttl must be between 1s and 24h/],
      ["/api/v1/claims/k", { owner: "a", ttl: "25h" }, /^ttl must be between 1s and 24h/],
      ["/api/v1/claims/k", { owner: "a", ttl: -5 }, /^ttl must be a non-negative number of milliseconds/],
      ["/api/v1/claims/k", { owner: "", ttl: "30s" }, /^owner must be 1-200 characters/],
      ["/api/v1/claims/k", { owner: "a", ttl: "30s", role: " lead" }, /^role must be 1-200 characters/],
      ["/api/v1/claims/k", { owner: "a", ttl: "30s", agent: 7 }, /^body\.agent: must be string$/],
      ["/api/v1/claims/k/refresh", { owner: "a", ttl: "30s", role: "x" }, /^body: unknown field "role"$/],
      ["/api/v1/claims/k", { owner: "a", ttl: "30s", extra: 1 }, /^body: unknown field "extra"$/],
      ["/api/v1/claims/bad%20key", { owner: "a", ttl: "30s" }, /^key must be 1-200 characters of letters, digits/],
      [`/api/v1/claims/${"k".repeat(201)}`, { owner: "a", ttl: "30s" }, /^key must be 1-200 characters/],
      ["/api/v1/claims/k/refresh", { owner: "a", ttl: "0s" }, /^ttl must be between 1s and 24h/],
      ["/api/v1/claims/k/release", {}, /^body\.owner: is required$/],
    ];
    for (const [path, body, message] of cases) {
      const res = await t.request("POST", path, { ...op, body });
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.body.error.code).toBe("INVALID_ARGUMENT");
      expect(res.body.error.message, `${path} ${JSON.stringify(body)}`).toMatch(message);
    }
    // An empty key: the route needs one.
    const empty = await t.request("POST", "/api/v1/claims/", { ...op, body: { owner: "a", ttl: "30s" } });
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toMatch(/^key must be 1-200 characters/);
    expect((await t.request("GET", "/api/v1/claims/bad%20key", { token: t.tokens.viewer })).status).toBe(400);
    expect(await t.overseer.listClaims()).toEqual([]);
  });
});
