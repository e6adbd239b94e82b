/**
 * The claims part of the store conformance suite (see suite.ts, which calls it with its
 * `test`): taking, retaking, refusing another owner, takeover exactly when the TTL lapses,
 * refresh and release by the holder only, fencing tokens, listing and events. Only the `Store`
 * interface is used; time is the suite's manual clock, so expiry is tested to the millisecond.
 * Concurrency across store instances is proven per backend (claims.*.test.ts), since the suite
 * opens one store per test.
 */
import { describe, expect } from "vitest";
import type { OverseerError } from "../../core/errors.js";
import type { Store } from "../store.js";
import type { ConformanceTest } from "./runs.js";
import { type Ctx, rejectsWith } from "./suite.js";

const TTL = 30_000;
const iso = (ms: number): string => new Date(ms).toISOString();

async function claimEvents(ctx: Ctx): Promise<Array<{ kind: string; data: Record<string, unknown> }>> {
  return (await ctx.store.readEvents())
    .filter((e) => e.kind.startsWith("claim."))
    .map((e) => ({ kind: e.kind, data: e.data as Record<string, unknown> }));
}

export function runClaimConformance(test: ConformanceTest): void {
  describe("claims", () => {
    test("takeClaim of a free key takes it with token 1 and appends claim.taken", async (ctx) => {
      const t0 = ctx.clock.now;
      const taken = await ctx.store.takeClaim("story:ABC-12", "agent-1", TTL);
      const claim = {
        key: "story:ABC-12",
        owner: "agent-1",
        token: 1,
        ttlMs: TTL,
        acquiredAt: iso(t0),
        refreshedAt: iso(t0),
        expiresAt: iso(t0 + TTL),
        role: null,
        agent: null,
        fingerprint: null,
      };
      expect(taken).toEqual({ claim, acquired: true, previousOwner: null });
      expect(await ctx.store.getClaim("story:ABC-12")).toEqual(claim);
      expect(await claimEvents(ctx)).toEqual([
        {
          kind: "claim.taken",
          data: { key: "story:ABC-12", owner: "agent-1", token: 1, ttlMs: TTL, expiresAt: iso(t0 + TTL) },
        },
      ]);
      const event = (await ctx.store.readEvents()).at(-1);
      expect(event).toMatchObject({ jobId: null, runId: null, at: iso(t0) });
    });

    test("a take records who holds it: role, agent and fingerprint, in the claim, the list and the event", async (ctx) => {
      const holder = { role: "reviewer", agent: "claude-code", fingerprint: "host-7:4242" };
      const taken = await ctx.store.takeClaim("story:ABC-12", "agent-1", TTL, holder);
      expect(taken.claim).toMatchObject(holder);
      expect(await ctx.store.getClaim("story:ABC-12")).toMatchObject(holder);
      expect(await ctx.store.listClaims()).toMatchObject([holder]);
      expect((await claimEvents(ctx))[0]?.data).toMatchObject(holder);
      // Kept by a refresh; a retake records what it gives (here, the agent only).
      expect(await ctx.store.refreshClaim("story:ABC-12", "agent-1", TTL)).toMatchObject(holder);
      const retaken = await ctx.store.takeClaim("story:ABC-12", "agent-1", TTL, { agent: "codex" });
      expect(retaken.claim).toMatchObject({ role: null, agent: "codex", fingerprint: null });
      // Checked as an owner is; nothing is written by a refused take.
      for (const bad of [{ role: "" }, { agent: " padded" }, { fingerprint: "x".repeat(201) }, { role: "a\nb" }]) {
        await rejectsWith(() => ctx.store.takeClaim("story:other", "agent-2", TTL, bad), "INVALID_ARGUMENT");
      }
      expect(await ctx.store.getClaim("story:other")).toBeNull();
    });

    test("the holder's retake refreshes it: same token, new expiry and TTL, no event", async (ctx) => {
      const t0 = ctx.clock.now;
      await ctx.store.takeClaim("k", "agent-1", TTL);
      ctx.clock.advance(10_000);
      const again = await ctx.store.takeClaim("k", "agent-1", 60_000);
      expect(again).toEqual({
        claim: {
          key: "k",
          owner: "agent-1",
          token: 1,
          ttlMs: 60_000,
          acquiredAt: iso(t0),
          refreshedAt: iso(t0 + 10_000),
          expiresAt: iso(t0 + 70_000),
          role: null,
          agent: null,
          fingerprint: null,
        },
        acquired: false,
        previousOwner: null,
      });
      expect((await claimEvents(ctx)).map((e) => e.kind)).toEqual(["claim.taken"]);
    });

    test("another owner gets CLAIM_HELD naming the holder and its expiry, through the last millisecond", async (ctx) => {
      const t0 = ctx.clock.now;
      await ctx.store.takeClaim("k", "agent-1", TTL);
      ctx.clock.advance(TTL);
      const err = await rejectsWith(() => ctx.store.takeClaim("k", "agent-2", TTL), "CLAIM_HELD");
      expect(err.details).toEqual({ key: "k", owner: "agent-1", expiresAt: iso(t0 + TTL) });
      expect(err.message).toContain('held by "agent-1"');
      expect(await ctx.store.getClaim("k")).toMatchObject({ owner: "agent-1", token: 1 });
      expect((await claimEvents(ctx)).map((e) => e.kind)).toEqual(["claim.taken"]);
    });

    test("one millisecond after expiry another owner takes it over: token + 1, previous owner named", async (ctx) => {
      const t0 = ctx.clock.now;
      await ctx.store.takeClaim("k", "agent-1", TTL);
      ctx.clock.set(t0 + TTL + 1);
      expect(await ctx.store.getClaim("k")).toBeNull();
      expect(await ctx.store.listClaims()).toEqual([]);
      const taken = await ctx.store.takeClaim("k", "agent-2", 5_000);
      expect(taken).toEqual({
        claim: {
          key: "k",
          owner: "agent-2",
          token: 2,
          ttlMs: 5_000,
          acquiredAt: iso(t0 + TTL + 1),
          refreshedAt: iso(t0 + TTL + 1),
          expiresAt: iso(t0 + TTL + 5_001),
          role: null,
          agent: null,
          fingerprint: null,
        },
        acquired: true,
        previousOwner: "agent-1",
      });
      expect((await claimEvents(ctx)).at(-1)).toEqual({
        kind: "claim.taken",
        data: {
          key: "k",
          owner: "agent-2",
          token: 2,
          ttlMs: 5_000,
          expiresAt: iso(t0 + TTL + 5_001),
          takeover: true,
          previousOwner: "agent-1",
          previousExpiresAt: iso(t0 + TTL),
        },
      });
      // The lapsed holder is now a stranger to it.
      await rejectsWith(() => ctx.store.refreshClaim("k", "agent-1", TTL), "CLAIM_NOT_HELD");
    });

    test("a lapsed holder's own retake is a new holding: a new token, not a refresh", async (ctx) => {
      await ctx.store.takeClaim("k", "agent-1", TTL);
      ctx.clock.advance(TTL + 1);
      const again = await ctx.store.takeClaim("k", "agent-1", TTL);
      expect(again).toMatchObject({ acquired: true, previousOwner: "agent-1", claim: { token: 2 } });
    });

    test("refreshClaim by the holder extends it and keeps the token; nobody else can refresh", async (ctx) => {
      const t0 = ctx.clock.now;
      await ctx.store.takeClaim("k", "agent-1", TTL);
      ctx.clock.advance(TTL);
      const refreshed = await ctx.store.refreshClaim("k", "agent-1", 10_000);
      expect(refreshed).toEqual({
        key: "k",
        owner: "agent-1",
        token: 1,
        ttlMs: 10_000,
        acquiredAt: iso(t0),
        refreshedAt: iso(t0 + TTL),
        expiresAt: iso(t0 + TTL + 10_000),
        role: null,
        agent: null,
        fingerprint: null,
      });
      const err = await rejectsWith(() => ctx.store.refreshClaim("k", "agent-2", TTL), "CLAIM_NOT_HELD");
      expect(err.details).toEqual({ key: "k", owner: "agent-1", expiresAt: iso(t0 + TTL + 10_000) });
      expect(err.message).toContain("only its holder can refresh it");
      expect((await claimEvents(ctx)).map((e) => e.kind)).toEqual(["claim.taken"]);
    });

    test("refreshClaim of an expired, released or never-taken claim is CLAIM_NOT_HELD with no holder", async (ctx) => {
      const none = await rejectsWith(() => ctx.store.refreshClaim("never", "agent-1", TTL), "CLAIM_NOT_HELD");
      expect(none.details).toEqual({ key: "never", owner: null, expiresAt: null });
      await ctx.store.takeClaim("k", "agent-1", TTL);
      ctx.clock.advance(TTL + 1);
      const expired = await rejectsWith(() => ctx.store.refreshClaim("k", "agent-1", TTL), "CLAIM_NOT_HELD");
      expect(expired.message).toContain("expired at");
      await ctx.store.takeClaim("r", "agent-1", TTL);
      await ctx.store.releaseClaim("r", "agent-1");
      const released = await rejectsWith(() => ctx.store.refreshClaim("r", "agent-1", TTL), "CLAIM_NOT_HELD");
      expect(released.message).toContain("released at");
    });

    test("releaseClaim by the holder frees the key at once; the next holder's token is larger", async (ctx) => {
      const t0 = ctx.clock.now;
      await ctx.store.takeClaim("k", "agent-1", TTL);
      ctx.clock.advance(1_000);
      const stranger = await rejectsWith(() => ctx.store.releaseClaim("k", "agent-2"), "CLAIM_NOT_HELD");
      expect(stranger.details).toEqual({ key: "k", owner: "agent-1", expiresAt: iso(t0 + TTL) });
      const released = await ctx.store.releaseClaim("k", "agent-1");
      expect(released).toMatchObject({ key: "k", owner: "agent-1", token: 1 });
      expect(await ctx.store.getClaim("k")).toBeNull();
      await rejectsWith(() => ctx.store.releaseClaim("k", "agent-1"), "CLAIM_NOT_HELD");
      const next = await ctx.store.takeClaim("k", "agent-2", TTL);
      // A release is no takeover: the key was free.
      expect(next).toMatchObject({ acquired: true, previousOwner: null, claim: { owner: "agent-2", token: 2 } });
      expect(await claimEvents(ctx)).toEqual([
        { kind: "claim.taken", data: expect.objectContaining({ owner: "agent-1", token: 1 }) },
        { kind: "claim.released", data: { key: "k", owner: "agent-1", token: 1 } },
        {
          kind: "claim.taken",
          data: { key: "k", owner: "agent-2", token: 2, ttlMs: TTL, expiresAt: iso(t0 + 1_000 + TTL) },
        },
      ]);
    });

    test("releaseClaim of an expired claim is CLAIM_NOT_HELD", async (ctx) => {
      await ctx.store.takeClaim("k", "agent-1", TTL);
      ctx.clock.advance(TTL + 1);
      await rejectsWith(() => ctx.store.releaseClaim("k", "agent-1"), "CLAIM_NOT_HELD");
      await rejectsWith(() => ctx.store.releaseClaim("never", "agent-1"), "CLAIM_NOT_HELD");
    });

    test("the fencing token grows with every new holder and never with a refresh", async (ctx) => {
      const tokens: number[] = [];
      for (let i = 0; i < 4; i++) {
        const { claim } = await ctx.store.takeClaim("k", `agent-${i}`, 1_000);
        tokens.push(claim.token);
        tokens.push((await ctx.store.refreshClaim("k", `agent-${i}`, 1_000)).token);
        if (i % 2 === 0) await ctx.store.releaseClaim("k", `agent-${i}`);
        else ctx.clock.advance(1_001);
      }
      expect(tokens).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
    });

    test("keys are independent, and listClaims shows the held ones by key", async (ctx) => {
      await ctx.store.takeClaim("b", "agent-1", TTL);
      await ctx.store.takeClaim("a", "agent-2", 2_000);
      await ctx.store.takeClaim("c", "agent-1", TTL);
      await ctx.store.releaseClaim("c", "agent-1");
      expect((await ctx.store.listClaims()).map((c) => [c.key, c.owner, c.token])).toEqual([
        ["a", "agent-2", 1],
        ["b", "agent-1", 1],
      ]);
      ctx.clock.advance(2_001);
      expect((await ctx.store.listClaims()).map((c) => c.key)).toEqual(["b"]);
      expect(await ctx.store.getClaim("a")).toBeNull();
      expect(await ctx.store.getClaim("missing")).toBeNull();
    });

    test("bad keys, owners and TTLs are INVALID_ARGUMENT naming the field, and nothing is written", async (ctx) => {
      const cases: Array<[string, string, number, string]> = [
        ["", "agent-1", TTL, "key"],
        ["has space", "agent-1", TTL, "key"],
        ["a/b", "agent-1", TTL, "key"],
        ["k".repeat(201), "agent-1", TTL, "key"],
        ["k", "", TTL, "owner"],
        ["k", " agent", TTL, "owner"],
        ["k", "a\nb", TTL, "owner"],
        ["k", "o".repeat(201), TTL, "owner"],
        ["k", "agent-1", 999, "ttlMs"],
        ["k", "agent-1", 86_400_001, "ttlMs"],
        ["k", "agent-1", Number.NaN, "ttlMs"],
      ];
      for (const [key, owner, ttl, field] of cases) {
        const err = await rejectsWith(() => ctx.store.takeClaim(key, owner, ttl), "INVALID_ARGUMENT");
        expect(err.details, `${JSON.stringify([key, owner, ttl])}`).toEqual({ field });
      }
      await rejectsWith(() => ctx.store.refreshClaim("k", "agent-1", 0), "INVALID_ARGUMENT");
      // The limits themselves are allowed: 200-character keys and owners, 1 s and 24 h.
      await ctx.store.takeClaim("k".repeat(200), "o".repeat(200), 1_000);
      await ctx.store.takeClaim("k2", "agent 7 (on host-a)", 86_400_000);
      expect(await ctx.store.listClaims()).toHaveLength(2);
    });

    test("claimHistory lists takes, releases and takeovers newest first, of every key or of one, in pages", async (ctx) => {
      const t0 = ctx.clock.now;
      await ctx.store.takeClaim("story:A", "agent-1", TTL, { role: "reviewer", agent: "claude-code" });
      await ctx.add();
      await ctx.store.takeClaim("story:B", "agent-2", TTL);
      ctx.clock.advance(1_000);
      await ctx.store.releaseClaim("story:B", "agent-2");
      await ctx.store.refreshClaim("story:A", "agent-1", TTL);
      ctx.clock.set(t0 + 1_000 + TTL + 1);
      await ctx.store.takeClaim("story:A", "agent-3", TTL, { fingerprint: "host-9:1" });
      await ctx.add();

      const all = await ctx.store.claimHistory();
      expect(all.map((e) => [e.kind, e.data.key, e.data.owner])).toEqual([
        ["claim.taken", "story:A", "agent-3"],
        ["claim.released", "story:B", "agent-2"],
        ["claim.taken", "story:B", "agent-2"],
        ["claim.taken", "story:A", "agent-1"],
      ]);
      expect(all[0]).toMatchObject({
        at: iso(t0 + 1_000 + TTL + 1),
        jobId: null,
        data: { token: 2, fingerprint: "host-9:1", takeover: true, previousOwner: "agent-1" },
      });
      expect(all[3]?.data).toMatchObject({ token: 1, role: "reviewer", agent: "claude-code" });

      const a = await ctx.store.claimHistory({ key: "story:A" });
      expect(a.map((e) => e.data.owner)).toEqual(["agent-3", "agent-1"]);
      expect(await ctx.store.claimHistory({ key: "story:none" })).toEqual([]);
      // Pages: the newest two, then those older than the last of them.
      const first = await ctx.store.claimHistory({ limit: 2 });
      expect(first).toEqual(all.slice(0, 2));
      expect(await ctx.store.claimHistory({ beforeSeq: first.at(-1)?.seq, limit: 10 })).toEqual(all.slice(2));
      expect(await ctx.store.claimHistory({ key: "story:A", beforeSeq: a[0]?.seq })).toEqual(a.slice(1));
    });

    test("concurrent takes of one key through one store: exactly one acquires it", async (ctx) => {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => ctx.store.takeClaim("k", `agent-${i}`, TTL)),
      );
      const won = outcomes.filter((o) => o.status === "fulfilled");
      expect(won).toHaveLength(1);
      for (const o of outcomes) {
        if (o.status === "rejected") expect((o.reason as OverseerError).code).toBe("CLAIM_HELD");
      }
      expect((await claimEvents(ctx)).map((e) => e.kind)).toEqual(["claim.taken"]);
    });
  });
}

export interface ClaimRace {
  /** The owners whose take acquired the claim (exactly one, if the store is right). */
  winners: string[];
  /** Every refusal's code and the holder it named. */
  refusals: Array<{ code: string; holder: unknown }>;
  ms: number;
}

/**
 * `stores[i]` takes `key` as `${prefix}i`, all at once: for the per-backend tests that prove at
 * most one holder across separate store instances (separate connections).
 */
export async function raceForClaim(
  stores: ReadonlyArray<Pick<Store, "takeClaim">>,
  key: string,
  ttlMs = TTL,
  prefix = "agent-",
): Promise<ClaimRace> {
  const started = performance.now();
  const outcomes = await Promise.allSettled(stores.map((s, i) => s.takeClaim(key, `${prefix}${i}`, ttlMs)));
  const ms = performance.now() - started;
  const winners: string[] = [];
  const refusals: ClaimRace["refusals"] = [];
  for (const o of outcomes) {
    if (o.status === "fulfilled") {
      if (o.value.acquired) winners.push(o.value.claim.owner);
    } else {
      const err = o.reason as OverseerError;
      refusals.push({ code: err.code ?? String(err), holder: err.details?.owner });
    }
  }
  return { winners, refusals, ms };
}
