/**
 * The held-jobs part of the store conformance suite (see suite.ts, which calls it with its
 * `test`). A worker with prefetch claims more jobs than it has free slots: the claim starts the
 * first `start` of them and holds the rest (all are leased, and get `job.started`, at the claim).
 * A held job's start is recorded by `startHeld` (before its handler runs, or soon after it began:
 * see the engine's start-batcher.ts). If its lease expires before that record, it goes back to
 * the queue with its attempt count unchanged and the lease's error, and `job.released` says why;
 * once started, an expired lease counts as before (a job that kills its worker every time must
 * still end).
 */
import { describe, expect } from "vitest";
import type { ConformanceTest } from "./runs.js";

const iso = (ms: number): string => new Date(ms).toISOString();

export function runHeldConformance(test: ConformanceTest): void {
  describe("held jobs (claimed ahead of a free slot)", () => {
    test("held jobs are claimed and leased like started ones; startHeld starts only held ones", async (ctx) => {
      const jobs = [await ctx.add(), await ctx.add(), await ctx.add()];
      const claimed = await ctx.claim({ limit: 3, start: 1 });
      expect(claimed.map((c) => c.job.id)).toEqual(jobs.map((j) => j.id));
      expect(claimed.map((c) => c.job.attempts)).toEqual([1, 1, 1]);
      for (const job of jobs) expect(await ctx.kinds(job.id)).toEqual(["job.enqueued", "job.started"]);
      // No other claim takes them.
      expect(await ctx.claim({ workerId: "w2" })).toEqual([]);
      // The first was started by the claim: starting it again does nothing.
      const leases = claimed.map((c) => c.lease);
      expect(await ctx.store.startHeld(leases)).toEqual([jobs[1]?.id, jobs[2]?.id]);
    });

    test("a claim that meets a concurrency key part-way takes the jobs behind it too, and starts the first `start`", async (ctx) => {
      const key = { concurrency: { key: "k", limit: 1 } };
      const jobs = [await ctx.add(), await ctx.add(), await ctx.add(key), await ctx.add(key), await ctx.add()];
      jobs.push(await ctx.add());
      const claimed = await ctx.claim({ limit: 10, start: 3 });
      // The second job of the key waits for the first; the rest go in claim order.
      const taken = [jobs[0], jobs[1], jobs[2], jobs[4], jobs[5]].map((j) => j?.id);
      expect(claimed.map((c) => c.job.id)).toEqual(taken);
      for (const id of taken) expect(await ctx.kinds(id as string)).toEqual(["job.enqueued", "job.started"]);
      expect(await ctx.store.startHeld(claimed.map((c) => c.lease))).toEqual([jobs[4]?.id, jobs[5]?.id]);
    });

    test("a held job whose lease expires goes back to the queue without losing its attempt", async (ctx) => {
      const started = await ctx.add({ maxAttempts: 1 });
      const held = await ctx.add({ maxAttempts: 1 });
      await ctx.claim({ workerId: "w1", limit: 2, start: 1, leaseMs: 1_000 });
      ctx.clock.advance(1_001);
      const recovered = await ctx.store.recoverExpiredLeases();
      const states = Object.fromEntries(recovered.map((j) => [j.id, j.state]));
      expect(states).toEqual({ [started.id]: "dead", [held.id]: "queued" });
      // The started one was charged its only attempt; the held one was not, and keeps the
      // lease's error, which has its next start recorded before its handler runs.
      expect(await ctx.job(held.id)).toMatchObject({
        state: "queued",
        attempts: 0,
        lastError: { code: "LEASE_EXPIRED", retryable: true },
        leaseOwner: null,
      });
      expect(await ctx.store.listAttempts(held.id)).toMatchObject([
        { number: 1, outcome: "released", finishedAt: iso(ctx.clock.now) },
      ]);
      expect(await ctx.kinds(held.id)).toEqual(["job.enqueued", "job.started", "job.released"]);
      const released = (await ctx.store.readEvents({ jobId: held.id })).at(-1);
      expect(released).toMatchObject({
        workerId: "w1",
        data: { reason: "lease_expired_before_start", workerId: "w1" },
      });

      // Its one attempt is still to come, in its place in line.
      const again = await ctx.claimOne({ workerId: "w2" });
      expect(again.job.id).toBe(held.id);
      expect(again.job.attempts).toBe(1);
      expect(await ctx.kinds(held.id)).toEqual(["job.enqueued", "job.started", "job.released", "job.started"]);
    });

    test("startHeld does not start a held job whose lease has expired, recovered or not", async (ctx) => {
      await ctx.add();
      const held = await ctx.add();
      const claimed = await ctx.claim({ limit: 2, start: 1, leaseMs: 1_000 });
      // A lease holds through its expiry millisecond, and not a millisecond longer.
      ctx.clock.advance(1_001);
      // Expired, not yet recovered: starting it now would charge an attempt its worker may not keep.
      expect(await ctx.store.startHeld(claimed.map((c) => c.lease))).toEqual([]);
      expect(await ctx.job(held.id)).toMatchObject({ state: "running", attempts: 1 });
      await ctx.store.recoverExpiredLeases();
      expect(await ctx.job(held.id)).toMatchObject({ state: "queued", attempts: 0 });
    });

    test("startHeld records the start; from then on an expired lease counts the attempt", async (ctx) => {
      await ctx.add({ maxAttempts: 1 });
      const job = await ctx.add({ maxAttempts: 1 });
      const claimed = await ctx.claim({ limit: 2, start: 1, leaseMs: 1_000 });
      const lease = claimed[1]?.lease;
      expect(lease?.jobId).toBe(job.id);
      if (!lease) return;
      ctx.clock.advance(500);
      expect(await ctx.store.startHeld([lease])).toEqual([job.id]);
      expect(await ctx.job(job.id)).toMatchObject({ state: "running", attempts: 1, startedAt: iso(ctx.clock.now) });
      expect(await ctx.store.listAttempts(job.id)).toMatchObject([
        { number: 1, outcome: "running", startedAt: iso(ctx.clock.now) },
      ]);
      // A second start of the same lease records nothing more.
      expect(await ctx.store.startHeld([lease])).toEqual([]);
      expect(await ctx.kinds(job.id)).toEqual(["job.enqueued", "job.started"]);

      ctx.clock.advance(501);
      await ctx.store.recoverExpiredLeases();
      expect(await ctx.job(job.id)).toMatchObject({ state: "dead", attempts: 1 });
      expect(await ctx.store.listAttempts(job.id)).toMatchObject([{ outcome: "lost" }]);
      expect(await ctx.kinds(job.id)).toEqual(["job.enqueued", "job.started", "job.lost", "job.dead"]);
    });

    test("startHeld starts nothing whose lease is gone, and finishing a held job works", async (ctx) => {
      await ctx.add();
      const a = await ctx.add();
      const b = await ctx.add();
      const claimed = await ctx.claim({ limit: 3, start: 1, leaseMs: 1_000 });
      const [lease0, leaseA, leaseB] = claimed.map((c) => c.lease);
      if (!lease0 || !leaseA || !leaseB) throw new Error("expected three claimed jobs");
      // b's lease is not renewed (a stalled heartbeat): it is handed back and claimed by another worker.
      ctx.clock.advance(900);
      await ctx.store.heartbeat("w1", [lease0, leaseA], 1_000);
      ctx.clock.advance(101);
      await ctx.store.recoverExpiredLeases();
      expect((await ctx.job(b.id)).state).toBe("queued");
      const retaken = await ctx.claimOne({ workerId: "w2", tasks: ["t"] });
      expect(retaken.job.id).toBe(b.id);
      // A stale lease, and a forged token, start nothing; the current holder's held lease does.
      expect(await ctx.store.startHeld([leaseB, { ...leaseA, token: leaseA.token + 1 }, leaseA])).toEqual([a.id]);
      expect(await ctx.kinds(b.id)).toEqual(["job.enqueued", "job.started", "job.released", "job.started"]);
      await ctx.succeed(leaseA, "done");
      expect(await ctx.job(a.id)).toMatchObject({ state: "succeeded", attempts: 1 });
      expect(await ctx.kinds(a.id)).toEqual(["job.enqueued", "job.started", "job.succeeded"]);
    });

    test("a held job cancelled before its lease expires is cancelled, not requeued", async (ctx) => {
      await ctx.add();
      const job = await ctx.add({ maxAttempts: 3 });
      await ctx.claim({ limit: 2, start: 1, leaseMs: 1_000 });
      await ctx.store.cancelJob(job.id);
      ctx.clock.advance(1_001);
      await ctx.store.recoverExpiredLeases();
      expect((await ctx.job(job.id)).state).toBe("cancelled");
    });
  });
}
