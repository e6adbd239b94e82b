/**
 * The durable-handler part of the store conformance suite (see suite.ts, which calls it
 * with its `test`): steps (first write wins), lease fencing, sleeps that park a job and give its
 * attempt back, signal waits, signals kept until a wait takes them, delivery to parked jobs only,
 * and cleanup when a job is deleted. Only the `Store` interface is used; time is the suite's
 * manual clock, so a parked job is shown claimable exactly at its end, not a millisecond before.
 */
import { describe, expect } from "vitest";
import type { NewSignal } from "../../core/durable.js";
import type { ClaimedJob, Lease } from "../../core/types.js";
import type { ConformanceTest } from "./runs.js";
import type { Ctx } from "./suite.js";

const iso = (ms: number): string => new Date(ms).toISOString();

/** Ids that sort in posting order, as the ULIDs the SDK gives them do. */
let sequence = 0;
function newSignal(name: string, payload: unknown, jobId: string | null = null): NewSignal {
  sequence++;
  return { id: `01SIG${String(sequence).padStart(8, "0")}`, name, payloadJson: JSON.stringify(payload), jobId };
}

/** Enqueues a job and claims it (nothing else may be ready). */
async function running(ctx: Ctx): Promise<ClaimedJob> {
  const job = await ctx.add();
  const claimed = await ctx.claimOne();
  expect(claimed.job.id).toBe(job.id);
  return claimed;
}

/** Claims the one ready job and expects it to be `jobId`. */
async function reclaim(ctx: Ctx, jobId: string): Promise<Lease> {
  const { job, lease } = await ctx.claimOne();
  expect(job.id).toBe(jobId);
  return lease;
}

async function waitFor(
  ctx: Ctx,
  lease: Lease,
  name: string,
  options: { step?: string; match?: Record<string, unknown> | null; timeoutMs?: number } = {},
) {
  return ctx.store.waitForSignal(lease, {
    step: options.step ?? `wait:${name}#1`,
    name,
    match: options.match ?? null,
    timeoutMs: options.timeoutMs ?? 60_000,
  });
}

async function eventData(ctx: Ctx, jobId: string, kind: string): Promise<unknown[]> {
  return (await ctx.store.readEvents({ jobId })).filter((e) => e.kind === kind).map((e) => e.data);
}

export function runDurableConformance(test: ConformanceTest): void {
  describe("durable handlers", () => {
    test("recordStep stores a step once: the first write of a name wins", async (ctx) => {
      const { job, lease } = await running(ctx);
      const t0 = ctx.clock.now;
      const first = await ctx.store.recordStep(lease, { name: "charge", kind: "step", resultJson: '{"id":1}' });
      expect(first).toEqual({ name: "charge", kind: "step", resultJson: '{"id":1}', createdAt: iso(t0) });
      ctx.clock.advance(10);
      const second = await ctx.store.recordStep(lease, { name: "charge", kind: "step", resultJson: '{"id":2}' });
      expect(second).toEqual(first);
      await ctx.store.recordStep(lease, { name: "email", kind: "step", resultJson: "null" });
      expect((await ctx.store.listJobSteps(job.id)).map((s) => [s.name, s.resultJson])).toEqual([
        ["charge", '{"id":1}'],
        ["email", "null"],
      ]);
      expect(await ctx.store.listJobSteps("no-such-job")).toEqual([]);
    });

    test("a stale lease writes nothing: recordStep, sleepJob and waitForSignal return null", async (ctx) => {
      const { job, lease } = await running(ctx);
      await ctx.store.postSignal(newSignal("paid", { n: 1 }));
      const stale = { ...lease, token: lease.token + 1 };
      const before = await ctx.job(job.id);
      expect(await ctx.store.recordStep(stale, { name: "s", kind: "step", resultJson: "1" })).toBeNull();
      expect(await ctx.store.sleepJob(stale, { step: "sleep#1", delayMs: 1_000 })).toBeNull();
      expect(await waitFor(ctx, stale, "paid")).toBeNull();
      expect(await ctx.store.listJobSteps(job.id)).toEqual([]);
      expect(await ctx.job(job.id)).toEqual(before);
      expect((await ctx.store.listAttempts(job.id)).map((a) => a.outcome)).toEqual(["running"]);
      // The signal was not consumed: the holder's own wait still gets it.
      const done = await waitFor(ctx, lease, "paid");
      expect(done).toMatchObject({ kind: "done", step: { resultJson: '{"n":1}' } });
      // A finished job's lease is no lease either.
      await ctx.succeed(lease);
      expect(await ctx.store.recordStep(lease, { name: "late", kind: "step", resultJson: "1" })).toBeNull();
    });

    test("sleepJob parks the job until its end and gives the attempt back", async (ctx) => {
      const { job, lease } = await running(ctx);
      const t0 = ctx.clock.now;
      const until = t0 + 60_000;
      expect(await ctx.store.sleepJob(lease, { step: "sleep#1", delayMs: 60_000 })).toEqual({
        parked: true,
        until: iso(until),
      });
      const parked = await ctx.job(job.id);
      expect(parked).toMatchObject({
        state: "scheduled",
        runAt: iso(until),
        // The attempt is given back: the execution that resumes is the same attempt going on.
        attempts: 0,
        maxAttempts: job.maxAttempts,
        leaseOwner: null,
        leaseExpiresAt: null,
      });
      expect(parked.version).toBeGreaterThan(job.version);
      const [attempt] = await ctx.store.listAttempts(job.id);
      expect(attempt).toMatchObject({ number: 1, outcome: "parked", finishedAt: iso(t0), error: null });
      expect(await eventData(ctx, job.id, "job.parked")).toEqual([
        { step: "sleep#1", kind: "sleep", until: iso(until) },
      ]);
      expect((await ctx.store.readEvents({ jobId: job.id })).at(-1)).toMatchObject({ workerId: "w1" });
      expect(await ctx.store.listJobSteps(job.id)).toEqual([
        { name: "sleep#1", kind: "sleep", resultJson: JSON.stringify(iso(until)), createdAt: iso(t0) },
      ]);
      expect(await ctx.store.nextScheduledAt()).toBe(until);
      // The old lease is gone with the park.
      expect(await ctx.store.recordStep(lease, { name: "x", kind: "step", resultJson: "1" })).toBeNull();

      ctx.clock.set(until - 1);
      expect(await ctx.claim()).toEqual([]);
      ctx.clock.set(until);
      const again = await reclaim(ctx, job.id);
      expect((await ctx.job(job.id)).attempts).toBe(1);
      // The stored end wins over what the re-run asks for: the sleep is over.
      expect(await ctx.store.sleepJob(again, { step: "sleep#1", delayMs: 60_000 })).toEqual({
        parked: false,
        until: iso(until),
      });
      expect((await ctx.job(job.id)).state).toBe("running");
    });

    test("a sleep whose end has come does not park", async (ctx) => {
      const { job, lease } = await running(ctx);
      const now = ctx.clock.now;
      expect(await ctx.store.sleepJob(lease, { step: "sleep#1", until: now })).toEqual({
        parked: false,
        until: iso(now),
      });
      expect(await ctx.job(job.id)).toMatchObject({ state: "running", maxAttempts: job.maxAttempts });
      expect(await eventData(ctx, job.id, "job.parked")).toEqual([]);
      expect((await ctx.store.listJobSteps(job.id)).map((s) => s.name)).toEqual(["sleep#1"]);
    });

    test("a signal posted before the wait is kept, then consumed by it", async (ctx) => {
      const t0 = ctx.clock.now;
      const signal = newSignal("payment.settled", { orderId: 7 });
      const posted = await ctx.store.postSignal(signal);
      expect(posted).toEqual({
        signal: {
          id: signal.id,
          name: "payment.settled",
          payload: { orderId: 7 },
          jobId: null,
          createdAt: iso(t0),
          consumedBy: null,
        },
        deliveredTo: null,
      });
      const received = (await ctx.store.readEvents()).filter((e) => e.kind === "signal.received");
      expect(received.map((e) => [e.jobId, e.data])).toEqual([
        [null, { signalId: signal.id, name: "payment.settled", deliveredTo: null }],
      ]);
      ctx.clock.advance(1_000);
      const { job, lease } = await running(ctx);
      const done = await waitFor(ctx, lease, "payment.settled", { match: { orderId: 7 } });
      expect(done).toEqual({
        kind: "done",
        step: { name: "wait:payment.settled#1", kind: "wait", resultJson: '{"orderId":7}', createdAt: iso(t0 + 1_000) },
      });
      expect(await ctx.job(job.id)).toMatchObject({ state: "running" });
      expect(await eventData(ctx, job.id, "job.signalled")).toEqual([
        { step: "wait:payment.settled#1", signalId: signal.id },
      ]);
      // Consumed: a second job's wait does not get it again.
      await ctx.succeed(lease);
      const other = await running(ctx);
      expect(await waitFor(ctx, other.lease, "payment.settled")).toMatchObject({ kind: "parked" });
    });

    test("a signal posted after the job parked wakes it at once", async (ctx) => {
      const { job, lease } = await running(ctx);
      const t0 = ctx.clock.now;
      expect(await waitFor(ctx, lease, "approved", { timeoutMs: 3_600_000 })).toEqual({
        kind: "parked",
        until: iso(t0 + 3_600_000),
      });
      expect(await ctx.job(job.id)).toMatchObject({
        state: "scheduled",
        runAt: iso(t0 + 3_600_000),
        attempts: 0,
        maxAttempts: job.maxAttempts,
        leaseOwner: null,
      });
      expect((await ctx.store.listAttempts(job.id)).map((a) => a.outcome)).toEqual(["parked"]);
      expect(await eventData(ctx, job.id, "job.parked")).toEqual([
        { step: "wait:approved#1", kind: "wait", until: iso(t0 + 3_600_000) },
      ]);
      expect(await ctx.claim()).toEqual([]);

      ctx.clock.advance(5_000);
      const signal = newSignal("approved", { by: "ana" });
      const posted = await ctx.store.postSignal(signal);
      expect(posted.deliveredTo).toBe(job.id);
      expect(posted.signal.consumedBy).toEqual({ jobId: job.id, step: "wait:approved#1", at: iso(t0 + 5_000) });
      expect(await ctx.job(job.id)).toMatchObject({ state: "queued", runAt: iso(t0 + 5_000) });
      expect(await eventData(ctx, job.id, "job.signalled")).toEqual([{ step: "wait:approved#1", signalId: signal.id }]);
      const received = (await ctx.store.readEvents()).filter((e) => e.kind === "signal.received");
      expect(received.map((e) => e.data)).toEqual([{ signalId: signal.id, name: "approved", deliveredTo: job.id }]);
      expect(await ctx.store.listJobSteps(job.id)).toEqual([
        { name: "wait:approved#1", kind: "wait", resultJson: '{"by":"ana"}', createdAt: iso(t0 + 5_000) },
      ]);

      // Claimable at once; the re-run's wait finds its step stored.
      const again = await reclaim(ctx, job.id);
      expect(await waitFor(ctx, again, "approved")).toMatchObject({
        kind: "done",
        step: { name: "wait:approved#1", resultJson: '{"by":"ana"}' },
      });
    });

    test("a signal that wakes a job calls onChange listeners", async (ctx) => {
      const { lease } = await running(ctx);
      await waitFor(ctx, lease, "go");
      // Let the park's own wakeup pass first, so only the signal's can satisfy the listener.
      await new Promise((resolve) => setTimeout(resolve, 200));
      let unsubscribe = (): void => undefined;
      const woke = new Promise<void>((resolve) => {
        unsubscribe = ctx.store.onChange(resolve);
      });
      expect((await ctx.store.postSignal(newSignal("go", 1))).deliveredTo).not.toBeNull();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("onChange was not called within 2 s of a delivery")), 2_000);
      });
      try {
        await Promise.race([woke, timeout]);
      } finally {
        clearTimeout(timer);
        unsubscribe();
      }
    });

    test("a signal whose payload does not match stays unconsumed for a later wait", async (ctx) => {
      const { job, lease } = await running(ctx);
      await waitFor(ctx, lease, "settled", { match: { order: { id: 7 } } });
      const miss = await ctx.store.postSignal(newSignal("settled", { order: { id: 8 } }));
      expect(miss).toMatchObject({ deliveredTo: null, signal: { consumedBy: null } });
      expect((await ctx.job(job.id)).state).toBe("scheduled");
      const hit = await ctx.store.postSignal(newSignal("settled", { order: { id: 7, total: 10 }, by: "bank" }));
      expect(hit.deliveredTo).toBe(job.id);
      expect((await ctx.job(job.id)).state).toBe("queued");
      await reclaim(ctx, job.id);

      // Another job waiting for order 8 takes the signal kept earlier, without parking.
      const other = await ctx.add();
      const { lease: otherLease } = await ctx.claimOne();
      const done = await waitFor(ctx, otherLease, "settled", { match: { order: { id: 8 } } });
      expect(done).toMatchObject({ kind: "done", step: { resultJson: '{"order":{"id":8}}' } });
      expect((await ctx.job(other.id)).state).toBe("running");
    });

    test("a signal for a job reaches only that job", async (ctx) => {
      const a = await running(ctx);
      await waitFor(ctx, a.lease, "go");
      ctx.clock.advance(1);
      const b = await running(ctx);
      await waitFor(ctx, b.lease, "go");
      const toB = await ctx.store.postSignal(newSignal("go", 1, b.job.id));
      expect(toB.deliveredTo).toBe(b.job.id);
      expect((await ctx.job(a.job.id)).state).toBe("scheduled");
      expect((await ctx.job(b.job.id)).state).toBe("queued");

      // Targeted at a job that does not wait: kept, and no other job's wait takes it.
      await reclaim(ctx, b.job.id);
      const toNobody = await ctx.store.postSignal(newSignal("later", 2, "another-job"));
      expect(toNobody.deliveredTo).toBeNull();
      const c = await running(ctx);
      expect(await waitFor(ctx, c.lease, "later")).toMatchObject({ kind: "parked" });
    });

    test("one signal wakes only the oldest waiting job", async (ctx) => {
      const a = await running(ctx);
      await waitFor(ctx, a.lease, "tick");
      ctx.clock.advance(1);
      const b = await running(ctx);
      await waitFor(ctx, b.lease, "tick");
      expect((await ctx.store.postSignal(newSignal("tick", null))).deliveredTo).toBe(a.job.id);
      expect((await ctx.job(a.job.id)).state).toBe("queued");
      expect((await ctx.job(b.job.id)).state).toBe("scheduled");
      expect((await ctx.store.postSignal(newSignal("tick", null))).deliveredTo).toBe(b.job.id);
      expect((await ctx.job(b.job.id)).state).toBe("queued");
    });

    test("a wait whose deadline passes stores null and later signals are kept", async (ctx) => {
      const { job, lease } = await running(ctx);
      const t0 = ctx.clock.now;
      await waitFor(ctx, lease, "reply", { timeoutMs: 5_000 });
      ctx.clock.set(t0 + 4_999);
      expect(await ctx.claim()).toEqual([]);
      ctx.clock.set(t0 + 5_000);
      const again = await reclaim(ctx, job.id);
      // A signal that comes once the deadline has passed is not delivered to the job.
      expect((await ctx.store.postSignal(newSignal("reply", "late"))).deliveredTo).toBeNull();
      expect(await waitFor(ctx, again, "reply", { timeoutMs: 5_000 })).toEqual({
        kind: "done",
        step: { name: "wait:reply#1", kind: "wait", resultJson: "null", createdAt: iso(t0 + 5_000) },
      });
      expect((await ctx.job(job.id)).state).toBe("running");
      // The next wait of that name gets the late signal.
      const next = await waitFor(ctx, again, "reply", { step: "wait:reply#2" });
      expect(next).toMatchObject({ kind: "done", step: { resultJson: '"late"' } });
    });

    test("a cancelled job's wait does not take a signal", async (ctx) => {
      const { job, lease } = await running(ctx);
      await waitFor(ctx, lease, "go");
      expect((await ctx.store.cancelJob(job.id)).effect).toBe("cancelled");
      const posted = await ctx.store.postSignal(newSignal("go", 1));
      expect(posted).toMatchObject({ deliveredTo: null, signal: { consumedBy: null } });
      expect(await ctx.job(job.id)).toMatchObject({ state: "cancelled" });
      expect(await ctx.store.listJobSteps(job.id)).toEqual([]);
      // The kept signal goes to the next wait; a later signal passes the stale wait by for a younger job's.
      ctx.clock.advance(1);
      const other = await running(ctx);
      expect(await waitFor(ctx, other.lease, "go")).toMatchObject({ kind: "done" });
      expect(await waitFor(ctx, other.lease, "go", { step: "wait:go#2" })).toMatchObject({ kind: "parked" });
      expect((await ctx.store.postSignal(newSignal("go", 2))).deliveredTo).toBe(other.job.id);
    });

    test("a wait run again before its deadline takes a signal kept meanwhile instead of parking", async (ctx) => {
      const { job, lease } = await running(ctx);
      expect(await waitFor(ctx, lease, "go")).toMatchObject({ kind: "parked" });
      await ctx.store.cancelJob(job.id);
      // Sent while the job was cancelled: no parked wait takes it, so it is kept.
      expect((await ctx.store.postSignal(newSignal("go", { n: 1 }))).deliveredTo).toBeNull();
      await ctx.store.retryJob(job.id);
      const again = await reclaim(ctx, job.id);
      const taken = await waitFor(ctx, again, "go");
      expect(taken).toMatchObject({ kind: "done", step: { name: "wait:go#1", resultJson: '{"n":1}' } });
      // The wait is gone with it: a later signal is kept, not taken by a stale wait.
      expect((await ctx.store.postSignal(newSignal("go", { n: 2 }))).deliveredTo).toBeNull();
    });

    test("a job asked to cancel is cancelled when it would park", async (ctx) => {
      const { job, lease } = await running(ctx);
      expect((await ctx.store.cancelJob(job.id)).effect).toBe("requested");
      expect(await ctx.store.sleepJob(lease, { step: "sleep#1", delayMs: 60_000 })).toMatchObject({ parked: true });
      expect(await ctx.job(job.id)).toMatchObject({ state: "cancelled", leaseOwner: null });
      expect((await ctx.store.listAttempts(job.id)).map((a) => a.outcome)).toEqual(["cancelled"]);
      expect(await eventData(ctx, job.id, "job.parked")).toEqual([]);
    });

    test("discarding or pruning a job deletes its steps and waits", async (ctx) => {
      const a = await running(ctx);
      await ctx.store.recordStep(a.lease, { name: "s", kind: "step", resultJson: "1" });
      await ctx.succeed(a.lease);
      await ctx.store.discardJob(a.job.id);
      expect(await ctx.store.listJobSteps(a.job.id)).toEqual([]);

      const b = await running(ctx);
      await ctx.store.recordStep(b.lease, { name: "s", kind: "step", resultJson: "1" });
      await waitFor(ctx, b.lease, "go");
      await ctx.store.cancelJob(b.job.id);
      ctx.clock.advance(60_000);
      expect((await ctx.store.prune({ jobs: { cancelled: { maxAgeMs: 1_000 } } })).jobs.cancelled).toBe(1);
      expect(await ctx.store.listJobSteps(b.job.id)).toEqual([]);
      // No wait row is left to take a signal: it is kept.
      expect((await ctx.store.postSignal(newSignal("go", 1))).deliveredTo).toBeNull();
    });
  });
}
