/**
 * The worker against real SQLite files, in one process: claim order, concurrency keys, delays,
 * idempotency, retries and backoff, cancellation, graceful stop and lease loss. Crashes of
 * whole processes are proven in crash-safety.test.ts.
 */
import Database from "better-sqlite3";
import { describe, expect, it, onTestFinished } from "vitest";
import { PermanentError } from "../core/errors.js";
import type { AbortReason, JobContext } from "../core/task.js";
import type { Attempt } from "../core/types.js";
import { createOverseer, type Overseer } from "../sdk/overseer.js";
import { openStore } from "../store/open-store.js";
import { withFaults } from "../test-support/faulty-store.js";
import { tempDatabase } from "../test-support/temp-database.js";
import { deferred, sleep, untilAborted, waitFor } from "../test-support/wait.js";
import { START_RECORD_DELAY_MS } from "./start-batcher.js";
import { SHORT_CLAIM_RECHECK_MS, type WorkerOptions } from "./worker.js";

/** Short leases and fast loops so that recovery happens in a test's time. */
const FAST: WorkerOptions = {
  leaseMs: 1_000,
  heartbeatMs: 200,
  maintenanceMs: 100,
  pollMs: 100,
  shutdownTimeoutMs: 1_000,
  abortGraceMs: 200,
};

async function jobState(overseer: Overseer, id: string): Promise<string | undefined> {
  return (await overseer.getJob(id))?.state;
}

async function waitForState(overseer: Overseer, id: string, state: string, timeoutMs = 5_000): Promise<void> {
  await waitFor(`job ${id} to be ${state}`, async () => (await jobState(overseer, id)) === state, { timeoutMs });
}

async function eventKinds(overseer: Overseer, jobId: string): Promise<string[]> {
  return (await overseer.readEvents({ jobId })).map((e) => e.kind);
}

describe("claim order", () => {
  // Strictly so without prefetch: a worker holding jobs it claimed ahead runs them first (see prefetch.ts).
  it("runs every ready high-priority job before any low one, FIFO within a priority", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    const started: string[] = [];
    overseer.defineTask("work", async (payload: { name: string }) => {
      started.push(payload.name);
      // A high job that becomes ready while a low one runs still goes ahead of the other lows.
      if (payload.name === "low-0") await overseer.enqueue("work", { name: "high-late" }, { priority: "high" });
      await sleep(5);
    });
    for (let i = 0; i < 5; i++) await overseer.enqueue("work", { name: `low-${i}` }, { priority: "low" });
    for (let i = 0; i < 5; i++) await overseer.enqueue("work", { name: `high-${i}` }, { priority: "high" });
    const worker = overseer.worker({ ...FAST, concurrency: 1, prefetch: 0 });
    await worker.start();

    await waitFor("all eleven jobs to start", () => started.length === 11);
    expect(started).toEqual([
      "high-0",
      "high-1",
      "high-2",
      "high-3",
      "high-4",
      "low-0",
      "high-late",
      "low-1",
      "low-2",
      "low-3",
      "low-4",
    ]);
  });

  it("leaves jobs of a task no worker handles queued and visible while the others run", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    overseer.defineTask("known", async () => "ok");
    const orphan = await overseer.enqueue("unknown-task", { x: 1 });
    const known = await overseer.enqueue("known");
    const worker = overseer.worker(FAST);
    await worker.start();

    await waitForState(overseer, known.id, "succeeded");
    await sleep(150); // a few more claim passes
    const stillWaiting = await overseer.listJobs({ states: ["queued"] });
    expect(stillWaiting.map((j) => j.id)).toEqual([orphan.id]);
    expect(stillWaiting[0]?.attempts).toBe(0);
    expect(await overseer.listAttempts(orphan.id)).toEqual([]);
  });
});

describe("concurrency keys", () => {
  it("never runs more jobs of a key than its limit, while another key runs alongside", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    const running = new Map<string, number>();
    const maxRunning = new Map<string, number>();
    let total = 0;
    let maxTotal = 0;
    overseer.defineTask("call", async (payload: { key: string }) => {
      const n = (running.get(payload.key) ?? 0) + 1;
      running.set(payload.key, n);
      maxRunning.set(payload.key, Math.max(maxRunning.get(payload.key) ?? 0, n));
      total++;
      maxTotal = Math.max(maxTotal, total);
      await sleep(50);
      running.set(payload.key, (running.get(payload.key) ?? 1) - 1);
      total--;
    });
    const jobs = await overseer.enqueueMany([
      ...Array.from({ length: 10 }, () => ({
        task: "call",
        payload: { key: "biz-1" },
        options: { concurrency: { key: "biz-1", limit: 3 } },
      })),
      ...Array.from({ length: 6 }, () => ({
        task: "call",
        payload: { key: "biz-2" },
        options: { concurrency: { key: "biz-2", limit: 3 } },
      })),
    ]);
    const worker = overseer.worker({ ...FAST, concurrency: 10 });
    await worker.start();

    await waitFor("all sixteen jobs to succeed", async () => (await overseer.countJobs()).succeeded === jobs.length);
    expect(maxRunning.get("biz-1")).toBe(3);
    expect(maxRunning.get("biz-2")).toBe(3);
    // biz-2 was not held back by biz-1 being full: both keys ran at once.
    expect(maxTotal).toBeGreaterThan(3);
  });
});

describe("scheduling", () => {
  it("starts a delayed job no earlier than its delay, and on time; a past runAt starts at once", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    const startedAt = new Map<string, number>();
    overseer.defineTask("work", async (payload: { name: string }) => {
      startedAt.set(payload.name, Date.now());
    });
    const t0 = Date.now();
    const delayed = await overseer.enqueue("work", { name: "delayed" }, { delay: 300 });
    const past = await overseer.enqueue("work", { name: "past" }, { runAt: new Date(t0 - 60_000) });
    expect(delayed.state).toBe("scheduled");
    expect(past.state).toBe("queued");
    // A long poll: starting on time proves the worker sleeps until the next run time, not a poll tick.
    const worker = overseer.worker({ ...FAST, pollMs: 2_000 });
    const tStart = Date.now();
    await worker.start();

    await waitFor("both jobs to start", () => startedAt.size === 2, { timeoutMs: 3_000 });
    expect((startedAt.get("past") as number) - tStart).toBeLessThan(250);
    const delay = (startedAt.get("delayed") as number) - t0;
    expect(delay).toBeGreaterThanOrEqual(300);
    expect(delay).toBeLessThan(300 + 500);
  });

  it("an idempotency key returns the same job and runs its handler once", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    let runs = 0;
    overseer.defineTask("charge", async () => {
      runs++;
      return "charged";
    });
    const first = await overseer.enqueueWithResult("charge", { amount: 5 }, { idempotencyKey: "order-1" });
    const second = await overseer.enqueueWithResult("charge", { amount: 5 }, { idempotencyKey: "order-1" });
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.job.id).toBe(first.job.id);
    const worker = overseer.worker(FAST);
    await worker.start();
    await waitForState(overseer, first.job.id, "succeeded");

    // Still within the key's time to live after it finished: the same job, not a second charge.
    const third = await overseer.enqueueWithResult("charge", { amount: 5 }, { idempotencyKey: "order-1" });
    expect(third).toMatchObject({ created: false, job: { id: first.job.id, state: "succeeded" } });
    await sleep(150);
    expect(runs).toBe(1);
    expect((await overseer.countJobs()).succeeded).toBe(1);
  });
});

describe("retries and backoff", () => {
  /** A handler that fails `failures` times with a coded error, then returns "ok"; records when each attempt started. */
  function flaky(failures: number): {
    starts: number[];
    handler: (payload: unknown, ctx: JobContext) => Promise<string>;
  } {
    const starts: number[] = [];
    return {
      starts,
      handler: async (_payload, ctx) => {
        starts.push(Date.now());
        if (ctx.attempt <= failures) {
          throw Object.assign(new Error(`boom ${ctx.attempt}`), { code: "FLAKY" });
        }
        return "ok";
      },
    };
  }

  function gaps(starts: number[]): number[] {
    return starts.slice(1).map((t, i) => t - (starts[i] as number));
  }

  it("waits the fixed delay between attempts and records each failed attempt's error", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    const { starts, handler } = flaky(2);
    overseer.defineTask("flaky", handler);
    const job = await overseer.enqueue("flaky", null, { maxAttempts: 5, backoff: { type: "fixed", delay: 200 } });
    const worker = overseer.worker(FAST);
    await worker.start();
    await waitForState(overseer, job.id, "succeeded");

    expect(starts).toHaveLength(3);
    for (const gap of gaps(starts)) {
      expect(gap).toBeGreaterThanOrEqual(200);
      expect(gap).toBeLessThan(200 + 500);
    }
    const attempts = await overseer.listAttempts(job.id);
    expect(attempts.map((a) => [a.number, a.outcome])).toEqual([
      [1, "failed"],
      [2, "failed"],
      [3, "succeeded"],
    ]);
    for (const [i, attempt] of attempts.slice(0, 2).entries()) {
      expect(attempt.error).toEqual({
        code: "FLAKY",
        message: `boom ${i + 1}`,
        retryable: true,
        stack: expect.stringContaining(`boom ${i + 1}`),
      });
      expect(attempt.finishedAt).not.toBeNull();
    }
    expect(attempts[2]?.error).toBeNull();
    const finished = await overseer.getJob(job.id);
    expect(finished).toMatchObject({ state: "succeeded", attempts: 3, result: "ok" });
  });

  it("doubles an exponential delay after each failure (no jitter)", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    const { starts, handler } = flaky(3);
    overseer.defineTask("flaky", handler);
    const job = await overseer.enqueue("flaky", null, {
      maxAttempts: 5,
      backoff: { type: "exponential", base: 100, jitter: 0 },
    });
    const worker = overseer.worker(FAST);
    await worker.start();
    await waitForState(overseer, job.id, "succeeded");

    const observed = gaps(starts);
    expect(observed).toHaveLength(3);
    for (const [i, expected] of [100, 200, 400].entries()) {
      expect(observed[i]).toBeGreaterThanOrEqual(expected);
      expect(observed[i]).toBeLessThan(expected + 400);
    }
    const retryEvents = (await overseer.readEvents({ jobId: job.id })).filter((e) => e.kind === "job.retry_scheduled");
    expect(retryEvents.map((e) => e.data.delayMs)).toEqual([100, 200, 400]);
  });

  it.each<[string, string, (ctx: JobContext) => Promise<unknown>]>([
    [
      "a PermanentError",
      "CARD_REFUSED",
      async () => {
        throw new PermanentError("card refused", { code: "CARD_REFUSED" });
      },
    ],
    // Overseer's own error for bad input: a step result JSON cannot hold.
    ["a step result JSON cannot hold", "INVALID_PAYLOAD", (ctx) => ctx.step("make", () => ({ at: 1n }))],
  ])("%s sends the job to dead after one attempt", async (_, code, fail) => {
    const db = tempDatabase();
    const overseer = await db.open();
    let calls = 0;
    overseer.defineTask("permanent", async (_payload, ctx) => {
      calls++;
      await fail(ctx);
    });
    const job = await overseer.enqueue("permanent", null, { maxAttempts: 5 });
    const worker = overseer.worker(FAST);
    await worker.start();
    await waitForState(overseer, job.id, "dead");

    expect(calls).toBe(1);
    const dead = await overseer.getJob(job.id);
    expect(dead).toMatchObject({ attempts: 1, lastError: { code, retryable: false } });
    const events = await overseer.readEvents({ jobId: job.id });
    expect(events.find((e) => e.kind === "job.dead")?.data).toMatchObject({ reason: "permanent_error", attempt: 1 });
  });

  it("a plain error retries until maxAttempts, then the job is dead", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    let calls = 0;
    overseer.defineTask("always-fails", async () => {
      calls++;
      throw new Error(`nope ${calls}`);
    });
    const job = await overseer.enqueue("always-fails", null, {
      maxAttempts: 2,
      backoff: { type: "fixed", delay: 10 },
    });
    const worker = overseer.worker(FAST);
    await worker.start();
    await waitForState(overseer, job.id, "dead");

    expect(calls).toBe(2);
    expect(await overseer.getJob(job.id)).toMatchObject({
      attempts: 2,
      lastError: { code: "Error", message: "nope 2", retryable: true },
    });
    const events = await overseer.readEvents({ jobId: job.id });
    expect(events.filter((e) => e.kind === "job.dead").map((e) => e.data)).toEqual([
      { attempt: 2, reason: "max_attempts_exceeded" },
    ]);
    expect((await overseer.listAttempts(job.id)).map((a) => a.outcome)).toEqual(["failed", "failed"]);
  });
});

describe("what handlers throw, return and report", () => {
  it("a handler may take its context's methods off it, and reads its job, attempt and signal", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    let seen: unknown = null;
    let shape: unknown = null;
    overseer.defineTask("unpacked", async (_payload, ctx) => {
      const { job, attempt, signal, step, log, progress } = ctx;
      const charged = await step("charge", () => ({ receipt: "r-1" }));
      await log("charged", { receipt: charged.receipt });
      await progress({ done: 1 });
      seen = { task: job.task, attempt, aborted: signal.aborted };
      // Only the job and the attempt are its own properties; a method is one function each read.
      const log1 = ctx.log;
      shape = { keys: Object.keys(ctx), json: JSON.parse(JSON.stringify(ctx)), same: ctx.log === log1 };
      return charged;
    });
    const job = await overseer.enqueue("unpacked");
    await overseer.worker(FAST).start();
    await waitForState(overseer, job.id, "succeeded");

    expect(seen).toEqual({ task: "unpacked", attempt: 1, aborted: false });
    expect(shape).toEqual({
      keys: ["job", "attempt"],
      json: { attempt: 1, job: expect.objectContaining({ id: job.id, task: "unpacked" }) },
      same: true,
    });
    const done = await overseer.getJob(job.id);
    expect(done).toMatchObject({ result: { receipt: "r-1" }, progress: { done: 1 } });
    const events = await overseer.readEvents({ jobId: job.id });
    expect(events.find((e) => e.kind === "job.log")?.data).toEqual({ message: "charged", receipt: "r-1" });
  });

  it("a signal first read after the cancel is aborted already, with the reason", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    const cancelled = deferred<void>();
    let reason: unknown = null;
    overseer.defineTask("late-reader", async (_payload, ctx) => {
      await cancelled.promise;
      reason = ctx.signal.aborted ? ctx.signal.reason : "not aborted";
      throw new Error("stopped");
    });
    const job = await overseer.enqueue("late-reader");
    await overseer.worker(FAST).start();
    await waitForState(overseer, job.id, "running");
    // A cancel made through this Overseer aborts its own workers' executions before it returns.
    expect((await overseer.cancel(job.id)).effect).toBe("requested");
    cancelled.resolve();
    await waitForState(overseer, job.id, "cancelled");
    expect(reason).toBe("cancelled" satisfies AbortReason);
  });

  it.each([
    ["a string", "plain string", "plain string"],
    ["an object", { reason: "quota" }, '{"reason":"quota"}'],
    ["undefined", undefined, "undefined"],
  ])("a handler that throws %s fails with NON_ERROR_THROWN", async (_what, thrown, message) => {
    const db = tempDatabase();
    const overseer = await db.open();
    overseer.defineTask("weird", async () => {
      throw thrown;
    });
    const job = await overseer.enqueue("weird", null, { maxAttempts: 1 });
    const worker = overseer.worker(FAST);
    await worker.start();
    await waitForState(overseer, job.id, "dead");

    const [attempt] = await overseer.listAttempts(job.id);
    expect(attempt?.error).toEqual({ code: "NON_ERROR_THROWN", message, retryable: true });
  });

  it.each([
    ["a BigInt", () => 10n],
    ["a function", () => () => 1],
    [
      "a cycle",
      () => {
        const o: Record<string, unknown> = {};
        o.self = o;
        return o;
      },
    ],
  ])("a handler that returns %s is dead with INVALID_RESULT, without retries", async (_what, make) => {
    const db = tempDatabase();
    const overseer = await db.open();
    let calls = 0;
    overseer.defineTask("bad-result", async () => {
      calls++;
      return make();
    });
    const job = await overseer.enqueue("bad-result", null, { maxAttempts: 3 });
    const worker = overseer.worker(FAST);
    await worker.start();
    await waitForState(overseer, job.id, "dead");

    expect(calls).toBe(1);
    expect(await overseer.getJob(job.id)).toMatchObject({
      attempts: 1,
      result: null,
      lastError: { code: "INVALID_RESULT", retryable: false },
    });
  });

  it("records progress and log lines as events, in order, before the outcome", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    overseer.defineTask("report", async (payload: { n: number }, ctx) => {
      expect(ctx.attempt).toBe(1);
      expect(ctx.job.payload).toEqual(payload);
      await ctx.progress({ step: 1 });
      await ctx.log("halfway", { n: payload.n });
      await ctx.progress({ step: 2 });
      // Not awaited: still recorded before the job's outcome.
      void ctx.log("fire and forget");
      return "done";
    });
    const job = await overseer.enqueue("report", { n: 7 });
    const worker = overseer.worker(FAST);
    await worker.start();
    await waitForState(overseer, job.id, "succeeded");

    const events = await overseer.readEvents({ jobId: job.id });
    expect(events.map((e) => e.kind)).toEqual([
      "job.enqueued",
      "job.started",
      "job.progress",
      "job.log",
      "job.progress",
      "job.log",
      "job.succeeded",
    ]);
    expect(events[2]?.data).toEqual({ progress: { step: 1 } });
    expect(events[3]?.data).toEqual({ message: "halfway", n: 7 });
    expect(events[5]?.data).toEqual({ message: "fire and forget" });
    expect(events[3]?.workerId).toBe(worker.id);
    expect(await overseer.getJob(job.id)).toMatchObject({ progress: { step: 2 }, result: "done" });
  });

  it("progress with a value JSON cannot hold rejects the promise, it does not throw synchronously", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    overseer.defineTask("report", async (_payload, ctx) => {
      // A caller that chains .catch() must see the failure there, not as a throw that fails the attempt.
      const failure = await ctx.progress(10n).then(
        () => null,
        (err: unknown) => (err as { code?: string }).code,
      );
      return { failure };
    });
    const job = await overseer.enqueue("report");
    const worker = overseer.worker(FAST);
    await worker.start();
    await waitFor("the job to finish", async () => {
      const state = await jobState(overseer, job.id);
      return state === "succeeded" || state === "dead" || state === "scheduled";
    });
    expect(await overseer.getJob(job.id)).toMatchObject({
      state: "succeeded",
      result: { failure: "INVALID_PAYLOAD" },
    });
  });

  it("a fire-and-forget log that fails is logged, not left as an unhandled rejection", async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", listener);
    onTestFinished(() => {
      process.off("unhandledRejection", listener);
    });
    const warnings: string[] = [];
    const noop = (): void => undefined;
    const db = tempDatabase();
    const overseer = await db.open({
      logger: { debug: noop, info: noop, error: noop, warn: (_obj, msg) => warnings.push(msg ?? "") },
    });
    overseer.defineTask("chatty", async (_payload, ctx) => {
      void ctx.log("cannot be stored", { big: 10n });
      await sleep(20);
      return "ok";
    });
    const job = await overseer.enqueue("chatty");
    const worker = overseer.worker(FAST);
    await worker.start();
    await waitForState(overseer, job.id, "succeeded");
    await sleep(20);

    expect(unhandled).toEqual([]);
    expect(warnings).toContain("ctx.log failed");
  });
});

describe("cancellation", () => {
  it("a cancelled waiting job never runs", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    const ran: string[] = [];
    overseer.defineTask("work", async (payload: { name: string }) => {
      ran.push(payload.name);
    });
    // High priority and due first: had the cancel not held, these would run before the bystander.
    const queued = await overseer.enqueue("work", { name: "queued" }, { priority: "high" });
    const scheduled = await overseer.enqueue("work", { name: "scheduled" }, { priority: "high", delay: 50 });
    const bystander = await overseer.enqueue("work", { name: "bystander" }, { priority: "low", delay: 100 });
    expect((await overseer.cancel(queued.id)).effect).toBe("cancelled");
    expect((await overseer.cancel(scheduled.id)).effect).toBe("cancelled");
    const worker = overseer.worker(FAST);
    await worker.start();
    await waitForState(overseer, bystander.id, "succeeded");

    expect(ran).toEqual(["bystander"]);
    for (const id of [queued.id, scheduled.id]) {
      expect(await overseer.getJob(id)).toMatchObject({ state: "cancelled", attempts: 0 });
      expect(await overseer.listAttempts(id)).toEqual([]);
    }
  });

  it("cancelling a running job aborts its handler with reason 'cancelled' at once, in the same process", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    const started = deferred();
    let reason: unknown = null;
    overseer.defineTask("long", async (_payload, ctx) => {
      ctx.signal.addEventListener("abort", () => {
        reason = ctx.signal.reason;
      });
      started.resolve();
      await untilAborted(ctx.signal);
    });
    const job = await overseer.enqueue("long");
    // Slow heartbeats: a prompt cancel cannot have come through them.
    const worker = overseer.worker({ ...FAST, leaseMs: 5_000, heartbeatMs: 2_000 });
    await worker.start();
    await started.promise;

    const t0 = Date.now();
    expect((await overseer.cancel(job.id)).effect).toBe("requested");
    await waitForState(overseer, job.id, "cancelled", 1_000);
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(reason).toBe("cancelled" satisfies AbortReason);
    expect((await overseer.listAttempts(job.id)).map((a) => a.outcome)).toEqual(["cancelled"]);
    const kinds = await eventKinds(overseer, job.id);
    expect(kinds.slice(-2)).toEqual(["job.cancel_requested", "job.cancelled"]);
  });

  it("a cancel made by another Overseer on the same file reaches the handler through the heartbeat", async () => {
    const db = tempDatabase();
    const workerSide = await db.open();
    const operatorSide = await db.open();
    const started = deferred();
    let reason: unknown = null;
    workerSide.defineTask("long", async (_payload, ctx) => {
      started.resolve();
      try {
        await untilAborted(ctx.signal);
      } finally {
        reason = ctx.signal.reason;
      }
    });
    const job = await operatorSide.enqueue("long");
    const worker = workerSide.worker(FAST);
    await worker.start();
    await started.promise;

    expect((await operatorSide.cancel(job.id)).effect).toBe("requested");
    await waitForState(operatorSide, job.id, "cancelled", 3_000);
    expect(reason).toBe("cancelled");
    expect(await operatorSide.getJob(job.id)).toMatchObject({ attempts: 1, leaseOwner: null });
  });
});

describe("prefetch", () => {
  it("jobs a claim holds while another claim keeps the free slot start once that claim comes back empty", async () => {
    const db = tempDatabase();
    const { store, faults } = withFaults(await openStore(db.path));
    const overseer = db.track(await createOverseer({ store }));
    const firstRunning = deferred();
    const releaseFirst = deferred<void>();
    const ran: number[] = [];
    overseer.defineTask("job", async (payload: { i: number }) => {
      ran.push(payload.i);
      if (payload.i === 1) {
        firstRunning.resolve();
        await releaseFirst.promise;
      }
    });
    const worker = overseer.worker({ ...FAST, concurrency: 1, prefetch: 2 });
    await overseer.enqueue("job", { i: 1 });
    await worker.start();
    await firstRunning.promise;
    // With job 1 running, the claim loop's next claim (for two held jobs) waits in the store...
    const releaseClaim = faults.stall("claim");
    await overseer.enqueueMany([2, 3].map((i) => ({ task: "job", payload: { i } })));
    await waitFor("a claim to wait", () => faults.stalledCalls("claim") === 1);
    // ...and job 1's outcome, with a claim that would start a job in the slot it frees, waits too.
    const releaseFinish = faults.stall("finishAndClaim");
    releaseFirst.resolve();
    await waitFor("job 1's outcome to wait", () => faults.stalledCalls("finishAndClaim") === 1);
    // The first claim takes jobs 2 and 3 and holds them: the free slot is kept for the second,
    // which then finds nothing. Nothing runs now, so the held jobs must start all the same.
    releaseClaim();
    // Running in the store: job 1, whose outcome waits, and the two held.
    await waitFor("jobs 2 and 3 claimed", async () => (await overseer.countJobs()).running === 3);
    releaseFinish();
    await waitFor("jobs 2 and 3 to run", () => ran.length === 3, { timeoutMs: 3_000 });
    expect(ran).toEqual([1, 2, 3]);
  });

  it("holds claimed jobs beyond its slots: never more handlers than concurrency, every job once, in claim order", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    let running = 0;
    let most = 0;
    const started: number[] = [];
    overseer.defineTask("work", async (payload: { i: number }) => {
      started.push(payload.i);
      running++;
      most = Math.max(most, running);
      await sleep(2);
      running--;
    });
    await overseer.enqueueMany(Array.from({ length: 40 }, (_, i) => ({ task: "work", payload: { i } })));
    const worker = overseer.worker({ ...FAST, concurrency: 2, prefetch: 5 });
    await worker.start();
    onTestFinished(() => worker.stop());

    // The first claim takes slots plus prefetch: two start, five wait, leased, in this worker.
    await waitFor("the first claim", () => started.length > 0);
    await waitFor("all forty jobs to succeed", async () => (await overseer.countJobs()).succeeded === 40);
    expect(most).toBe(2);
    expect(started).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(worker.stats).toMatchObject({ claimed: 40, succeeded: 40, failed: 0, leasesLost: 0 });
  });

  it("hands held jobs back uncounted at stop, and a cancel of a held job cancels it without running it", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    const first = deferred();
    const ran: number[] = [];
    overseer.defineTask("block", async (payload: { i: number }, ctx) => {
      ran.push(payload.i);
      first.resolve();
      await untilAborted(ctx.signal);
    });
    const jobs = await overseer.enqueueMany(Array.from({ length: 4 }, (_, i) => ({ task: "block", payload: { i } })));
    const worker = overseer.worker({ ...FAST, concurrency: 1, prefetch: 3 });
    await worker.start();
    await first.promise;
    const [running, held1, held2, held3] = jobs.map((j) => j.id) as [string, string, string, string];
    // All four are claimed: one runs, three are held, and all four are leased by this worker.
    await waitFor("all four claimed", async () => (await overseer.countJobs()).running === 4);

    // Requested (the store sees a running job), then settled by the worker without running it.
    expect((await overseer.cancel(held1)).effect).toBe("requested");
    await waitForState(overseer, held1, "cancelled");

    await worker.stop({ timeoutMs: 100 });
    expect(ran).toEqual([0]);
    for (const id of [running, held2, held3]) {
      expect(await overseer.getJob(id)).toMatchObject({ state: "queued", attempts: 0, leaseOwner: null });
    }
    expect((await overseer.listAttempts(held2)).map((a) => a.outcome)).toEqual(["released"]);
    expect((await overseer.listAttempts(held1)).map((a) => a.outcome)).toEqual(["cancelled"]);
  });

  // A's held job runs without waiting for its start's record, which never lands: A "dies" (its
  // heartbeats, claims and records stall) with the job running. The job goes back uncounted and
  // marked; B, holding it next, records its start before the handler runs, so B's death is charged.
  it("a held job runs before its start is recorded; dying before the record is free once, then charged", async () => {
    const db = tempDatabase();
    const inA = withFaults(await openStore(db.path));
    const inB = withFaults(await openStore(db.path));
    const a = db.track(await createOverseer({ store: inA.store }));
    const b = db.track(await createOverseer({ store: inB.store }));
    const ran: string[] = [];
    const releaseBlockerA = deferred<void>();
    const releaseBlockerB = deferred<void>();
    const never = deferred<void>();
    const unstall: Array<() => void> = [];
    onTestFinished(() => {
      never.resolve();
      for (const f of unstall) f();
    });
    for (const [name, overseer] of [
      ["A", a],
      ["B", b],
    ] as const) {
      overseer.defineTask("job", async (payload: { name: string }) => {
        ran.push(`${payload.name} in ${name}`);
        if (payload.name === "blocker-A") await releaseBlockerA.promise;
        else if (payload.name === "blocker-B") await releaseBlockerB.promise;
        else await never.promise; // kills its worker: never returns, ignores its signal
      });
    }
    const [, poison] = await a.enqueueMany(
      ["blocker-A", "poison"].map((name) => ({ task: "job", payload: { name }, options: { maxAttempts: 1 } })),
    );
    const poisonId = poison?.id as string;
    unstall.push(inA.faults.stall("startHeld"));
    const workerA = a.worker({ ...FAST, concurrency: 1, prefetch: 1 });
    await workerA.start();
    await waitFor("A to claim both", async () => (await a.countJobs()).running === 2);
    releaseBlockerA.resolve();
    await waitFor("the poison job to run in A", () => ran.includes("poison in A"));
    // A dies: nothing more from it reaches the database.
    for (const verb of ["heartbeat", "claim", "finish", "finishAndClaim"] as const)
      unstall.push(inA.faults.stall(verb));

    await b.enqueue("job", { name: "blocker-B" }, { priority: "high" });
    const unstallStartsB = inB.faults.stall("startHeld");
    const workerB = b.worker({ ...FAST, concurrency: 1, prefetch: 1 });
    await workerB.start();
    await waitFor("blocker-B to run in B", () => ran.includes("blocker-B in B"));
    // The expired lease hands the poison job back uncounted, marked, and B holds it.
    await waitFor("B to hold the poison job", async () => (await b.getJob(poisonId))?.leaseOwner === workerB.id, {
      timeoutMs: 8_000,
    });
    expect(await b.getJob(poisonId)).toMatchObject({ attempts: 1, lastError: { code: "LEASE_EXPIRED" } });
    expect((await b.listAttempts(poisonId)).map((x) => [x.workerId, x.outcome])).toEqual([
      [workerA.id, "released"],
      [workerB.id, "running"],
    ]);

    // B's slot frees: the poison job's start is recorded first, and it waits for that record.
    releaseBlockerB.resolve();
    await waitFor("B to record the poison job's start", () => inB.faults.stalledCalls("startHeld") === 1);
    expect(ran).not.toContain("poison in B");
    unstallStartsB();
    await waitFor("the poison job to run in B", () => ran.includes("poison in B"));
    // B dies too: this time the attempt counts, and it was the job's only one.
    unstall.push(inB.faults.stall("heartbeat"));
    await waitForState(b, poisonId, "dead", 8_000);
    expect((await b.listAttempts(poisonId)).map((x) => [x.workerId, x.outcome])).toEqual([
      [workerA.id, "released"],
      [workerB.id, "lost"],
    ]);
  });

  // The start of a held job recorded after its handler began does land: a worker that dies once
  // the job has run a while is charged the attempt, as for a job its claim started.
  it("a held job's start recorded after its handler began counts: a death after that is charged", async () => {
    const db = tempDatabase();
    const { store, faults } = withFaults(await openStore(db.path));
    const overseer = db.track(await createOverseer({ store }));
    const releaseBlocker = deferred<void>();
    const running = deferred<void>();
    const never = deferred<void>();
    const unstall: Array<() => void> = [];
    onTestFinished(() => {
      never.resolve();
      for (const f of unstall) f();
    });
    overseer.defineTask("job", async (payload: { name: string }) => {
      if (payload.name === "blocker") return releaseBlocker.promise;
      running.resolve();
      await never.promise; // kills its worker: never returns, ignores its signal
    });
    const [, long] = await overseer.enqueueMany(
      ["blocker", "long"].map((name) => ({ task: "job", payload: { name }, options: { maxAttempts: 1 } })),
    );
    const worker = overseer.worker({ ...FAST, concurrency: 1, prefetch: 1 });
    await worker.start();
    await waitFor("both claimed", async () => (await overseer.countJobs()).running === 2);
    releaseBlocker.resolve();
    await running.promise;
    const file = new Database(db.path, { readonly: true });
    onTestFinished(() => {
      file.close();
    });
    const held = () => (file.prepare("SELECT held FROM jobs WHERE id = ?").get(long?.id) as { held: number }).held;
    await waitFor("the held job's start to be recorded", () => held() === 0);
    // The worker dies: nothing more from it reaches the database but the recovery of its leases.
    for (const verb of ["heartbeat", "claim", "finish", "finishAndClaim"] as const) unstall.push(faults.stall(verb));
    await waitForState(overseer, long?.id as string, "dead", 8_000);
    expect((await overseer.listAttempts(long?.id as string)).map((x) => x.outcome)).toEqual(["lost"]);
  });

  // The park ends the attempt as an outcome would: the start recorded later skips it, even while
  // the handler, having caught the park, runs on past the moment the start is recorded.
  it("a held job that parks before its start is recorded parks, and no lease is taken for lost", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    const releaseBlocker = deferred<void>();
    const lingered = deferred<void>();
    overseer.defineTask("job", async (payload: { name: string }, ctx) => {
      if (payload.name === "blocker") return releaseBlocker.promise;
      try {
        await ctx.sleep(60_000);
      } catch (parked) {
        await sleep(3 * START_RECORD_DELAY_MS);
        lingered.resolve();
        throw parked;
      }
    });
    const [, sleeper] = await overseer.enqueueMany(
      ["blocker", "sleeper"].map((name) => ({ task: "job", payload: { name } })),
    );
    const worker = overseer.worker({ ...FAST, concurrency: 1, prefetch: 1 });
    await worker.start();
    await waitFor("both claimed", async () => (await overseer.countJobs()).running === 2);
    releaseBlocker.resolve();
    await lingered.promise;
    await waitForState(overseer, sleeper?.id as string, "scheduled");
    await worker.stop();
    expect(worker.stats.leasesLost).toBe(0);
    expect(await eventKinds(overseer, sleeper?.id as string)).toEqual(["job.enqueued", "job.started", "job.parked"]);
  });

  // A's heartbeats and its record of held starts stall (a long lock wait) past its leases: B
  // recovers both jobs and runs them, the held one uncounted. When A's slot frees, the start of
  // its held job finds the lease gone, and A never runs it.
  it("a held job whose lease expired before its start was recorded goes back uncounted and never runs here", async () => {
    const db = tempDatabase();
    const { store, faults } = withFaults(await openStore(db.path));
    const a = db.track(await createOverseer({ store }));
    const b = await db.open();
    const ranInA: number[] = [];
    const running = deferred();
    const release = deferred<void>();
    a.defineTask("job", async (payload: { i: number }) => {
      ranInA.push(payload.i);
      running.resolve();
      await release.promise; // ignores its signal
    });
    b.defineTask("job", async (payload: { i: number }) => `B ran ${payload.i}`);
    const [first, held] = (await a.enqueueMany([0, 1].map((i) => ({ task: "job", payload: { i } })))).map((j) => j.id);
    const workerA = a.worker({ ...FAST, concurrency: 1, prefetch: 1 });
    await workerA.start();
    await running.promise;
    await waitFor("both jobs claimed by A", async () => (await a.countJobs()).running === 2);
    const unstallHeartbeat = faults.stall("heartbeat");
    const unstallStart = faults.stall("startHeld");
    const workerB = b.worker(FAST);
    await workerB.start();
    onTestFinished(() => workerB.stop());

    await waitForState(b, held as string, "succeeded", 8_000);
    expect(await b.getJob(held as string)).toMatchObject({ attempts: 1, result: "B ran 1" });
    expect((await b.listAttempts(held as string)).map((x) => [x.workerId, x.outcome])).toEqual([
      [workerA.id, "released"],
      [workerB.id, "succeeded"],
    ]);
    const released = (await b.readEvents({ jobId: held as string })).find((e) => e.kind === "job.released");
    expect(released?.data).toEqual({ reason: "lease_expired_before_start", workerId: workerA.id });
    // The job A had started is charged: its attempt counts, lost.
    await waitForState(b, first as string, "succeeded", 8_000);
    expect((await b.listAttempts(first as string)).map((x) => x.outcome)).toEqual(["lost", "succeeded"]);

    // A's handler returns, its slot frees, and the held job's start is attempted: refused.
    release.resolve();
    await waitFor("A to try to start the held job", () => faults.stalledCalls("startHeld") === 1);
    unstallStart();
    unstallHeartbeat();
    await waitFor("A to give up both leases", () => workerA.stats.leasesLost === 2);
    await workerA.stop();
    expect(ranInA).toEqual([0]);
    expect(workerA.stats).toMatchObject({ succeeded: 0, claimed: 2 });
  });

  it('"auto" hands back the jobs it holds when they turn out long, uncounted, and runs every job once', async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    const runs = new Map<number, number>();
    overseer.defineTask("work", async (payload: { i: number; ms: number }) => {
      runs.set(payload.i, (runs.get(payload.i) ?? 0) + 1);
      await sleep(payload.ms);
    });
    // Quick jobs first, so that the worker learns to hold many; then long ones it should not keep.
    await overseer.enqueueMany(
      Array.from({ length: 40 }, (_, i) => ({ task: "work", payload: { i, ms: i < 30 ? 0 : 150 } })),
    );
    const worker = overseer.worker({ ...FAST, concurrency: 1 });
    await worker.start();
    await waitFor("all 40 jobs to succeed", async () => (await overseer.countJobs()).succeeded === 40, {
      timeoutMs: 15_000,
    });
    await worker.stop();
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(runs.size).toBe(40);
    const released = (await overseer.readEvents({ limit: 1_000 })).filter((e) => e.kind === "job.released");
    expect(released.length).toBeGreaterThan(0);
    expect(released.every((e) => (e.data as { reason: string }).reason === "prefetch_reduced")).toBe(true);
    // Handed back uncounted: every job took one attempt.
    for (const job of await overseer.listJobs({ limit: 50 })) expect(job.attempts).toBe(1);
  });

  it("rejects a negative or fractional prefetch", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    overseer.defineTask("work", async () => undefined);
    expect(() => overseer.worker({ prefetch: -1 })).toThrow(/prefetch must be "auto" or a non-negative integer/);
    expect(() => overseer.worker({ prefetch: 1.5 })).toThrow(/prefetch must be "auto" or a non-negative integer/);
  });

  it("after a short claim the worker looks again shortly, not at once; a wakeup claims at once", async () => {
    const db = tempDatabase();
    const local = await openStore(db.path);
    const claims: Array<{ n: number; at: number }> = [];
    const store = new Proxy(local, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (prop === "claim") {
          return async (...args: unknown[]) => {
            const at = performance.now();
            const claimed = await value.apply(target, args);
            claims.push({ n: claimed.length, at });
            return claimed;
          };
        }
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const overseer = db.track(await createOverseer({ store }));
    const release = deferred<void>();
    const started: number[] = [];
    overseer.defineTask("work", async (payload: { i: number }) => {
      started.push(payload.i);
      await release.promise;
    });
    // No poll within the test: every claim after the first is a wakeup's or a short claim's look.
    const worker = overseer.worker({ ...FAST, concurrency: 4, prefetch: 0, pollMs: 60_000 });
    await worker.start();
    await waitFor("the idle worker's first claim", () => claims.length === 1);
    expect(claims.map((c) => c.n)).toEqual([0]);

    await overseer.enqueue("work", { i: 1 });
    await waitFor("job 1 to start", () => started.length === 1);
    await waitFor("the look after the short claim", () => claims.length === 3);
    // Job 1's claim, then one look, not before SHORT_CLAIM_RECHECK_MS; nothing was left to take.
    expect(claims.map((c) => c.n)).toEqual([0, 1, 0]);
    expect((claims[2]?.at ?? 0) - (claims[1]?.at ?? 0)).toBeGreaterThanOrEqual(SHORT_CLAIM_RECHECK_MS - 1);
    await sleep(100); // an empty claim waits for a wakeup: no more claims
    expect(claims).toHaveLength(3);

    // What becomes ready later wakes the loop.
    await overseer.enqueue("work", { i: 2 });
    await waitFor("job 2 to start", () => started.length === 2);
    expect(claims[3]?.n).toBe(1);
    release.resolve();
    await waitFor("both to succeed", async () => (await overseer.countJobs()).succeeded === 2);
    await worker.stop();
  });

  it('"auto" claims only free slots at first, then holds short jobs, on SQLite as across a network', async () => {
    const limits = async (remote: boolean): Promise<number[]> => {
      const db = tempDatabase();
      const local = await openStore(db.path);
      const asked: number[] = [];
      // The SQLite store, as itself and as a store whose claims would cross a network.
      const store = new Proxy(local, {
        get(target, prop) {
          if (prop === "remote") return remote;
          const value = Reflect.get(target, prop, target);
          if (prop === "claim" || prop === "finishAndClaim") {
            return (...args: unknown[]) => {
              asked.push((args.at(-1) as { limit: number }).limit);
              return value.apply(target, args);
            };
          }
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      const overseer = db.track(await createOverseer({ store }));
      overseer.defineTask("work", async () => undefined);
      await overseer.enqueueMany(Array.from({ length: 300 }, () => ({ task: "work", payload: {} })));
      const worker = overseer.worker({ ...FAST, concurrency: 2 });
      await worker.start();
      await waitFor("all 300 jobs to succeed", async () => (await overseer.countJobs()).succeeded === 300);
      await worker.stop();
      expect(worker.stats).toMatchObject({ claimed: 300, succeeded: 300, leasesLost: 0 });
      return asked;
    };
    for (const remote of [true, false]) {
      const asked = await limits(remote);
      expect(asked[0]).toBe(2);
      expect(Math.max(...asked)).toBeGreaterThan(2);
    }
  });
});

describe("graceful stop", () => {
  it("lets short jobs finish, hands long ones back uncounted, and a later worker runs them as attempt 1", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    const longStarted = deferred();
    const shortStarted = deferred();
    const longAttempts: number[] = [];
    let longReason: unknown = null;
    let handBack = true;
    overseer.defineTask("long", async (_payload, ctx) => {
      longAttempts.push(ctx.attempt);
      if (!handBack) return "finally";
      longStarted.resolve();
      try {
        await untilAborted(ctx.signal);
      } finally {
        longReason = ctx.signal.reason;
      }
    });
    overseer.defineTask("short", async () => {
      shortStarted.resolve();
      await sleep(100);
      return "done";
    });
    const long = await overseer.enqueue("long");
    const short = await overseer.enqueue("short");
    const worker = overseer.worker({ ...FAST, concurrency: 2 });
    await worker.start();
    await Promise.all([longStarted.promise, shortStarted.promise]);

    const t0 = Date.now();
    await worker.stop({ timeoutMs: 300 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(299);
    expect(worker.isRunning).toBe(false);

    expect(await overseer.getJob(short.id)).toMatchObject({ state: "succeeded", result: "done" });
    expect(longReason).toBe("shutdown");
    expect(await overseer.getJob(long.id)).toMatchObject({ state: "queued", attempts: 0, leaseOwner: null });
    expect((await overseer.listAttempts(long.id)).map((a) => a.outcome)).toEqual(["released"]);
    expect(await eventKinds(overseer, long.id)).toContain("job.released");
    const [record] = (await overseer.listWorkers()).filter((w) => w.id === worker.id);
    expect(record?.status).toBe("stopped");

    handBack = false;
    const next = overseer.worker(FAST);
    await next.start();
    await waitForState(overseer, long.id, "succeeded");
    expect(longAttempts).toEqual([1, 1]);
    expect(await overseer.getJob(long.id)).toMatchObject({ attempts: 1, result: "finally" });
    expect((await overseer.listAttempts(long.id)).map((a) => [a.number, a.outcome])).toEqual([
      [1, "released"],
      [2, "succeeded"],
    ]);
  });

  it("leaves a job whose handler ignores its signal leased until expiry, so no second run overlaps it", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    const started = deferred();
    const finished = deferred();
    overseer.defineTask("stubborn", async () => {
      started.resolve();
      await sleep(500);
      finished.resolve();
      return "too late";
    });
    const job = await overseer.enqueue("stubborn");
    const worker = overseer.worker({ ...FAST, abortGraceMs: 100 });
    await worker.start();
    await started.promise;

    const t0 = Date.now();
    await worker.stop({ timeoutMs: 100 });
    expect(Date.now() - t0).toBeLessThan(450);
    // Still leased to the stopped worker: nobody else may start it while the handler runs.
    expect(await overseer.getJob(job.id)).toMatchObject({ state: "running", attempts: 1 });

    await finished.promise;
    await sleep(50);
    expect(await overseer.getJob(job.id)).toMatchObject({ state: "running", result: null });

    // Once the lease expires another worker runs it; the stubborn attempt is recorded as lost.
    const other = await db.open();
    other.defineTask("stubborn", async () => "on time");
    await other.worker(FAST).start();
    await waitForState(other, job.id, "succeeded");
    expect((await other.listAttempts(job.id)).map((a) => a.outcome)).toEqual(["lost", "succeeded"]);
  });
});

describe("recovery", () => {
  it("runs again a job whose worker vanished once its lease expires; out of attempts, the job is dead", async () => {
    const db = tempDatabase();
    const store = await openStore(db.path);
    const overseer = db.track(await createOverseer({ store }));
    const ran: string[] = [];
    overseer.defineTask("work", async (payload: { name: string }) => {
      ran.push(payload.name);
    });
    const again = await overseer.enqueue("work", { name: "again" }, { maxAttempts: 3 });
    const last = await overseer.enqueue("work", { name: "last" }, { maxAttempts: 1 });
    // A worker that claims both jobs and then is never heard from again.
    await store.registerWorker({
      id: "ghost",
      name: "ghost",
      host: "nowhere",
      pid: 1,
      queues: null,
      tasks: ["work"],
      concurrency: 2,
    });
    const claimed = await store.claim({ workerId: "ghost", limit: 2, tasks: ["work"], queues: null, leaseMs: 300 });
    expect(claimed).toHaveLength(2);
    const t0 = Date.now();
    const worker = overseer.worker({ ...FAST, workerStaleMs: 300 });
    await worker.start();

    await waitForState(overseer, again.id, "succeeded");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(ran).toEqual(["again"]);
    expect((await overseer.listAttempts(again.id)).map((a) => [a.workerId, a.outcome])).toEqual([
      ["ghost", "lost"],
      [worker.id, "succeeded"],
    ]);
    expect(await overseer.getJob(last.id)).toMatchObject({
      state: "dead",
      attempts: 1,
      lastError: { code: "LEASE_EXPIRED" },
    });
    const dead = (await overseer.readEvents({ jobId: last.id })).find((e) => e.kind === "job.dead");
    expect(dead?.data).toMatchObject({ reason: "lease_expired" });
    await waitFor("the silent worker to be marked lost", async () => {
      const ghost = (await overseer.listWorkers()).find((w) => w.id === "ghost");
      return ghost?.status === "lost";
    });
  });
});

describe("lease loss", () => {
  it("the store fences out a lease that expired and was recovered", async () => {
    const db = tempDatabase();
    const store = await openStore(db.path);
    const overseer = db.track(await createOverseer({ store }));
    const job = await overseer.enqueue("work");
    const [claimed] = await store.claim({ workerId: "w-stale", limit: 1, tasks: ["work"], queues: null, leaseMs: 50 });
    expect(claimed?.job.id).toBe(job.id);
    await sleep(80);
    expect((await store.recoverExpiredLeases()).map((j) => j.id)).toEqual([job.id]);

    const lease = claimed!.lease;
    expect(await store.finish([{ lease, outcome: "succeeded", resultJson: '"stale"' }])).toEqual([false]);
    expect(await store.recordProgress(lease, "1")).toBe(false);
    expect((await store.heartbeat("w-stale", [lease], 1_000)).lost).toEqual([job.id]);
    expect(await store.getJob(job.id)).toMatchObject({ state: "queued", result: null, attempts: 1 });
    const [attempt] = await store.listAttempts(job.id);
    expect(attempt).toMatchObject({ outcome: "lost", workerId: "w-stale", error: { code: "LEASE_EXPIRED" } });
  });

  // Worker A's heartbeats fail (a locked database), so its lease expires and worker B runs the
  // job. Either A hears at its next heartbeat that the lease is gone, or its handler finishes
  // first and the store refuses the result: in both cases A records nothing.
  it.each([
    ["the next heartbeat aborts A's handler", "heartbeat"],
    ["A's result is refused when it finishes first", "finish"],
  ] as const)("a worker that lost its lease cannot complete the job: %s", async (_title, path) => {
    const db = tempDatabase();
    const { store, faults } = withFaults(await openStore(db.path));
    const a = db.track(await createOverseer({ store }));
    const b = await db.open();
    const aStarted = deferred();
    const aRelease = deferred<string>();
    let aReason: unknown = null;
    a.defineTask("job", async (_payload, ctx) => {
      ctx.signal.addEventListener("abort", () => {
        aReason = ctx.signal.reason;
      });
      aStarted.resolve();
      return aRelease.promise; // ignores its signal: only the fencing token can stop its result
    });
    b.defineTask("job", async () => "from B");
    const job = await a.enqueue("job");
    const workerA = a.worker({ ...FAST, concurrency: 1 });
    await workerA.start();
    await aStarted.promise;
    faults.failing.add("heartbeat");
    const workerB = b.worker(FAST);
    await workerB.start();

    await waitForState(b, job.id, "succeeded", 8_000);
    if (path === "heartbeat") {
      faults.failing.delete("heartbeat");
      await waitFor("A's handler to be aborted", () => aReason === "lease_lost", { timeoutMs: 5_000 });
      aRelease.resolve("from A");
    } else {
      aRelease.resolve("from A");
      await waitFor("A to notice its lease is gone", () => workerA.stats.leasesLost === 1);
      faults.failing.delete("heartbeat");
    }
    await workerA.stop();

    expect(workerA.stats).toMatchObject({ succeeded: 0, leasesLost: 1 });
    expect(await b.getJob(job.id)).toMatchObject({ state: "succeeded", result: "from B", attempts: 2 });
    const attempts: Attempt[] = await b.listAttempts(job.id);
    expect(attempts.map((x) => [x.workerId, x.outcome])).toEqual([
      [workerA.id, "lost"],
      [workerB.id, "succeeded"],
    ]);
    // The failing heartbeat loop reported itself instead of dying quietly.
    expect(faults.refused.get("heartbeat")).toBeGreaterThan(0);
    const loopFailures = (await b.readEvents()).filter((e) => e.kind === "worker.loop_failed");
    expect(loopFailures.length).toBeGreaterThan(0);
    expect(loopFailures[0]).toMatchObject({ workerId: workerA.id, data: { loop: "heartbeat" } });
  });
  // A's heartbeat stalls (a long lock wait) past its lease; A's own maintenance recovers the job
  // and, having a free slot, A claims it again while the first execution still runs. The stalled
  // heartbeat then reports the old lease lost. Only the old execution may be stopped by that.
  it("a worker that claims again a job whose lease it lost keeps the two executions apart", async () => {
    const db = tempDatabase();
    const { store, faults } = withFaults(await openStore(db.path));
    const overseer = db.track(await createOverseer({ store }));
    const firstStarted = deferred();
    const secondStarted = deferred();
    const releaseFirst = deferred<void>();
    const releaseSecond = deferred<void>();
    const reasons: unknown[] = [];
    let executions = 0;
    overseer.defineTask("job", async (_payload, ctx) => {
      const n = ++executions;
      ctx.signal.addEventListener("abort", () => {
        reasons[n - 1] = ctx.signal.reason;
      });
      if (n === 1) {
        firstStarted.resolve();
        await releaseFirst.promise; // ignores its signal
        return "first";
      }
      if (n === 2) {
        secondStarted.resolve();
        await Promise.race([releaseSecond.promise, untilAborted(ctx.signal)]);
        return "second";
      }
      return "third";
    });
    const job = await overseer.enqueue("job");
    const worker = overseer.worker({ ...FAST, concurrency: 2 });
    await worker.start();
    await firstStarted.promise;
    const unstall = faults.stall("heartbeat");
    await secondStarted.promise; // after the first lease expired and was recovered
    unstall();
    releaseFirst.resolve();
    await sleep(FAST.leaseMs! + 500); // the second lease must be kept alive by heartbeats meanwhile
    expect(await overseer.getJob(job.id)).toMatchObject({ state: "running", attempts: 2 });
    releaseSecond.resolve();
    await waitForState(overseer, job.id, "succeeded");

    expect(executions).toBe(2);
    expect(reasons).toEqual(["lease_lost"]);
    expect(worker.stats).toMatchObject({ succeeded: 1, leasesLost: 1 });
    expect(await overseer.getJob(job.id)).toMatchObject({ result: "second", attempts: 2 });
    expect((await overseer.listAttempts(job.id)).map((a) => a.outcome)).toEqual(["lost", "succeeded"]);
  });
});
