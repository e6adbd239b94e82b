/**
 * The follow-up part of the store conformance suite (see suite.ts, which calls it with its
 * `test`): a task's `onDead` or `onSuccess` job (core/follow-up.ts) is inserted in the
 * transaction that records the end, only if that end is recorded (the lease held), and the end's
 * event names it. A job that dies of an expired lease gets its follow-up from the defaults its
 * task's workers registered, since the worker that ran it is gone.
 */
import { describe, expect } from "vitest";
import { deadPayload, followUpJob, successPayload } from "../../core/follow-up.js";
import type { JobError } from "../../core/types.js";
import type { ConformanceTest } from "./runs.js";

const NO_ANSWER: JobError = { code: "NO_ANSWER", message: "nobody picked up", retryable: true };

export function runFollowUpConformance(test: ConformanceTest): void {
  describe("follow-up jobs (onDead, onSuccess)", () => {
    test("a dead job's follow-up is inserted with its death, and its event names it", async (ctx) => {
      const job = await ctx.add({ maxAttempts: 1 }, { payload: { phone: "+15550100" } });
      const claimed = await ctx.claimOne();
      const ended = { ...claimed.job, payload: { phone: "+15550100" } };
      const followUp = followUpJob({ task: "a", queue: "sms" }, deadPayload(ended, NO_ANSWER), { maxAttempts: 2 });
      // As a traced worker's: a child of the attempt's span.
      followUp.traceContext = { traceparent: `00-${"3".repeat(32)}-${"4".repeat(16)}-01`, tracestate: null };
      const result = {
        lease: claimed.lease,
        outcome: "dead",
        error: NO_ANSWER,
        reason: "max_attempts_exceeded",
      } as const;

      // A stale lease records nothing, follow-up included.
      const stale = { ...result, lease: { ...claimed.lease, token: claimed.lease.token + 1 }, followUp };
      expect(await ctx.store.finish([stale])).toEqual([false]);
      expect(await ctx.store.getJob(followUp.id)).toBeNull();

      expect(await ctx.store.finish([{ ...result, followUp }])).toEqual([true]);
      expect(await ctx.job(followUp.id)).toMatchObject({
        task: "a",
        queue: "sms",
        state: "queued",
        maxAttempts: 2,
        payload: {
          job: { id: job.id, task: "t", queue: "default", attempts: 1 },
          payload: { phone: "+15550100" },
          error: NO_ANSWER,
        },
        traceContext: followUp.traceContext,
      });
      const dead = (await ctx.store.readEvents({ jobId: job.id })).find((e) => e.kind === "job.dead");
      expect(dead?.data).toEqual({ attempt: 1, reason: "max_attempts_exceeded", followUp: followUp.id });
      expect(await ctx.kinds(followUp.id)).toEqual(["job.enqueued"]);
      expect((await ctx.claimOne({ queues: ["sms"] })).job.id).toBe(followUp.id);
    });

    test("a succeeded job's follow-up is inserted with its success, alone or among others", async (ctx) => {
      const [one, two] = [await ctx.add(), await ctx.add()];
      const [a, b] = await ctx.claim({ limit: 2 });
      if (!a || !b) throw new Error("expected two claims");
      const followUp = followUpJob("b", successPayload({ ...a.job, payload: {} }, { sent: 1 }), undefined);
      expect(
        await ctx.store.finish([
          { lease: a.lease, outcome: "succeeded", resultJson: '{"sent":1}', followUp },
          { lease: b.lease, outcome: "succeeded", resultJson: "null" },
        ]),
      ).toEqual([true, true]);
      expect(await ctx.job(followUp.id)).toMatchObject({
        task: "b",
        state: "queued",
        payload: { job: { id: one?.id, task: "t" }, payload: {}, result: { sent: 1 } },
      });
      const events = (await ctx.store.readEvents()).filter((e) => e.kind === "job.succeeded");
      expect(events.map((e) => [e.jobId, e.data.followUp])).toEqual([
        [one?.id, followUp.id],
        [two?.id, undefined],
      ]);
    });

    test("a job that dies of an expired lease gets the follow-up its task's workers registered", async (ctx) => {
      const defaults = {
        t: JSON.stringify({ onDead: { task: "a", priority: "high" } }),
        a: JSON.stringify({ queue: "sms", maxAttempts: 2, backoff: ["1m"] }),
      };
      await ctx.store.registerWorker({
        id: "w-old",
        name: "old",
        host: "h",
        pid: 1,
        queues: null,
        tasks: ["t", "a"],
        concurrency: 1,
        defaults,
      });
      // Enqueued in a trace: its follow-up joins it, no attempt's span being left to be its parent.
      const traceContext = { traceparent: `00-${"1".repeat(32)}-${"2".repeat(16)}-01`, tracestate: "v=1" };
      const { job } = await ctx.store.enqueue({
        ...ctx.newJob({ maxAttempts: 1 }, { payload: { phone: "+15550100" } }),
        traceContext,
      });
      await ctx.claimOne({ leaseMs: 1_000 });
      ctx.clock.advance(1_001);
      expect((await ctx.store.recoverExpiredLeases()).map((j) => j.state)).toEqual(["dead"]);
      const dead = (await ctx.store.readEvents({ jobId: job.id })).find((e) => e.kind === "job.dead");
      const followUpId = dead?.data.followUp as string;
      expect(followUpId).toEqual(expect.any(String));
      expect(await ctx.job(followUpId)).toMatchObject({
        task: "a",
        queue: "sms",
        priority: -10,
        maxAttempts: 2,
        backoff: { type: "schedule", delaysMs: [60_000] },
        payload: {
          job: { id: job.id, task: "t", queue: "default", attempts: 1 },
          payload: { phone: "+15550100" },
          error: { code: "LEASE_EXPIRED" },
        },
        traceContext,
      });
      // Recovering again finds nothing: one death, one follow-up.
      expect(await ctx.store.recoverExpiredLeases()).toEqual([]);
      const followUps = (await ctx.store.listJobs()).filter((j) => j.task === "a");
      expect(followUps.map((j) => j.id)).toEqual([followUpId]);
    });

    test("a follow-up the registry's defaults cannot make: the job dies all the same, and says why", async (ctx) => {
      const defaults = { t: JSON.stringify({ onDead: "a" }), a: JSON.stringify({ queue: "no spaces allowed" }) };
      const base = { name: "w", host: "h", pid: 1, queues: null, tasks: ["t", "a"], concurrency: 1 };
      await ctx.store.registerWorker({ ...base, id: "w-1", defaults });
      // A registration that records no defaults keeps what the registry has.
      await ctx.store.registerWorker({ ...base, id: "w-2" });
      expect([...(await ctx.store.taskDefaults()).entries()]).toEqual([
        ["a", { queue: "no spaces allowed" }],
        ["t", { onDead: "a" }],
      ]);
      const job = await ctx.add({ maxAttempts: 1 });
      await ctx.claimOne({ leaseMs: 1_000 });
      ctx.clock.advance(1_001);
      expect((await ctx.store.recoverExpiredLeases()).map((j) => j.state)).toEqual(["dead"]);
      const dead = (await ctx.store.readEvents({ jobId: job.id })).find((e) => e.kind === "job.dead");
      expect(dead?.data).toMatchObject({
        attempt: 1,
        reason: "lease_expired",
        followUpError: expect.stringContaining("queue"),
      });
      expect((await ctx.store.listJobs()).map((j) => j.id)).toEqual([job.id]);
    });

    test("a later registration without the hook takes it away; a lease-expired job then dies alone", async (ctx) => {
      const base = { name: "w", host: "h", pid: 1, queues: null, tasks: ["t"], concurrency: 1 };
      await ctx.store.registerWorker({ ...base, id: "w-1", defaults: { t: JSON.stringify({ onDead: "a" }) } });
      await ctx.store.registerWorker({ ...base, id: "w-2", defaults: { t: JSON.stringify({}) } });
      const job = await ctx.add({ maxAttempts: 1 });
      await ctx.claimOne({ leaseMs: 1_000 });
      ctx.clock.advance(1_001);
      await ctx.store.recoverExpiredLeases();
      const dead = (await ctx.store.readEvents({ jobId: job.id })).find((e) => e.kind === "job.dead");
      expect(dead?.data).toEqual({ attempt: 1, reason: "lease_expired" });
      expect((await ctx.store.listJobs()).map((j) => j.id)).toEqual([job.id]);
    });
  });
}
