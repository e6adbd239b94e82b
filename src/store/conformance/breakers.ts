/**
 * The circuit-breaker part of the store conformance suite (see suite.ts, which calls it with its
 * `test`): a tripped queue is held from claims, its cool-down ends on the store's clock, one
 * probe job (the next in claim order) is the only one a claim may take, and its verdict closes
 * or reopens the breaker. A diverting breaker cancels the queue's due jobs, each with its
 * fallback job enqueued in the same transaction, and never the probe.
 */
import { describe, expect } from "vitest";
import type { BreakerTrip } from "../../core/breaker.js";
import { deadPayload, followUpJob } from "../../core/follow-up.js";
import type { Job } from "../../core/types.js";
import type { ConformanceTest } from "./runs.js";
import { rejectsWith } from "./suite.js";

const TRIP: BreakerTrip = { attempts: 10, failures: 6, windowMs: 60_000, divertTo: null };
const COOLDOWN = 30_000;

const toSms = (job: Job) =>
  followUpJob(
    { task: "a", queue: "sms" },
    deadPayload(
      { id: job.id, task: job.task, queue: job.queue, attempts: job.attempts, payload: job.payload },
      { code: "CIRCUIT_OPEN", message: "open", retryable: false },
    ),
    undefined,
  );

export function runBreakerConformance(test: ConformanceTest): void {
  describe("circuit breakers", () => {
    test("a tripped queue is held until its cool-down ends; then only its probe may be claimed", async (ctx) => {
      const first = await ctx.add({ queue: "calls" });
      const second = await ctx.add({ queue: "calls" });
      const other = await ctx.add({ queue: "mail" });
      const closed = await ctx.store.breakerPass("calls", COOLDOWN, null);
      expect(closed).toEqual({ state: "closed", diverted: 0 });

      expect(await ctx.store.tripBreaker("calls", TRIP, COOLDOWN)).toBe(true);
      // Another node tripping it too changes nothing.
      expect(await ctx.store.tripBreaker("calls", { ...TRIP, failures: 9 }, COOLDOWN)).toBe(false);
      const [calls] = (await ctx.store.listQueues()).filter((q) => q.name === "calls");
      expect(calls).toMatchObject({
        paused: false,
        version: 0,
        breaker: {
          state: "open",
          openedAt: new Date(ctx.clock.now).toISOString(),
          probeAt: new Date(ctx.clock.now + COOLDOWN).toISOString(),
          probeJobId: null,
          trip: TRIP,
        },
      });
      expect((await ctx.claim()).map((c) => c.job.id)).toEqual([other.id]);

      ctx.clock.advance(COOLDOWN - 1);
      expect(await ctx.store.breakerPass("calls", COOLDOWN, null)).toEqual({ state: "open", diverted: 0 });
      expect(await ctx.claim()).toEqual([]);

      ctx.clock.advance(1);
      expect(await ctx.store.breakerPass("calls", COOLDOWN, null)).toEqual({ state: "half_open", diverted: 0 });
      const probe = await ctx.claimOne();
      expect(probe.job.id).toBe(first.id);
      expect(await ctx.claim()).toEqual([]);
      // Running: the verdict waits.
      expect(await ctx.store.breakerPass("calls", COOLDOWN, null)).toEqual({ state: "half_open", diverted: 0 });

      await ctx.succeed(probe.lease);
      expect(await ctx.store.breakerPass("calls", COOLDOWN, null)).toEqual({ state: "closed", diverted: 0 });
      expect((await ctx.store.listQueues()).find((q) => q.name === "calls")?.breaker).toBeNull();
      expect((await ctx.claim()).map((c) => c.job.id)).toEqual([second.id]);
      const events = (await ctx.store.readEvents()).filter((e) => e.kind.startsWith("queue.breaker"));
      expect(events.map((e) => [e.kind, e.data])).toEqual([
        [
          "queue.breaker_opened",
          {
            queue: "calls",
            reason: "failure_rate",
            ...TRIP,
            // The clock stands at the probe time now.
            probeAt: new Date(ctx.clock.now).toISOString(),
          },
        ],
        ["queue.breaker_half_open", { queue: "calls" }],
        ["queue.breaker_probe", { queue: "calls", probeJobId: first.id }],
        ["queue.breaker_closed", { queue: "calls", reason: "probe_succeeded", probeJobId: first.id }],
      ]);
    });

    test("a failed probe opens the breaker for another cool-down", async (ctx) => {
      const first = await ctx.add({ queue: "calls", maxAttempts: 3 });
      await ctx.add({ queue: "calls" });
      await ctx.store.tripBreaker("calls", TRIP, COOLDOWN);
      ctx.clock.advance(COOLDOWN);
      await ctx.store.breakerPass("calls", COOLDOWN, null);
      const { lease } = await ctx.claimOne();
      expect(lease.jobId).toBe(first.id);
      const error = { code: "E_DOWN", message: "provider down", retryable: true };
      expect(await ctx.finishOne({ lease, outcome: "retry", error, delayMs: 1_000 })).toBe(true);
      expect(await ctx.store.breakerPass("calls", COOLDOWN, null)).toEqual({ state: "open", diverted: 0 });
      const breaker = (await ctx.store.listQueues()).find((q) => q.name === "calls")?.breaker;
      expect(breaker).toMatchObject({ state: "open", probeJobId: null });
      expect(breaker?.probeAt).toBe(new Date(ctx.clock.now + COOLDOWN).toISOString());
      ctx.clock.advance(5_000);
      expect(await ctx.claim()).toEqual([]);
      const reopened = (await ctx.store.readEvents()).filter((e) => e.kind === "queue.breaker_opened").at(-1);
      expect(reopened?.data).toMatchObject({ queue: "calls", reason: "probe_failed", probeJobId: first.id });
    });

    test("a probe that will never run is replaced by the next due job", async (ctx) => {
      const first = await ctx.add({ queue: "calls" });
      const second = await ctx.add({ queue: "calls" });
      await ctx.store.tripBreaker("calls", TRIP, COOLDOWN);
      ctx.clock.advance(COOLDOWN);
      await ctx.store.breakerPass("calls", COOLDOWN, null);
      await ctx.store.cancelJob(first.id);
      expect(await ctx.store.breakerPass("calls", COOLDOWN, null)).toEqual({ state: "half_open", diverted: 0 });
      expect((await ctx.store.listQueues()).find((q) => q.name === "calls")?.breaker?.probeJobId).toBe(second.id);
      expect((await ctx.claim()).map((c) => c.job.id)).toEqual([second.id]);
    });

    test("a half-open breaker with nothing due picks the first job that comes", async (ctx) => {
      await ctx.store.tripBreaker("calls", TRIP, COOLDOWN);
      ctx.clock.advance(COOLDOWN);
      expect(await ctx.store.breakerPass("calls", COOLDOWN, null)).toEqual({ state: "half_open", diverted: 0 });
      const job = await ctx.add({ queue: "calls" });
      expect(await ctx.claim()).toEqual([]);
      await ctx.store.breakerPass("calls", COOLDOWN, null);
      expect((await ctx.claim()).map((c) => c.job.id)).toEqual([job.id]);
    });

    test("a diverting breaker cancels due jobs and enqueues their fallbacks, but not the probe", async (ctx) => {
      const due = [
        await ctx.add({ queue: "calls" }, { payload: { phone: "+15550101" } }),
        await ctx.add({ queue: "calls" }, { payload: { phone: "+15550102" } }),
      ];
      const later = await ctx.add({ queue: "calls", delay: "1h" });
      await ctx.store.tripBreaker("calls", { ...TRIP, divertTo: "a" }, COOLDOWN);
      expect(await ctx.store.breakerPass("calls", COOLDOWN, toSms)).toEqual({ state: "open", diverted: 2 });
      for (const job of due) {
        expect((await ctx.job(job.id)).state).toBe("cancelled");
        const cancelled = (await ctx.store.readEvents({ jobId: job.id })).find((e) => e.kind === "job.cancelled");
        expect(cancelled?.data).toMatchObject({ while: "queued", reason: "circuit_open" });
        const fallback = await ctx.job(String(cancelled?.data.followUp));
        expect(fallback).toMatchObject({
          task: "a",
          queue: "sms",
          state: "queued",
          payload: { job: { id: job.id }, payload: job.payload, error: { code: "CIRCUIT_OPEN" } },
        });
      }
      expect((await ctx.job(later.id)).state).toBe("scheduled");

      // Half-open: the next due job is the probe and runs; the others keep going to the fallback.
      const next = await ctx.add({ queue: "calls" });
      const after = await ctx.add({ queue: "calls" });
      ctx.clock.advance(COOLDOWN);
      expect(await ctx.store.breakerPass("calls", COOLDOWN, toSms)).toEqual({ state: "half_open", diverted: 1 });
      expect((await ctx.job(next.id)).state).toBe("queued");
      expect((await ctx.job(after.id)).state).toBe("cancelled");
      expect((await ctx.claim({ queues: ["calls"] })).map((c) => c.job.id)).toEqual([next.id]);
    });

    test("a probe that has not started within a cool-down of its pick gives way to the next due job", async (ctx) => {
      const first = await ctx.add({ queue: "calls" });
      const second = await ctx.add({ queue: "calls" });
      await ctx.store.tripBreaker("calls", TRIP, COOLDOWN);
      ctx.clock.advance(COOLDOWN);
      await ctx.store.breakerPass("calls", COOLDOWN, null);
      const probeOf = async () => (await ctx.store.listQueues()).find((q) => q.name === "calls")?.breaker?.probeJobId;
      expect(await probeOf()).toBe(first.id);
      // Nobody runs it (its task's workers are down, say).
      ctx.clock.advance(COOLDOWN - 1);
      await ctx.store.breakerPass("calls", COOLDOWN, null);
      expect(await probeOf()).toBe(first.id);
      ctx.clock.advance(1);
      await ctx.store.breakerPass("calls", COOLDOWN, null);
      expect(await probeOf()).toBe(second.id);
      expect((await ctx.claim()).map((c) => c.job.id)).toEqual([second.id]);
      // A running probe is waited for however long it runs.
      ctx.clock.advance(10 * COOLDOWN);
      expect(await ctx.store.breakerPass("calls", COOLDOWN, null)).toEqual({ state: "half_open", diverted: 0 });
      expect(await probeOf()).toBe(second.id);
    });

    test("a paused queue's jobs are not diverted", async (ctx) => {
      const job = await ctx.add({ queue: "calls" });
      await ctx.store.setQueuePaused("calls", true);
      await ctx.store.tripBreaker("calls", { ...TRIP, divertTo: "a" }, COOLDOWN);
      expect(await ctx.store.breakerPass("calls", COOLDOWN, toSms)).toEqual({ state: "open", diverted: 0 });
      expect((await ctx.job(job.id)).state).toBe("queued");
      await ctx.store.setQueuePaused("calls", false);
      expect(await ctx.store.breakerPass("calls", COOLDOWN, toSms)).toEqual({ state: "open", diverted: 1 });
    });

    test("a person resets an open breaker; a closed one cannot be reset", async (ctx) => {
      const job = await ctx.add({ queue: "calls" });
      await rejectsWith(() => ctx.store.resetBreaker("calls", "ada"), "BREAKER_NOT_OPEN");
      await ctx.store.tripBreaker("calls", TRIP, COOLDOWN);
      expect(await ctx.claim()).toEqual([]);
      const queue = await ctx.store.resetBreaker("calls", "ada");
      expect(queue).toMatchObject({ name: "calls", breaker: null, version: 0 });
      expect((await ctx.claim()).map((c) => c.job.id)).toEqual([job.id]);
      const closed = (await ctx.store.readEvents()).find((e) => e.kind === "queue.breaker_closed");
      expect(closed?.data).toEqual({ queue: "calls", reason: "reset", by: "ada" });
      await rejectsWith(() => ctx.store.resetBreaker("calls", "ada"), "BREAKER_NOT_OPEN");
    });

    test("a paused queue with a half-open breaker lets not even its probe run", async (ctx) => {
      await ctx.add({ queue: "calls" });
      await ctx.store.tripBreaker("calls", TRIP, COOLDOWN);
      ctx.clock.advance(COOLDOWN);
      await ctx.store.breakerPass("calls", COOLDOWN, null);
      await ctx.store.setQueuePaused("calls", true);
      expect(await ctx.claim()).toEqual([]);
      // The person's pause and the breaker are apart: resuming leaves the breaker as it was.
      const resumed = await ctx.store.setQueuePaused("calls", false);
      expect(resumed.breaker?.state).toBe("half_open");
      expect(await ctx.claim()).toHaveLength(1);
    });
  });
}
