/**
 * The behaviour every Store backend must have, as one vitest suite each backend's test file
 * calls with a way to open a fresh store. Only the `Store` interface and `buildNewJob` are
 * used, so the suite says nothing about tables or SQL. Time is a manual clock handed to the
 * backend, so leases, delays, windows and TTLs are tested exactly, without sleeping.
 * Each test opens its own store and cleans it up; a skip must name the test and give a reason.
 */
import { describe, expect, it } from "vitest";
import { type ErrorCode, OverseerError } from "../../core/errors.js";
import { defineEventKind } from "../../core/events.js";
import { buildNewJob, type EnqueueOptions, type NewJob, type TaskDefaults } from "../../core/job-options.js";
import type { ClaimedJob, Job, JobError, JobState, Lease, ScheduleDefinition } from "../../core/types.js";
import type { AttemptResult, ClaimRequest, PruneBatch, PruneResult, Store, WorkerRegistration } from "../store.js";
import { newAlert, runAlertConformance } from "./alerts.js";
import { runApprovalConformance } from "./approvals.js";
import { runBreakerConformance } from "./breakers.js";
import { runClaimConformance } from "./claims.js";
import { runDurableConformance } from "./durable.js";
import { runFollowUpConformance } from "./follow-ups.js";
import { runHeartbeatConformance } from "./heartbeats.js";
import { runHeldConformance } from "./held.js";
import { runLessonConformance } from "./lessons.js";
import { runOncallConformance } from "./oncall.js";
import { runPayloadFilterConformance } from "./payload-filter.js";
import { runRetentionConformance } from "./retention.js";
import { runRollupConformance } from "./rollups.js";
import { runRunApprovalConformance } from "./run-approvals.js";
import { runRunConformance } from "./runs.js";
import { runSettingsConformance } from "./settings.js";
import { runWatchingConformance } from "./watching.js";
import { runWorkerControlConformance } from "./workers.js";

export interface StoreConformanceOptions {
  /** Shown as the suite's name, e.g. `sqlite`. */
  name: string;
  /** Opens a fresh, migrated, empty store that reads time from `clock`; `cleanup` closes and removes it. */
  open: (opts: { clock: () => number }) => Promise<{ store: Store; cleanup: () => Promise<void> }>;
  /** Test name → why this backend cannot pass it. Every name must exist; every reason must be given. */
  skip?: Record<string, string>;
}

/** A start time aligned to every second, minute and hour, so rate windows start at T0. */
const T0 = Date.UTC(2030, 0, 1);
const LEASE_MS = 30_000;
const TASKS = ["t", "a", "b"] as const;
const iso = (ms: number): string => new Date(ms).toISOString();

interface ManualClock {
  now: number;
  advance(ms: number): void;
  set(ms: number): void;
}

export interface Ctx {
  store: Store;
  clock: ManualClock;
  /** A validated job for task `t` (or `extra.task`), as the SDK would build it. */
  newJob(options?: EnqueueOptions, extra?: { task?: string; payload?: unknown; defaults?: TaskDefaults }): NewJob;
  /** Enqueues `newJob(...)` and returns the committed job. */
  add(options?: EnqueueOptions, extra?: { task?: string; payload?: unknown; defaults?: TaskDefaults }): Promise<Job>;
  claim(request?: Partial<ClaimRequest>): Promise<ClaimedJob[]>;
  /** Claims with limit 1 and expects exactly one job. */
  claimOne(request?: Partial<ClaimRequest>): Promise<ClaimedJob>;
  finishOne(result: AttemptResult): Promise<boolean>;
  succeed(lease: Lease, result?: unknown): Promise<void>;
  /** Enqueues, claims and fails a job for good. Nothing else may be ready when it is called. */
  addDead(options?: EnqueueOptions, extra?: { task?: string }): Promise<Job>;
  /** Enqueues, claims and succeeds a job. Nothing else may be ready when it is called. */
  addSucceeded(options?: EnqueueOptions, extra?: { task?: string }): Promise<Job>;
  /** Kinds of the job's events, in order. */
  kinds(jobId: string): Promise<string[]>;
  job(id: string): Promise<Job>;
}

const RETRYABLE: JobError = { code: "E_TIMEOUT", message: "timed out", retryable: true };
const PERMANENT: JobError = { code: "E_REFUSED", message: "card refused", retryable: false };

/** Awaits `fn()` and expects it to fail with an OverseerError of `code`. */
export async function rejectsWith(fn: () => Promise<unknown>, code: ErrorCode): Promise<OverseerError> {
  let thrown: unknown;
  try {
    await fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `expected an OverseerError ${code}`).toBeInstanceOf(OverseerError);
  expect((thrown as OverseerError).code).toBe(code);
  return thrown as OverseerError;
}

function manualClock(start: number): ManualClock {
  const clock: ManualClock = {
    now: start,
    advance(ms) {
      clock.now += ms;
    },
    set(ms) {
      clock.now = ms;
    },
  };
  return clock;
}

function makeCtx(store: Store, clock: ManualClock): Ctx {
  const ctx: Ctx = {
    store,
    clock,
    newJob: (options = {}, extra = {}) =>
      buildNewJob(extra.task ?? "t", "payload" in extra ? extra.payload : {}, options, extra.defaults),
    add: async (options, extra) => (await store.enqueue(ctx.newJob(options, extra))).job,
    claim: (request = {}) =>
      store.claim({ workerId: "w1", limit: 10, tasks: TASKS, queues: null, leaseMs: LEASE_MS, ...request }),
    claimOne: async (request = {}) => {
      const claimed = await ctx.claim({ ...request, limit: 1 });
      expect(claimed, "expected to claim one job").toHaveLength(1);
      return claimed[0] as ClaimedJob;
    },
    finishOne: async (result) => (await store.finish([result]))[0] as boolean,
    succeed: async (lease, result = null) => {
      expect(await ctx.finishOne({ lease, outcome: "succeeded", resultJson: JSON.stringify(result) })).toBe(true);
    },
    addDead: async (options, extra) => {
      const job = await ctx.add(options, extra);
      const { lease } = await ctx.claimOne({ tasks: [job.task], queues: [job.queue] });
      expect(lease.jobId).toBe(job.id);
      expect(await ctx.finishOne({ lease, outcome: "dead", error: PERMANENT, reason: "permanent_error" })).toBe(true);
      return ctx.job(job.id);
    },
    addSucceeded: async (options, extra) => {
      const job = await ctx.add(options, extra);
      const { lease } = await ctx.claimOne({ tasks: [job.task], queues: [job.queue] });
      expect(lease.jobId).toBe(job.id);
      await ctx.succeed(lease);
      return ctx.job(job.id);
    },
    kinds: async (jobId) => (await store.readEvents({ jobId })).map((e) => e.kind),
    job: async (id) => {
      const job = await store.getJob(id);
      expect(job, `job ${id} should exist`).not.toBeNull();
      return job as Job;
    },
  };
  return ctx;
}

export function runStoreConformance(options: StoreConformanceOptions): void {
  const skip = options.skip ?? {};
  for (const [name, reason] of Object.entries(skip)) {
    if (typeof reason !== "string" || reason.trim() === "") {
      throw new Error(`store conformance (${options.name}): skipping "${name}" needs a reason`);
    }
  }
  const registered = new Set<string>();

  /** One conformance test: a fresh store and clock, cleaned up whatever happens. */
  function test(title: string, body: (ctx: Ctx) => Promise<void>): void {
    if (registered.has(title)) throw new Error(`store conformance: two tests are named "${title}"`);
    registered.add(title);
    const reason = skip[title];
    if (reason !== undefined) {
      it.skip(`${title} — skipped: ${reason}`, () => undefined);
      return;
    }
    it(title, async () => {
      const clock = manualClock(T0);
      const { store, cleanup } = await options.open({ clock: () => clock.now });
      try {
        await body(makeCtx(store, clock));
      } finally {
        await cleanup();
      }
    });
  }

  describe(`Store conformance: ${options.name}`, () => {
    describe("basics", () => {
      test("now() reads the injected clock", async ({ store, clock }) => {
        expect(await store.now()).toBe(T0);
        clock.advance(1_234);
        expect(await store.now()).toBe(T0 + 1_234);
      });

      test("migrate on a migrated store applies nothing", async ({ store }) => {
        expect(await store.migrate()).toEqual({ applied: [] });
      });

      test("a closed store refuses writes with SHUTTING_DOWN, and closing twice is harmless", async (ctx) => {
        await ctx.store.close();
        await ctx.store.close();
        await rejectsWith(() => ctx.store.enqueue(ctx.newJob()), "SHUTTING_DOWN");
      });

      test("onChange is called after an enqueue, until unsubscribed", async (ctx) => {
        let calls = 0;
        let unsubscribe = (): void => undefined;
        const woke = new Promise<void>((resolve) => {
          unsubscribe = ctx.store.onChange(() => {
            calls++;
            resolve();
          });
        });
        await ctx.add();
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("onChange was not called within 2 s of an enqueue")), 2_000);
        });
        try {
          await Promise.race([woke, timeout]);
        } finally {
          clearTimeout(timer);
        }
        expect(calls).toBeGreaterThanOrEqual(1);
        unsubscribe();
      });
    });

    describe("enqueue", () => {
      test("enqueue returns the committed job, queued", async (ctx) => {
        const input = ctx.newJob(
          { priority: "high", maxAttempts: 3, queue: "sms" },
          { task: "t", payload: { to: "+15550100", n: [1, 2] } },
        );
        const result = await ctx.store.enqueue(input);
        expect(result.created).toBe(true);
        expect(result.job).toMatchObject({
          id: input.id,
          task: "t",
          queue: "sms",
          state: "queued",
          payload: { to: "+15550100", n: [1, 2] },
          result: null,
          priority: -10,
          runAt: iso(T0),
          attempts: 0,
          maxAttempts: 3,
          backoff: input.backoff,
          idempotencyKey: null,
          concurrency: null,
          rateLimit: null,
          progress: null,
          lastError: null,
          leaseOwner: null,
          leaseExpiresAt: null,
          cancelRequested: false,
          createdAt: iso(T0),
          startedAt: null,
          finishedAt: null,
        });
        expect(await ctx.store.getJob(input.id)).toEqual(result.job);
        expect(await ctx.kinds(input.id)).toEqual(["job.enqueued"]);
      });

      test("enqueue keeps the concurrency and rate limit rules on the job", async (ctx) => {
        const job = await ctx.add({
          concurrency: { key: "biz:1", limit: 2, onLimit: "wait" },
          rateLimit: { key: "api", limit: 5, period: "1m" },
          idempotencyKey: "k-1",
        });
        expect(job.concurrency).toEqual({ key: "biz:1", limit: 2, onLimit: "wait" });
        expect(job.rateLimit).toEqual({ key: "api", limit: 5, periodMs: 60_000 });
        expect(job.idempotencyKey).toBe("k-1");
        expect(await ctx.store.getJob(job.id)).toEqual(job);
      });

      test("every way in keeps who enqueued the job, and a claim hands it on", async (ctx) => {
        const one = await ctx.add({ enqueuedBy: "ci-bot", idempotencyKey: "k" });
        const none = await ctx.add();
        // A few jobs, and more than a batch bound as literals (PostgreSQL binds arrays then).
        const few = await ctx.store.enqueueMany([ctx.newJob({ enqueuedBy: "ana" }), ctx.newJob()]);
        const many = await ctx.store.enqueueMany(
          Array.from({ length: 40 }, (_, i) => ctx.newJob({ enqueuedBy: `user-${i}` })),
        );
        expect(one.enqueuedBy).toBe("ci-bot");
        expect(none.enqueuedBy).toBeNull();
        expect(few.map((r) => r.job.enqueuedBy)).toEqual(["ana", null]);
        expect(many.map((r) => r.job.enqueuedBy)).toEqual(Array.from({ length: 40 }, (_, i) => `user-${i}`));
        for (const r of [...few, ...many]) expect(await ctx.store.getJob(r.job.id)).toEqual(r.job);
        expect(await ctx.store.getJob(one.id)).toEqual(one);
        const claimed = await ctx.claim({ limit: 100 });
        expect(claimed.find((c) => c.job.id === one.id)?.job.enqueuedBy).toBe("ci-bot");
        expect(claimed.find((c) => c.job.id === many[39]?.job.id)?.job.enqueuedBy).toBe("user-39");
      });

      test("every way in keeps a job's trace context, and a claim hands it on", async (ctx) => {
        // Trace ids as an SDK makes them: one per job here, so a mix-up between rows shows.
        const traced = (i: number, tracestate: string | null = null) => ({
          traceparent: `00-${(i + 1).toString(16).padStart(32, "0")}-${"ab".repeat(8)}-01`,
          tracestate,
        });
        const job = (i: number | null, options: EnqueueOptions = {}) => {
          const built = ctx.newJob(options);
          return i === null
            ? built
            : { ...built, traceContext: traced(i, i % 3 === 0 ? `vendor=v${i},other=x` : null) };
        };
        const one = (await ctx.store.enqueue(job(0))).job;
        const none = (await ctx.store.enqueue(job(null))).job;
        // Jobs inserted after a read (a key, a delay) take the other way in on PostgreSQL.
        const keyed = (await ctx.store.enqueue(job(1, { idempotencyKey: "k", delay: "1s" }))).job;
        const few = await ctx.store.enqueueMany([job(2), job(null)]);
        // More than a batch bound as literals (PostgreSQL sends arrays then), traced or not.
        const many = await ctx.store.enqueueMany(Array.from({ length: 40 }, (_, i) => job(i % 2 === 0 ? i : null)));
        const plain = await ctx.store.enqueueMany(Array.from({ length: 40 }, () => job(null)));
        expect(one.traceContext).toEqual(traced(0, "vendor=v0,other=x"));
        expect(none.traceContext).toBeNull();
        expect(keyed.traceContext).toEqual(traced(1));
        expect(few.map((r) => r.job.traceContext)).toEqual([traced(2), null]);
        expect(many.map((r) => r.job.traceContext)).toEqual(
          Array.from({ length: 40 }, (_, i) =>
            i % 2 === 0 ? traced(i, i % 3 === 0 ? `vendor=v${i},other=x` : null) : null,
          ),
        );
        expect(plain.every((r) => r.job.traceContext === null)).toBe(true);
        for (const r of [...few, ...many, ...plain]) expect(await ctx.store.getJob(r.job.id)).toEqual(r.job);
        for (const j of [one, none, keyed]) expect(await ctx.store.getJob(j.id)).toEqual(j);
        const claimed = await ctx.claim({ limit: 100 });
        expect(claimed.find((c) => c.job.id === one.id)?.job.traceContext).toEqual(traced(0, "vendor=v0,other=x"));
        expect(claimed.find((c) => c.job.id === many[38]?.job.id)?.job.traceContext).toEqual(traced(38));
        expect(claimed.find((c) => c.job.id === none.id)?.job.traceContext).toBeNull();
      });

      test("every way in keeps a job's own attempt timeout, and a claim hands it on", async (ctx) => {
        const one = await ctx.add({ timeout: "90s" });
        const none = await ctx.add();
        const few = await ctx.store.enqueueMany([ctx.newJob({ timeout: 250 }), ctx.newJob()]);
        const many = await ctx.store.enqueueMany(
          Array.from({ length: 40 }, (_, i) => ctx.newJob(i % 2 === 0 ? { timeout: 1_000 + i } : {})),
        );
        expect(one.timeoutMs).toBe(90_000);
        expect(none.timeoutMs).toBeNull();
        expect(few.map((r) => r.job.timeoutMs)).toEqual([250, null]);
        expect(many.map((r) => r.job.timeoutMs)).toEqual(
          Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 1_000 + i : null)),
        );
        for (const r of [...few, ...many]) expect(await ctx.store.getJob(r.job.id)).toEqual(r.job);
        expect(await ctx.store.getJob(one.id)).toEqual(one);
        const claimed = await ctx.claim({ limit: 100 });
        expect(claimed.find((c) => c.job.id === one.id)?.job.timeoutMs).toBe(90_000);
        expect(claimed.find((c) => c.job.id === many[38]?.job.id)?.job.timeoutMs).toBe(1_038);
        expect(claimed.find((c) => c.job.id === none.id)?.job.timeoutMs).toBeNull();
      });

      test("enqueue with a delay schedules the job by the store's clock", async (ctx) => {
        ctx.clock.advance(1_000);
        const job = await ctx.add({ delay: "5s" });
        expect(job.state).toBe("scheduled");
        expect(job.runAt).toBe(iso(T0 + 6_000));
        expect(await ctx.store.getJob(job.id)).toEqual(job);
      });

      test("enqueue with runAt in the future schedules; now or in the past queues", async (ctx) => {
        const future = await ctx.add({ runAt: T0 + 60_000 });
        const now = await ctx.add({ runAt: new Date(T0) });
        const past = await ctx.add({ runAt: iso(T0 - 1_000) });
        expect(future).toMatchObject({ state: "scheduled", runAt: iso(T0 + 60_000) });
        expect(now).toMatchObject({ state: "queued", runAt: iso(T0) });
        expect(past).toMatchObject({ state: "queued", runAt: iso(T0 - 1_000) });
        expect((await ctx.store.getJob(future.id))?.state).toBe("scheduled");
      });

      test("enqueueMany returns every job, in order, committed", async (ctx) => {
        const inputs = [
          ctx.newJob({}, { payload: 1 }),
          ctx.newJob({ delay: "1m" }, { payload: 2 }),
          ctx.newJob({ queue: "q2" }, { task: "a", payload: 3 }),
        ];
        const results = await ctx.store.enqueueMany(inputs);
        expect(results.map((r) => r.job.id)).toEqual(inputs.map((i) => i.id));
        expect(results.map((r) => r.created)).toEqual([true, true, true]);
        expect(results.map((r) => r.job.state)).toEqual(["queued", "scheduled", "queued"]);
        expect(results.map((r) => r.job.payload)).toEqual([1, 2, 3]);
        for (const r of results) expect(await ctx.store.getJob(r.job.id)).toEqual(r.job);
        expect(await ctx.store.enqueueMany([])).toEqual([]);
      });

      test("a long enqueueMany stores every option of every job as a single enqueue would", async (ctx) => {
        const options = (i: number): EnqueueOptions => ({
          queue: `q${i % 3}`,
          priority: (i % 5) - 2,
          maxAttempts: 1 + (i % 4),
          backoff: { type: "fixed", delay: 100 * i },
          ...(i % 2 === 0 ? { concurrency: { key: `k'${i % 3}`, limit: 1 + (i % 2), onLimit: "wait" } } : {}),
          ...(i % 3 === 0 ? { rateLimit: { key: `r\\${i}`, limit: 5, period: "1m" } } : {}),
          ...(i % 4 === 0 ? { enqueuedBy: `user "${i}"` } : {}),
        });
        const inputs = Array.from({ length: 40 }, (_, i) =>
          ctx.newJob(options(i), { task: i % 2 ? "a" : "b", payload: { i, text: `it's {${i}}, "q"` } }),
        );
        const many = await ctx.store.enqueueMany(inputs);
        const one = await ctx.store.enqueue(
          ctx.newJob(options(6), { task: "b", payload: { i: 6, text: `it's {6}, "q"` } }),
        );
        for (const r of many) expect(await ctx.store.getJob(r.job.id)).toEqual(r.job);
        const { id: _i, createdAt: _c, runAt: _r, ...alike } = one.job;
        expect(many[6]?.job).toMatchObject(alike);
        const enqueued = (await ctx.store.readEvents()).filter((e) => e.kind === "job.enqueued");
        expect(enqueued.map((e) => e.jobId)).toEqual([...inputs.map((j) => j.id), one.job.id]);
        expect(enqueued[6]?.data).toEqual(enqueued.at(-1)?.data);
      });

      test("enqueueMany is all or nothing", async (ctx) => {
        const reject: EnqueueOptions = { concurrency: { key: "k", limit: 1, onLimit: "reject" } };
        const batch = [ctx.newJob({}, { payload: "first" }), ctx.newJob(reject), ctx.newJob(reject), ctx.newJob()];
        await rejectsWith(() => ctx.store.enqueueMany(batch), "CONCURRENCY_LIMIT_REACHED");
        for (const job of batch) expect(await ctx.store.getJob(job.id)).toBeNull();
        expect(Object.values(await ctx.store.countJobs()).reduce((a, b) => a + b, 0)).toBe(0);
        expect(await ctx.store.readEvents()).toEqual([]);
        // The rolled-back job did not take the key either.
        expect((await ctx.store.enqueue(ctx.newJob(reject))).created).toBe(true);
      });
    });

    describe("idempotency", () => {
      test("an idempotency key returns the existing job while it is unfinished", async (ctx) => {
        const first = await ctx.store.enqueue(ctx.newJob({ idempotencyKey: "order-1" }, { payload: "a" }));
        const again = await ctx.store.enqueue(ctx.newJob({ idempotencyKey: "order-1" }, { payload: "b" }));
        expect(first.created).toBe(true);
        expect(again.created).toBe(false);
        expect(again.job).toEqual(first.job);

        await ctx.claimOne();
        const whileRunning = await ctx.store.enqueue(ctx.newJob({ idempotencyKey: "order-1" }));
        expect(whileRunning.created).toBe(false);
        expect(whileRunning.job).toMatchObject({ id: first.job.id, state: "running", payload: "a" });

        expect((await ctx.store.listJobs()).map((j) => j.id)).toEqual([first.job.id]);
        expect((await ctx.store.readEvents()).filter((e) => e.kind === "job.enqueued")).toHaveLength(1);
      });

      test("an idempotency key holds within its TTL after the job finishes, then a new job is made", async (ctx) => {
        const options: EnqueueOptions = { idempotencyKey: "once", idempotencyTtl: "1m" };
        const first = await ctx.add(options);
        const { lease } = await ctx.claimOne();
        ctx.clock.advance(1_000);
        await ctx.succeed(lease);

        ctx.clock.set(T0 + 60_000);
        const within = await ctx.store.enqueue(ctx.newJob(options));
        expect(within.created).toBe(false);
        expect(within.job).toMatchObject({ id: first.id, state: "succeeded" });

        ctx.clock.set(T0 + 1_000 + 60_001);
        const after = await ctx.store.enqueue(ctx.newJob(options));
        expect(after.created).toBe(true);
        expect(after.job.id).not.toBe(first.id);
        expect(after.job.state).toBe("queued");
        expect(await ctx.store.countJobs()).toMatchObject({ succeeded: 1, queued: 1 });
      });

      test("an idempotency key holds within its TTL after a cancel", async (ctx) => {
        const options: EnqueueOptions = { idempotencyKey: "once", idempotencyTtl: "10s" };
        const first = await ctx.add(options);
        await ctx.store.cancelJob(first.id);
        ctx.clock.advance(9_000);
        expect((await ctx.store.enqueue(ctx.newJob(options))).job.id).toBe(first.id);
        ctx.clock.advance(2_000);
        expect((await ctx.store.enqueue(ctx.newJob(options))).created).toBe(true);
      });

      test("idempotency keys are scoped to their task", async (ctx) => {
        const a = await ctx.store.enqueue(ctx.newJob({ idempotencyKey: "same" }, { task: "a" }));
        const b = await ctx.store.enqueue(ctx.newJob({ idempotencyKey: "same" }, { task: "b" }));
        expect(a.created).toBe(true);
        expect(b.created).toBe(true);
        expect(b.job.id).not.toBe(a.job.id);
      });

      test("a repeated idempotency key within one enqueueMany returns the first job", async (ctx) => {
        const results = await ctx.store.enqueueMany([
          ctx.newJob({ idempotencyKey: "dup" }),
          ctx.newJob({ idempotencyKey: "dup" }),
        ]);
        expect(results.map((r) => r.created)).toEqual([true, false]);
        expect(results[1]?.job.id).toBe(results[0]?.job.id);
        expect((await ctx.store.countJobs()).queued).toBe(1);
      });

      test("an idempotent repeat is not rejected by a full concurrency key", async (ctx) => {
        const options: EnqueueOptions = {
          idempotencyKey: "x",
          concurrency: { key: "k", limit: 1, onLimit: "reject" },
        };
        const first = await ctx.add(options);
        const again = await ctx.store.enqueue(ctx.newJob(options));
        expect(again.created).toBe(false);
        expect(again.job.id).toBe(first.id);
      });
    });

    describe("concurrency keys", () => {
      test("wait: claim never runs more than the limit with one key, even in one batch", async (ctx) => {
        const rule: EnqueueOptions = { concurrency: { key: "biz:1", limit: 2 } };
        const keyed: Job[] = [];
        for (let i = 0; i < 5; i++) keyed.push(await ctx.add(rule));
        const free = await ctx.add();
        const other = await ctx.add({ concurrency: { key: "biz:2", limit: 1 } });

        const claimed = await ctx.claim({ limit: 10 });
        const ids = claimed.map((c) => c.job.id);
        expect(ids.filter((id) => keyed.some((k) => k.id === id))).toEqual([keyed[0]?.id, keyed[1]?.id]);
        expect(ids).toContain(free.id);
        expect(ids).toContain(other.id);
        expect(ids).toHaveLength(4);
        expect(await ctx.claim({ workerId: "w2", limit: 10 })).toEqual([]);
        expect(await ctx.store.countJobs()).toMatchObject({ running: 4, queued: 3 });

        const first = claimed.find((c) => c.job.id === keyed[0]?.id) as ClaimedJob;
        await ctx.succeed(first.lease);
        const next = await ctx.claim({ limit: 10 });
        expect(next.map((c) => c.job.id)).toEqual([keyed[2]?.id]);
      });

      test("wait: jobs of a full key ahead in line do not starve a free job behind them", async (ctx) => {
        const keyed: Job[] = [];
        for (let i = 0; i < 12; i++) keyed.push(await ctx.add({ concurrency: { key: "busy", limit: 1 } }));
        const free = await ctx.add();
        // A small batch: its first reads hold only the busy key's jobs, so the claim must look further.
        const claimed = await ctx.claim({ limit: 2 });
        expect(claimed.map((c) => c.job.id)).toEqual([keyed[0]?.id, free.id]);
      });

      test("wait: looking past a full key never claims more than the limit", async (ctx) => {
        for (let i = 0; i < 5; i++) await ctx.add({ concurrency: { key: "busy", limit: 1 } });
        const free: Job[] = [];
        for (let i = 0; i < 5; i++) free.push(await ctx.add());
        const claimed = await ctx.claim({ limit: 3 });
        expect(claimed).toHaveLength(3);
        expect(claimed.slice(1).map((c) => c.job.id)).toEqual([free[0]?.id, free[1]?.id]);
      });

      test("wait: enqueue never refuses a job over the limit", async (ctx) => {
        for (let i = 0; i < 3; i++) await ctx.add({ concurrency: { key: "k", limit: 1 } });
        expect((await ctx.store.countJobs()).queued).toBe(3);
      });

      test("reject: enqueue over the limit fails with CONCURRENCY_LIMIT_REACHED and writes nothing", async (ctx) => {
        const rule: EnqueueOptions = { concurrency: { key: "k", limit: 2, onLimit: "reject" } };
        await ctx.add(rule);
        // Scheduled and queued jobs hold a place under the key too, not only running ones.
        await ctx.add({ ...rule, delay: "1h" });
        await ctx.claimOne();
        const eventsBefore = await ctx.store.readEvents();

        const rejected = ctx.newJob(rule);
        const err = await rejectsWith(() => ctx.store.enqueue(rejected), "CONCURRENCY_LIMIT_REACHED");
        expect(err.details.key).toBe("k");
        expect(await ctx.store.getJob(rejected.id)).toBeNull();
        expect(await ctx.store.readEvents()).toEqual(eventsBefore);
        expect(await ctx.store.countJobs()).toMatchObject({ running: 1, scheduled: 1, queued: 0 });

        const otherKey: EnqueueOptions = { concurrency: { key: "other", limit: 2, onLimit: "reject" } };
        expect((await ctx.store.enqueue(ctx.newJob(otherKey))).created).toBe(true);
      });

      test("reject: a finished job frees its place under the key", async (ctx) => {
        const rule: EnqueueOptions = { concurrency: { key: "k", limit: 1, onLimit: "reject" } };
        await ctx.add(rule);
        await rejectsWith(() => ctx.store.enqueue(ctx.newJob(rule)), "CONCURRENCY_LIMIT_REACHED");
        const { lease } = await ctx.claimOne();
        await ctx.succeed(lease);
        expect((await ctx.store.enqueue(ctx.newJob(rule))).created).toBe(true);
      });
    });

    describe("rate limits", () => {
      test("over the limit a job waits, scheduled for the next window with job.throttled", async (ctx) => {
        const rule: EnqueueOptions = { rateLimit: { limit: 2, period: "1s" } };
        const jobs = [await ctx.add(rule), await ctx.add(rule), await ctx.add(rule)];
        const unlimited = await ctx.add();
        ctx.clock.set(T0 + 100);

        const claimed = await ctx.claim({ limit: 10 });
        expect(claimed.map((c) => c.job.id).sort()).toEqual([jobs[0]?.id, jobs[1]?.id, unlimited.id].sort());
        const third = await ctx.job(jobs[2]?.id as string);
        expect(third).toMatchObject({ state: "scheduled", runAt: iso(T0 + 1_000), attempts: 0 });
        expect((await ctx.kinds(third.id)).at(-1)).toBe("job.throttled");

        ctx.clock.set(T0 + 999);
        expect(await ctx.claim()).toEqual([]);
        ctx.clock.set(T0 + 1_000);
        expect((await ctx.claim()).map((c) => c.job.id)).toEqual([third.id]);
      });

      test("a rate limit key is shared across tasks", async (ctx) => {
        const rule: EnqueueOptions = { rateLimit: { key: "api", limit: 1, period: "1m" } };
        const a = await ctx.add(rule, { task: "a" });
        const b = await ctx.add(rule, { task: "b" });
        expect((await ctx.claim()).map((c) => c.job.id)).toEqual([a.id]);
        expect((await ctx.job(b.id)).state).toBe("scheduled");
        ctx.clock.set(T0 + 60_000);
        expect((await ctx.claim()).map((c) => c.job.id)).toEqual([b.id]);
      });

      test("a rate limit window is counted across claims", async (ctx) => {
        const rule: EnqueueOptions = { rateLimit: { limit: 1, period: "1h" } };
        await ctx.add(rule);
        expect(await ctx.claim()).toHaveLength(1);
        const second = await ctx.add(rule);
        ctx.clock.advance(60_000);
        expect(await ctx.claim()).toEqual([]);
        expect(await ctx.job(second.id)).toMatchObject({ state: "scheduled", runAt: iso(T0 + 3_600_000) });
      });
    });

    describe("claim", () => {
      test("claim takes the job under a lease and records the attempt", async (ctx) => {
        const job = await ctx.add({ maxAttempts: 3 });
        ctx.clock.advance(500);
        const [claimed, ...rest] = await ctx.claim({ workerId: "w-1", leaseMs: 30_000 });
        expect(rest).toEqual([]);
        const c = claimed as ClaimedJob;
        expect(c.job).toMatchObject({
          id: job.id,
          state: "running",
          attempts: 1,
          leaseOwner: "w-1",
          leaseExpiresAt: iso(T0 + 30_500),
          startedAt: iso(T0 + 500),
          cancelRequested: false,
        });
        expect(c.lease).toMatchObject({ jobId: job.id, workerId: "w-1", expiresAt: iso(T0 + 30_500) });
        expect(typeof c.lease.token).toBe("number");
        expect(await ctx.store.getJob(job.id)).toEqual(c.job);
        expect(await ctx.store.listAttempts(job.id)).toEqual([
          {
            jobId: job.id,
            number: 1,
            workerId: "w-1",
            startedAt: iso(T0 + 500),
            finishedAt: null,
            outcome: "running",
            error: null,
          },
        ]);
        expect(await ctx.kinds(job.id)).toEqual(["job.enqueued", "job.started"]);
        const started = (await ctx.store.readEvents({ jobId: job.id }))[1];
        expect(started).toMatchObject({ workerId: "w-1", at: iso(T0 + 500), data: { attempt: 1, task: job.task } });
        expect(Object.keys(started?.data ?? {})).toEqual(["attempt", "task"]);
      });

      test("claim takes at most the limit, and never the same job twice", async (ctx) => {
        for (let i = 0; i < 5; i++) await ctx.add();
        const first = await ctx.claim({ limit: 2 });
        const second = await ctx.claim({ workerId: "w2", limit: 10 });
        expect(first).toHaveLength(2);
        expect(second).toHaveLength(3);
        const ids = [...first, ...second].map((c) => c.job.id);
        expect(new Set(ids).size).toBe(5);
        expect(await ctx.claim({ limit: 10 })).toEqual([]);
        expect(await ctx.claim({ limit: 0 })).toEqual([]);
      });

      test("claim order is priority, then run time, then id", async (ctx) => {
        const low = await ctx.add({ priority: "low" });
        const d1 = await ctx.add();
        const later = await ctx.add({ delay: "1s" });
        const d2 = await ctx.add();
        const mid = await ctx.add({ priority: 5 });
        const d3 = await ctx.add();
        const early = await ctx.add({ runAt: T0 - 5_000 });
        const high = await ctx.add({ priority: "high" });
        ctx.clock.advance(2_000);

        const order: string[] = [];
        for (let i = 0; i < 8; i++) order.push((await ctx.claimOne()).job.id);
        expect(order).toEqual([high.id, early.id, d1.id, d2.id, d3.id, later.id, mid.id, low.id]);
      });

      test("no low-priority job is claimed while a ready high-priority one waits", async (ctx) => {
        for (let i = 0; i < 5; i++) await ctx.add({ priority: "low" });
        const high = await ctx.add({ priority: "high" });
        const dueHigh = await ctx.add({ priority: "high", delay: "1s" });
        expect((await ctx.claimOne()).job.id).toBe(high.id);
        ctx.clock.advance(1_000);
        // Due but still scheduled until a claim promotes it: it must still beat the queued low ones.
        expect((await ctx.claimOne()).job.id).toBe(dueHigh.id);
      });

      test("claim takes only the listed tasks", async (ctx) => {
        const a = await ctx.add({}, { task: "a" });
        const b = await ctx.add({}, { task: "b" });
        expect((await ctx.claim({ tasks: ["a"] })).map((c) => c.job.id)).toEqual([a.id]);
        expect(await ctx.claim({ tasks: ["a"] })).toEqual([]);
        expect(await ctx.claim({ tasks: [] })).toEqual([]);
        expect(await ctx.claim({ tasks: ["unknown"] })).toEqual([]);
        expect((await ctx.claim({ tasks: ["b", "unknown"] })).map((c) => c.job.id)).toEqual([b.id]);
      });

      test("claim takes only the listed queues, or all for null", async (ctx) => {
        const q1 = await ctx.add({ queue: "q1" });
        const q2 = await ctx.add({ queue: "q2" });
        const d = await ctx.add();
        expect((await ctx.claim({ queues: ["q1"] })).map((c) => c.job.id)).toEqual([q1.id]);
        expect(await ctx.claim({ queues: [] })).toEqual([]);
        expect((await ctx.claim({ queues: ["nope", "q2"] })).map((c) => c.job.id)).toEqual([q2.id]);
        expect((await ctx.claim({ queues: null })).map((c) => c.job.id)).toEqual([d.id]);
      });

      test("paused queues are not claimed; resuming makes them claimable", async (ctx) => {
        const mail = await ctx.add({ queue: "mail" });
        const sms = await ctx.add({ queue: "sms" });
        const paused = await ctx.store.setQueuePaused("mail", true);
        expect(paused).toMatchObject({ name: "mail", paused: true });
        expect(paused.counts.queued).toBe(1);

        expect((await ctx.claim()).map((c) => c.job.id)).toEqual([sms.id]);
        expect(await ctx.claim()).toEqual([]);
        expect(await ctx.claim({ queues: ["mail"] })).toEqual([]);

        expect(await ctx.store.setQueuePaused("mail", false)).toMatchObject({ name: "mail", paused: false });
        expect((await ctx.claim()).map((c) => c.job.id)).toEqual([mail.id]);
        const kinds = (await ctx.store.readEvents()).map((e) => e.kind);
        expect(kinds.filter((k) => k.startsWith("queue."))).toEqual(["queue.paused", "queue.resumed"]);
      });

      test("delayed jobs are not claimed before their time, and are after", async (ctx) => {
        expect(await ctx.store.nextScheduledAt()).toBeNull();
        const job = await ctx.add({ delay: "10s" });
        await ctx.add({ delay: "20s" });
        expect(await ctx.store.nextScheduledAt()).toBe(T0 + 10_000);
        ctx.clock.set(T0 + 9_999);
        expect(await ctx.claim()).toEqual([]);
        expect((await ctx.job(job.id)).state).toBe("scheduled");
        ctx.clock.set(T0 + 10_000);
        expect((await ctx.claim()).map((c) => c.job.id)).toEqual([job.id]);
        expect(await ctx.store.nextScheduledAt()).toBe(T0 + 20_000);
      });
    });

    describe("leases and finishing", () => {
      test("finish succeeded records the result and ends the lease", async (ctx) => {
        const job = await ctx.add();
        const { lease } = await ctx.claimOne();
        ctx.clock.advance(250);
        expect(await ctx.store.finish([{ lease, outcome: "succeeded", resultJson: '{"sent":true}' }])).toEqual([true]);
        expect(await ctx.job(job.id)).toMatchObject({
          state: "succeeded",
          result: { sent: true },
          attempts: 1,
          finishedAt: iso(T0 + 250),
          leaseOwner: null,
          leaseExpiresAt: null,
        });
        expect(await ctx.store.listAttempts(job.id)).toMatchObject([
          { number: 1, outcome: "succeeded", finishedAt: iso(T0 + 250), error: null },
        ]);
        expect(await ctx.kinds(job.id)).toEqual(["job.enqueued", "job.started", "job.succeeded"]);
        // A second finish with the same lease does nothing.
        expect(await ctx.finishOne({ lease, outcome: "succeeded", resultJson: "1" })).toBe(false);
        expect((await ctx.job(job.id)).result).toEqual({ sent: true });
        expect(await ctx.kinds(job.id)).toHaveLength(3);
      });

      test("a batch of successes appends one job.succeeded per job, with its attempt and duration", async (ctx) => {
        const jobs = [await ctx.add(), await ctx.add(), await ctx.add()];
        const leases = (await ctx.claim({ limit: 3 })).map((c) => c.lease);
        ctx.clock.advance(40);
        const given = [leases[2], leases[0], leases[1]] as Lease[];
        const results = given.map((lease) => ({ lease, outcome: "succeeded" as const, resultJson: "null" }));
        expect(await ctx.store.finish(results)).toEqual([true, true, true]);
        const succeeded = (await ctx.store.readEvents()).filter((e) => e.kind === "job.succeeded");
        const byJob = (a: { jobId: string | null }, b: { jobId: string | null }) =>
          String(a.jobId).localeCompare(String(b.jobId));
        expect(succeeded.map(({ jobId, workerId, data }) => ({ jobId, workerId, data })).sort(byJob)).toEqual(
          jobs.map((j) => ({ jobId: j.id, workerId: "w1", data: { attempt: 1, durationMs: 40 } })).sort(byJob),
        );

        // Joined with a claim, the successes' events come first, then the claim's.
        const [first, second] = [await ctx.add(), await ctx.add()];
        const { lease } = await ctx.claimOne();
        expect(lease.jobId).toBe(first.id);
        ctx.clock.advance(5);
        const { applied, claimed } = await ctx.store.finishAndClaim(
          [{ lease, outcome: "succeeded", resultJson: "1" }],
          {
            workerId: "w2",
            limit: 1,
            tasks: TASKS,
            queues: null,
            leaseMs: LEASE_MS,
          },
        );
        expect(applied).toEqual([true]);
        expect(claimed.map((c) => c.job.id)).toEqual([second.id]);
        const tail = (await ctx.store.readEvents()).slice(-2);
        expect(tail.map((e) => [e.kind, e.jobId, e.data])).toEqual([
          ["job.succeeded", first.id, { attempt: 1, durationMs: 5 }],
          ["job.started", second.id, expect.objectContaining({ attempt: 1 })],
        ]);
        expect((await ctx.job(first.id)).result).toBe(1);
      });

      test("finish with a stale lease token returns false and changes nothing", async (ctx) => {
        const job = await ctx.add({ maxAttempts: 3 });
        const stale = (await ctx.claimOne({ workerId: "w1", leaseMs: 1_000 })).lease;
        ctx.clock.advance(1_001);
        expect(await ctx.store.recoverExpiredLeases()).toHaveLength(1);
        const current = (await ctx.claimOne({ workerId: "w2" })).lease;
        expect(current.token).not.toBe(stale.token);

        const before = await ctx.job(job.id);
        const eventsBefore = await ctx.store.readEvents();
        const attemptsBefore = await ctx.store.listAttempts(job.id);
        const forged: Lease = { ...current, token: current.token + 1 };
        for (const lease of [stale, forged]) {
          expect(
            await ctx.store.finish([
              { lease, outcome: "succeeded", resultJson: "1" },
              { lease, outcome: "retry", error: RETRYABLE, delayMs: 0 },
              { lease, outcome: "dead", error: PERMANENT, reason: "permanent_error" },
              { lease, outcome: "cancelled", error: null },
              { lease, outcome: "released" },
            ]),
          ).toEqual([false, false, false, false, false]);
          expect(await ctx.store.recordProgress(lease, "50")).toBe(false);
        }
        expect(await ctx.job(job.id)).toEqual(before);
        expect(await ctx.store.readEvents()).toEqual(eventsBefore);
        expect(await ctx.store.listAttempts(job.id)).toEqual(attemptsBefore);

        const mixed = await ctx.store.finish([
          { lease: stale, outcome: "succeeded", resultJson: '"stale"' },
          { lease: current, outcome: "succeeded", resultJson: '"current"' },
        ]);
        expect(mixed).toEqual([false, true]);
        expect(await ctx.job(job.id)).toMatchObject({ state: "succeeded", result: "current" });
      });

      test("heartbeat extends a held lease", async (ctx) => {
        const job = await ctx.add();
        const { lease } = await ctx.claimOne({ leaseMs: 10_000 });
        ctx.clock.set(T0 + 8_000);
        const beat = await ctx.store.heartbeat("w1", [lease], 10_000);
        expect(beat).toEqual({
          extended: [{ ...lease, expiresAt: iso(T0 + 18_000) }],
          lost: [],
          cancelRequested: [],
          command: null,
        });
        expect((await ctx.job(job.id)).leaseExpiresAt).toBe(iso(T0 + 18_000));

        ctx.clock.set(T0 + 15_000);
        expect(await ctx.store.recoverExpiredLeases()).toEqual([]);
        expect((await ctx.job(job.id)).state).toBe("running");
        ctx.clock.set(T0 + 18_001);
        expect((await ctx.store.recoverExpiredLeases()).map((j) => j.id)).toEqual([job.id]);
      });

      test("heartbeat reports leases that were lost", async (ctx) => {
        const lostJob = await ctx.add();
        const lost = (await ctx.claimOne({ leaseMs: 1_000 })).lease;
        ctx.clock.advance(1_001);
        await ctx.store.recoverExpiredLeases();
        await ctx.add();
        const held = await ctx.claim({ limit: 10, leaseMs: 10_000 });
        expect(held).toHaveLength(2); // the recovered job and the new one
        const heldLeases = held.map((c) => c.lease);
        const finished = heldLeases.find((l) => l.jobId !== lostJob.id) as Lease;
        const retaken = heldLeases.find((l) => l.jobId === lostJob.id) as Lease;
        await ctx.succeed(finished);

        const beat = await ctx.store.heartbeat("w1", [lost, finished, retaken], 10_000);
        expect(beat.lost.sort()).toEqual([lostJob.id, finished.jobId].sort());
        expect(beat.extended.map((l) => l.token)).toEqual([retaken.token]);
        expect(beat.cancelRequested).toEqual([]);
      });

      test("heartbeat reports cancel requests", async (ctx) => {
        const job = await ctx.add();
        const { lease } = await ctx.claimOne();
        expect((await ctx.store.cancelJob(job.id)).effect).toBe("requested");
        const beat = await ctx.store.heartbeat("w1", [lease], LEASE_MS);
        expect(beat.cancelRequested).toEqual([job.id]);
        expect(beat.extended).toHaveLength(1);
        expect(beat.lost).toEqual([]);
      });

      test("recordProgress stores progress and appends job.progress", async (ctx) => {
        const job = await ctx.add();
        const { lease } = await ctx.claimOne();
        expect(await ctx.store.recordProgress(lease, JSON.stringify({ done: 3, of: 10 }))).toBe(true);
        expect((await ctx.job(job.id)).progress).toEqual({ done: 3, of: 10 });
        expect(await ctx.kinds(job.id)).toEqual(["job.enqueued", "job.started", "job.progress"]);
      });

      test("recoverExpiredLeases requeues a job whose lease expired, recording the attempt as lost", async (ctx) => {
        const job = await ctx.add({ maxAttempts: 3 });
        await ctx.claimOne({ workerId: "w1", leaseMs: 1_000 });
        ctx.clock.set(T0 + 999);
        expect(await ctx.store.recoverExpiredLeases()).toEqual([]);
        ctx.clock.set(T0 + 1_001);
        const recovered = await ctx.store.recoverExpiredLeases();
        expect(recovered.map((j) => [j.id, j.state])).toEqual([[job.id, "queued"]]);
        const after = await ctx.job(job.id);
        expect(after).toMatchObject({ state: "queued", attempts: 1, leaseOwner: null, leaseExpiresAt: null });
        expect(after.lastError).not.toBeNull();
        expect(after.lastError?.retryable).toBe(true);
        expect(recovered[0]).toEqual(after);
        expect(await ctx.store.listAttempts(job.id)).toMatchObject([
          { number: 1, outcome: "lost", finishedAt: iso(T0 + 1_001) },
        ]);
        expect(await ctx.kinds(job.id)).toEqual(["job.enqueued", "job.started", "job.lost"]);
        const lostEvent = (await ctx.store.readEvents({ jobId: job.id })).at(-1);
        expect(lostEvent?.workerId).toBe("w1");

        const again = await ctx.claimOne({ workerId: "w2" });
        expect(again.job.attempts).toBe(2);
        expect((await ctx.store.listAttempts(job.id)).map((a) => a.number)).toEqual([1, 2]);
      });

      test("recoverExpiredLeases kills a job that is out of attempts", async (ctx) => {
        const job = await ctx.add({ maxAttempts: 1 });
        await ctx.claimOne({ leaseMs: 1_000 });
        ctx.clock.advance(1_001);
        const recovered = await ctx.store.recoverExpiredLeases();
        expect(recovered.map((j) => j.state)).toEqual(["dead"]);
        const after = await ctx.job(job.id);
        expect(after).toMatchObject({ state: "dead", finishedAt: iso(T0 + 1_001), leaseOwner: null });
        expect(after.lastError).not.toBeNull();
        expect(recovered[0]).toEqual(after);
        expect(await ctx.store.listAttempts(job.id)).toMatchObject([{ outcome: "lost" }]);
        expect(await ctx.kinds(job.id)).toEqual(["job.enqueued", "job.started", "job.lost", "job.dead"]);
        expect(await ctx.claim()).toEqual([]);
      });

      test("recoverExpiredLeases cancels a lost job whose cancel was requested", async (ctx) => {
        const job = await ctx.add({ maxAttempts: 3 });
        await ctx.claimOne({ leaseMs: 1_000 });
        await ctx.store.cancelJob(job.id);
        ctx.clock.advance(1_001);
        expect((await ctx.store.recoverExpiredLeases()).map((j) => j.state)).toEqual(["cancelled"]);
        expect(await ctx.job(job.id)).toMatchObject({ state: "cancelled", finishedAt: iso(T0 + 1_001) });
        expect(await ctx.claim()).toEqual([]);
        expect((await ctx.kinds(job.id)).slice(-2)).toEqual(["job.lost", "job.cancelled"]);
      });

      test("recoverExpiredLeases takes at most its limit", async (ctx) => {
        for (let i = 0; i < 3; i++) await ctx.add();
        await ctx.claim({ leaseMs: 1_000 });
        ctx.clock.advance(1_001);
        expect(await ctx.store.recoverExpiredLeases(2)).toHaveLength(2);
        expect(await ctx.store.recoverExpiredLeases(2)).toHaveLength(1);
        expect(await ctx.store.recoverExpiredLeases(2)).toHaveLength(0);
      });

      test("release hands the job back without counting the attempt", async (ctx) => {
        const job = await ctx.add({ maxAttempts: 1 });
        const behind = await ctx.add({ maxAttempts: 1 });
        const { lease } = await ctx.claimOne();
        expect(lease.jobId).toBe(job.id);
        expect(await ctx.finishOne({ lease, outcome: "released" })).toBe(true);
        expect(await ctx.job(job.id)).toMatchObject({ state: "queued", attempts: 0, leaseOwner: null });
        expect(await ctx.store.listAttempts(job.id)).toMatchObject([{ number: 1, outcome: "released" }]);
        expect(await ctx.kinds(job.id)).toEqual(["job.enqueued", "job.started", "job.released"]);

        // It keeps its place in line, and its one attempt is still to come.
        const again = await ctx.claimOne();
        expect(again.job.id).toBe(job.id);
        expect(again.job.attempts).toBe(1);
        expect((await ctx.store.listAttempts(job.id)).map((a) => a.number)).toEqual([1, 2]);
        expect((await ctx.job(behind.id)).state).toBe("queued");
      });

      test("retry schedules the job after the backoff delay", async (ctx) => {
        const job = await ctx.add({ maxAttempts: 3 });
        const { lease } = await ctx.claimOne();
        ctx.clock.advance(100);
        expect(await ctx.finishOne({ lease, outcome: "retry", error: RETRYABLE, delayMs: 5_000 })).toBe(true);
        expect(await ctx.job(job.id)).toMatchObject({
          state: "scheduled",
          runAt: iso(T0 + 5_100),
          attempts: 1,
          lastError: RETRYABLE,
          leaseOwner: null,
          finishedAt: null,
        });
        expect(await ctx.store.listAttempts(job.id)).toMatchObject([{ outcome: "failed", error: RETRYABLE }]);
        expect(await ctx.kinds(job.id)).toEqual(["job.enqueued", "job.started", "job.failed", "job.retry_scheduled"]);
        expect(await ctx.store.nextScheduledAt()).toBe(T0 + 5_100);

        ctx.clock.set(T0 + 5_099);
        expect(await ctx.claim()).toEqual([]);
        ctx.clock.set(T0 + 5_100);
        expect((await ctx.claimOne()).job).toMatchObject({ id: job.id, attempts: 2 });
      });

      test("dead ends the job with its error", async (ctx) => {
        const job = await ctx.add({ maxAttempts: 5 });
        const { lease } = await ctx.claimOne();
        ctx.clock.advance(10);
        expect(await ctx.finishOne({ lease, outcome: "dead", error: PERMANENT, reason: "permanent_error" })).toBe(true);
        expect(await ctx.job(job.id)).toMatchObject({
          state: "dead",
          lastError: PERMANENT,
          finishedAt: iso(T0 + 10),
          leaseOwner: null,
        });
        expect(await ctx.store.listAttempts(job.id)).toMatchObject([{ outcome: "failed", error: PERMANENT }]);
        expect(await ctx.kinds(job.id)).toEqual(["job.enqueued", "job.started", "job.failed", "job.dead"]);
        expect(await ctx.claim()).toEqual([]);
      });

      test("a running job's handler can end it as cancelled", async (ctx) => {
        const job = await ctx.add();
        const { lease } = await ctx.claimOne();
        await ctx.store.cancelJob(job.id);
        expect(await ctx.finishOne({ lease, outcome: "cancelled", error: null })).toBe(true);
        expect(await ctx.job(job.id)).toMatchObject({ state: "cancelled", finishedAt: iso(T0), leaseOwner: null });
        expect(await ctx.store.listAttempts(job.id)).toMatchObject([{ outcome: "cancelled" }]);
        expect(await ctx.kinds(job.id)).toEqual([
          "job.enqueued",
          "job.started",
          "job.cancel_requested",
          "job.cancelled",
        ]);
      });
    });

    describe("operating on jobs", () => {
      test("cancel of a waiting job takes effect at once", async (ctx) => {
        const queued = await ctx.add();
        const scheduled = await ctx.add({ delay: "1h" });
        for (const job of [queued, scheduled]) {
          const result = await ctx.store.cancelJob(job.id);
          expect(result.effect).toBe("cancelled");
          expect(result.job).toMatchObject({ id: job.id, state: "cancelled", finishedAt: iso(T0) });
          expect(await ctx.store.getJob(job.id)).toEqual(result.job);
          expect(await ctx.kinds(job.id)).toEqual(["job.enqueued", "job.cancelled"]);
        }
        ctx.clock.advance(2 * 3_600_000);
        expect(await ctx.claim()).toEqual([]);
        expect(await ctx.store.nextScheduledAt()).toBeNull();
      });

      test("cancel of a running job is a request", async (ctx) => {
        const job = await ctx.add();
        await ctx.claimOne();
        const result = await ctx.store.cancelJob(job.id);
        expect(result.effect).toBe("requested");
        expect(result.job).toMatchObject({ id: job.id, state: "running", cancelRequested: true });
        expect(await ctx.store.getJob(job.id)).toEqual(result.job);
        expect(await ctx.kinds(job.id)).toEqual(["job.enqueued", "job.started", "job.cancel_requested"]);
      });

      test("cancel of a finished job fails with INVALID_TRANSITION", async (ctx) => {
        const succeeded = await ctx.addSucceeded();
        const dead = await ctx.addDead();
        const cancelled = await ctx.add();
        await ctx.store.cancelJob(cancelled.id);
        for (const id of [succeeded.id, dead.id, cancelled.id]) {
          const before = await ctx.job(id);
          await rejectsWith(() => ctx.store.cancelJob(id), "INVALID_TRANSITION");
          expect(await ctx.job(id)).toEqual(before);
        }
      });

      test("retry of a dead or cancelled job queues it with fresh attempts", async (ctx) => {
        const dead = await ctx.addDead({ maxAttempts: 1 });
        const retried = await ctx.store.retryJob(dead.id);
        expect(retried).toMatchObject({ id: dead.id, state: "queued", attempts: 0, finishedAt: null });
        expect(await ctx.store.getJob(dead.id)).toEqual(retried);
        expect((await ctx.kinds(dead.id)).at(-1)).toBe("job.retried");
        const again = await ctx.claimOne();
        expect(again.job).toMatchObject({ id: dead.id, attempts: 1 });
        expect(await ctx.store.listAttempts(dead.id)).toHaveLength(2);
        await ctx.succeed(again.lease);

        const cancelled = await ctx.add({ delay: "1h" });
        await ctx.store.cancelJob(cancelled.id);
        expect((await ctx.store.retryJob(cancelled.id)).state).toBe("queued");
        expect((await ctx.claimOne()).job.id).toBe(cancelled.id);
      });

      test("retry of a succeeded or waiting job fails with INVALID_TRANSITION, of a running one with BUSY", async (ctx) => {
        const succeeded = await ctx.addSucceeded();
        const scheduled = await ctx.add({ delay: "1h" });
        const running = await ctx.add();
        await ctx.claimOne();
        const queued = await ctx.add();
        for (const id of [succeeded.id, scheduled.id, running.id, queued.id]) {
          const before = await ctx.job(id);
          const code = before.state === "running" ? "BUSY" : "INVALID_TRANSITION";
          const err = await rejectsWith(() => ctx.store.retryJob(id), code);
          expect(err.details.state).toBe(before.state);
          expect(await ctx.job(id)).toEqual(before);
        }
      });

      test("retryDeadJobs retries the dead jobs that match the filter", async (ctx) => {
        const made: Array<[string, string]> = [
          ["a", "q1"],
          ["a", "q2"],
          ["b", "q1"],
          ["b", "q1"],
          ["b", "q2"],
          ["b", "q2"],
        ];
        const dead: Job[] = [];
        for (const [task, queue] of made) dead.push(await ctx.addDead({ queue }, { task }));
        const untouched = await ctx.addSucceeded({ queue: "q1" }, { task: "b" });

        const stateOf = async () => Promise.all(dead.map(async (j) => (await ctx.job(j.id)).state));
        expect(await ctx.store.retryDeadJobs({ queue: "q1", task: "b" })).toBe(2);
        expect(await stateOf()).toEqual(["dead", "dead", "queued", "queued", "dead", "dead"]);
        expect(await ctx.store.retryDeadJobs({ task: "a" })).toBe(2);
        expect(await stateOf()).toEqual(["queued", "queued", "queued", "queued", "dead", "dead"]);
        expect(await ctx.store.retryDeadJobs({ limit: 1 })).toBe(1);
        expect(await ctx.store.retryDeadJobs({})).toBe(1);
        expect(await ctx.store.retryDeadJobs({})).toBe(0);
        expect((await ctx.job(untouched.id)).state).toBe("succeeded");
        expect((await ctx.kinds(dead[0]?.id as string)).at(-1)).toBe("job.retried");
        expect(await ctx.store.countJobs()).toMatchObject({ dead: 0, queued: 6, succeeded: 1 });
      });

      test("discard deletes a finished job and its attempts", async (ctx) => {
        const succeeded = await ctx.addSucceeded();
        const dead = await ctx.addDead();
        const cancelled = await ctx.add();
        await ctx.store.cancelJob(cancelled.id);
        for (const id of [succeeded.id, dead.id, cancelled.id]) {
          await ctx.store.discardJob(id);
          expect(await ctx.store.getJob(id)).toBeNull();
          expect(await ctx.store.listAttempts(id)).toEqual([]);
          expect((await ctx.kinds(id)).at(-1)).toBe("job.discarded");
        }
      });

      test("discard of an unfinished job fails with INVALID_TRANSITION, or BUSY while it runs", async (ctx) => {
        const running = await ctx.add();
        await ctx.claimOne();
        const queued = await ctx.add();
        const scheduled = await ctx.add({ delay: "1m" });
        for (const id of [running.id, queued.id, scheduled.id]) {
          const before = await ctx.job(id);
          const attempts = await ctx.store.listAttempts(id);
          await rejectsWith(() => ctx.store.discardJob(id), before.state === "running" ? "BUSY" : "INVALID_TRANSITION");
          expect(await ctx.job(id)).toEqual(before);
          expect(await ctx.store.listAttempts(id)).toEqual(attempts);
        }
      });

      test("unknown job ids give JOB_NOT_FOUND, or nothing for reads", async (ctx) => {
        const unknown = "01ZZZZZZZZZZZZZZZZZZZZZZZZ";
        await rejectsWith(() => ctx.store.cancelJob(unknown), "JOB_NOT_FOUND");
        await rejectsWith(() => ctx.store.retryJob(unknown), "JOB_NOT_FOUND");
        await rejectsWith(() => ctx.store.discardJob(unknown), "JOB_NOT_FOUND");
        expect(await ctx.store.getJob(unknown)).toBeNull();
        expect(await ctx.store.listAttempts(unknown)).toEqual([]);
        expect(await ctx.store.readEvents({ jobId: unknown })).toEqual([]);
        expect(await ctx.store.readEvents()).toEqual([]);
      });
    });

    describe("events", () => {
      test("a job's events of kinds starting with a prefix, paged by seq", async (ctx) => {
        const job = await ctx.add();
        const other = await ctx.add();
        await ctx.store.appendEvents([
          { kind: "step.started", jobId: job.id, data: { name: "a" } },
          { kind: "job.log", jobId: job.id, data: {} },
          { kind: "step.started", jobId: other.id, data: { name: "a" } },
          { kind: "step.completed", jobId: job.id, data: { name: "a" } },
          { kind: "gate.decided", jobId: job.id, data: {} },
        ]);
        const steps = await ctx.store.readEvents({ jobId: job.id, kindPrefix: "step." });
        expect(steps.map((e) => e.kind)).toEqual(["step.started", "step.completed"]);
        expect((await ctx.store.readEvents({ jobId: job.id, kindPrefix: "job." })).map((e) => e.kind)).toEqual([
          "job.enqueued",
          "job.log",
        ]);
        const later = await ctx.store.readEvents({
          jobId: job.id,
          kindPrefix: "step.",
          afterSeq: steps[0]?.seq,
          limit: 1,
        });
        expect(later.map((e) => e.seq)).toEqual([steps[1]?.seq]);
        expect(await ctx.store.readEvents({ jobId: job.id, kindPrefix: "approval." })).toEqual([]);
      });

      test("a cursor is null until saved, then the last position saved under its name", async ({ store }) => {
        expect(await store.getCursor("reader")).toBeNull();
        await store.saveCursor("reader", 41);
        await store.saveCursor("other", 7);
        await store.saveCursor("reader", 42);
        expect(await store.getCursor("reader")).toBe(42);
        expect(await store.getCursor("other")).toBe(7);
        // A position past 2^31: sequence numbers of a long-lived log.
        await store.saveCursor("reader", 2 ** 40);
        expect(await store.getCursor("reader")).toBe(2 ** 40);
      });

      test("a job's transitions append their events in order with increasing seq", async (ctx) => {
        const job = await ctx.add({ maxAttempts: 2 });
        const first = await ctx.claimOne({ workerId: "w1" });
        ctx.clock.advance(10);
        await ctx.finishOne({ lease: first.lease, outcome: "retry", error: RETRYABLE, delayMs: 1_000 });
        ctx.clock.advance(1_000);
        const second = await ctx.claimOne({ workerId: "w2" });
        ctx.clock.advance(10);
        await ctx.succeed(second.lease, { ok: true });

        const events = await ctx.store.readEvents({ jobId: job.id });
        expect(events.map((e) => e.kind)).toEqual([
          "job.enqueued",
          "job.started",
          "job.failed",
          "job.retry_scheduled",
          "job.started",
          "job.succeeded",
        ]);
        for (let i = 1; i < events.length; i++) {
          expect((events[i] as { seq: number }).seq).toBeGreaterThan((events[i - 1] as { seq: number }).seq);
        }
        expect(events.every((e) => e.jobId === job.id)).toBe(true);
        expect(events.map((e) => e.at)).toEqual([
          iso(T0),
          iso(T0),
          iso(T0 + 10),
          iso(T0 + 10),
          iso(T0 + 1_010),
          iso(T0 + 1_020),
        ]);
        expect(events[1]?.workerId).toBe("w1");
        expect(events[4]?.workerId).toBe("w2");
        expect(await ctx.store.readEvents()).toEqual(events);
        expect(await ctx.store.lastEventSeq()).toBe(events.at(-1)?.seq);
      });

      test("readEvents filters by afterSeq, jobId and limit", async (ctx) => {
        const a = await ctx.add();
        const b = await ctx.add();
        await ctx.store.cancelJob(a.id);
        await ctx.store.cancelJob(b.id);
        const all = await ctx.store.readEvents();
        expect(all.map((e) => [e.kind, e.jobId])).toEqual([
          ["job.enqueued", a.id],
          ["job.enqueued", b.id],
          ["job.cancelled", a.id],
          ["job.cancelled", b.id],
        ]);
        const seq = (i: number) => (all[i] as { seq: number }).seq;
        expect(await ctx.store.readEvents({ afterSeq: seq(1) })).toEqual(all.slice(2));
        expect(await ctx.store.readEvents({ afterSeq: seq(3) })).toEqual([]);
        expect(await ctx.store.readEvents({ limit: 1 })).toEqual(all.slice(0, 1));
        expect(await ctx.store.readEvents({ afterSeq: seq(0), limit: 2 })).toEqual(all.slice(1, 3));
        expect(await ctx.store.readEvents({ jobId: a.id })).toEqual([all[0], all[2]]);
        expect(await ctx.store.readEvents({ jobId: b.id, afterSeq: seq(1) })).toEqual([all[3]]);
      });

      test("appendEvents writes registered kinds and returns their seqs", async (ctx) => {
        defineEventKind("conformance.checked");
        const job = await ctx.add();
        const last = await ctx.store.lastEventSeq();
        ctx.clock.advance(5);
        const seqs = await ctx.store.appendEvents([
          { kind: "conformance.checked", data: { n: 1 } },
          { kind: "job.log", jobId: job.id, workerId: "w1", data: { message: "hello" } },
        ]);
        expect(seqs).toHaveLength(2);
        expect(seqs[0]).toBeGreaterThan(last);
        expect(seqs[1]).toBeGreaterThan(seqs[0] as number);
        expect(await ctx.store.lastEventSeq()).toBe(seqs[1]);
        expect(await ctx.store.readEvents({ afterSeq: last })).toEqual([
          {
            seq: seqs[0],
            at: iso(T0 + 5),
            kind: "conformance.checked",
            jobId: null,
            runId: null,
            workerId: null,
            data: { n: 1 },
          },
          {
            seq: seqs[1],
            at: iso(T0 + 5),
            kind: "job.log",
            jobId: job.id,
            runId: null,
            workerId: "w1",
            data: { message: "hello" },
          },
        ]);
      });

      test("results keep every character, in a batch of successes", async (ctx) => {
        const awkward = ['a"b', "back\\slash\\", "{braces},commas", "NULL", "", " spaced ", "ünï ✓ 🚀", "'quote'"];
        const jobs = await Promise.all(awkward.map(() => ctx.add()));
        const claimed = await ctx.claim({ limit: awkward.length });
        const results = claimed.map((c, i) => ({
          lease: c.lease,
          outcome: "succeeded" as const,
          resultJson: JSON.stringify({ s: awkward[i] }),
        }));
        expect(await ctx.store.finish(results)).toEqual(awkward.map(() => true));
        for (const [i, c] of claimed.entries()) {
          expect((await ctx.job(c.job.id)).result).toEqual({ s: awkward[i] });
        }
        expect(jobs).toHaveLength(awkward.length);
      });

      test("a long batch of events keeps every character, null and order", async (ctx) => {
        const job = await ctx.add();
        const awkward = ['a"b', "back\\slash", "{braces},commas", "NULL", "null", "", " spaced ", "ünï ✓", "'quote'"];
        const events = Array.from({ length: 40 }, (_, i) => ({
          kind: "job.log",
          jobId: i % 2 === 0 ? job.id : null,
          workerId: i % 3 === 0 ? (awkward[i % awkward.length] as string) : null,
          data: { message: awkward[i % awkward.length], i },
        }));
        const last = await ctx.store.lastEventSeq();
        const seqs = await ctx.store.appendEvents(events);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
        const read = await ctx.store.readEvents({ afterSeq: last });
        expect(read.map((e) => e.seq)).toEqual(seqs);
        expect(read.map(({ kind, jobId, workerId, data }) => ({ kind, jobId, workerId, data }))).toEqual(events);
      });

      test("appendEvents rejects an unknown kind with UNKNOWN_EVENT_KIND and writes nothing", async (ctx) => {
        await ctx.add();
        const before = await ctx.store.readEvents();
        await rejectsWith(
          () => ctx.store.appendEvents([{ kind: "job.log", data: { message: "kept?" } }, { kind: "job.oops" }]),
          "UNKNOWN_EVENT_KIND",
        );
        expect(await ctx.store.readEvents()).toEqual(before);
      });

      test("pruning keeps the newest event, so sequence numbers are never reused", async (ctx) => {
        expect(await ctx.store.lastEventSeq()).toBe(0);
        await ctx.store.appendEvents([{ kind: "job.log" }, { kind: "job.log" }, { kind: "job.log" }]);
        const last = await ctx.store.lastEventSeq();
        expect(last).toBeGreaterThan(0);
        const dry = await ctx.store.prune({ jobs: {}, events: { maxCount: 0 } }, { dryRun: true });
        expect(dry.events).toBe(2);
        const result = await ctx.store.prune({ jobs: {}, events: { maxCount: 0 } });
        expect(result.events).toBe(2);
        expect((await ctx.store.readEvents()).map((e) => e.seq)).toEqual([last]);
        expect(await ctx.store.lastEventSeq()).toBe(last);
        const [next] = await ctx.store.appendEvents([{ kind: "job.log" }]);
        expect(next).toBeGreaterThan(last);
      });
    });

    describe("workers", () => {
      const registration = (id: string, extra: Partial<WorkerRegistration> = {}): WorkerRegistration => ({
        id,
        name: `worker ${id}`,
        host: "host-1",
        pid: 4242,
        queues: ["q1", "q2"],
        tasks: ["a", "b"],
        concurrency: 4,
        ...extra,
      });

      test("registerWorker records an active worker and appends worker.started", async (ctx) => {
        await ctx.store.registerWorker(registration("w-1"));
        await ctx.store.registerWorker(registration("w-2", { queues: null }));
        const workers = await ctx.store.listWorkers();
        expect(workers.find((w) => w.id === "w-1")).toEqual({
          id: "w-1",
          name: "worker w-1",
          host: "host-1",
          pid: 4242,
          queues: ["q1", "q2"],
          tasks: ["a", "b"],
          concurrency: 4,
          status: "active",
          startedAt: iso(T0),
          heartbeatAt: iso(T0),
          stoppedAt: null,
          command: null,
          commandAt: null,
          processed: 0,
          failed: 0,
        });
        expect(workers.find((w) => w.id === "w-2")?.queues).toBeNull();
        const started = (await ctx.store.readEvents()).filter((e) => e.kind === "worker.started");
        expect(started.map((e) => e.workerId)).toEqual(["w-1", "w-2"]);
      });

      test("markLostWorkers marks workers that stopped heartbeating", async (ctx) => {
        await ctx.store.registerWorker(registration("w-1"));
        await ctx.store.registerWorker(registration("w-2"));
        ctx.clock.advance(20_000);
        await ctx.store.heartbeat("w-1", [], LEASE_MS);
        expect(await ctx.store.markLostWorkers(30_000)).toEqual([]);
        ctx.clock.advance(15_000);
        expect(await ctx.store.markLostWorkers(30_000)).toEqual(["w-2"]);
        const workers = await ctx.store.listWorkers();
        expect(workers.find((w) => w.id === "w-1")).toMatchObject({ status: "active", heartbeatAt: iso(T0 + 20_000) });
        expect(workers.find((w) => w.id === "w-2")?.status).toBe("lost");
        expect((await ctx.store.readEvents()).filter((e) => e.kind === "worker.lost").map((e) => e.workerId)).toEqual([
          "w-2",
        ]);
        expect(await ctx.store.markLostWorkers(30_000)).toEqual([]);
      });

      test("a lost worker that heartbeats again is active", async (ctx) => {
        await ctx.store.registerWorker(registration("w-1"));
        ctx.clock.advance(60_000);
        expect(await ctx.store.markLostWorkers(30_000)).toEqual(["w-1"]);
        await ctx.store.heartbeat("w-1", [], LEASE_MS);
        expect((await ctx.store.listWorkers())[0]).toMatchObject({ status: "active", heartbeatAt: iso(T0 + 60_000) });
      });

      test("setWorkerStatus records stopping and stopped; stopped workers are never lost", async (ctx) => {
        await ctx.store.registerWorker(registration("w-1"));
        await ctx.store.setWorkerStatus("w-1", "stopping");
        expect((await ctx.store.listWorkers())[0]).toMatchObject({ status: "stopping", stoppedAt: null });
        ctx.clock.advance(1_000);
        await ctx.store.setWorkerStatus("w-1", "stopped");
        expect((await ctx.store.listWorkers())[0]).toMatchObject({ status: "stopped", stoppedAt: iso(T0 + 1_000) });
        expect((await ctx.store.readEvents()).map((e) => e.kind)).toContain("worker.stopped");
        ctx.clock.advance(3_600_000);
        expect(await ctx.store.markLostWorkers(1_000)).toEqual([]);

        await ctx.store.registerWorker(registration("w-1"));
        expect((await ctx.store.listWorkers())[0]).toMatchObject({ status: "active", stoppedAt: null });
      });

      test("registerWorker remembers its tasks for good: first and last seen, kept when workers are pruned", async (ctx) => {
        expect(await ctx.store.listTasks()).toEqual([]);
        await ctx.store.registerWorker(registration("w-1", { tasks: ["send-email", "b", "send-email"] }));
        ctx.clock.advance(5_000);
        await ctx.store.registerWorker(registration("w-2", { tasks: ["send-email", "a"] }));
        expect(await ctx.store.listTasks()).toEqual([
          { name: "a", firstSeenAt: iso(T0 + 5_000), lastSeenAt: iso(T0 + 5_000) },
          { name: "b", firstSeenAt: iso(T0), lastSeenAt: iso(T0) },
          { name: "send-email", firstSeenAt: iso(T0), lastSeenAt: iso(T0 + 5_000) },
        ]);
        // Heartbeats and stops write no task rows; pruning the stopped workers leaves the names.
        await ctx.store.heartbeat("w-1", [], LEASE_MS);
        await ctx.store.setWorkerStatus("w-1", "stopped");
        await ctx.store.setWorkerStatus("w-2", "stopped");
        ctx.clock.advance(30 * 86_400_000);
        await ctx.store.prune({ jobs: {}, events: { maxAgeMs: 86_400_000 } });
        expect(await ctx.store.listWorkers()).toEqual([]);
        expect((await ctx.store.listTasks()).map((t) => [t.name, t.lastSeenAt])).toEqual([
          ["a", iso(T0 + 5_000)],
          ["b", iso(T0)],
          ["send-email", iso(T0 + 5_000)],
        ]);
      });
    });

    describe("retention", () => {
      test("prune deletes finished jobs older than maxAgeMs, with their attempts", async (ctx) => {
        const old = await ctx.addSucceeded();
        ctx.clock.set(T0 + 3_600_000);
        const recent = await ctx.addSucceeded();
        const waiting = await ctx.add();
        ctx.clock.set(T0 + 2 * 3_600_000);
        const result = await ctx.store.prune({ jobs: { succeeded: { maxAgeMs: 90 * 60_000 } } });
        expect(result).toEqual({
          jobs: { succeeded: 1, dead: 0, cancelled: 0 },
          events: 0,
          runs: 0,
          alerts: 0,
          lessons: 0,
        });
        expect(await ctx.store.getJob(old.id)).toBeNull();
        expect(await ctx.store.listAttempts(old.id)).toEqual([]);
        expect((await ctx.job(recent.id)).state).toBe("succeeded");
        expect(await ctx.store.listAttempts(recent.id)).toHaveLength(1);
        expect((await ctx.job(waiting.id)).state).toBe("queued");
      });

      test("prune keeps the newest maxCount jobs per state", async (ctx) => {
        const succeeded: Job[] = [];
        for (let i = 0; i < 3; i++) {
          succeeded.push(await ctx.addSucceeded());
          ctx.clock.advance(1_000);
        }
        const dead = [await ctx.addDead(), await ctx.addDead()];
        const cancelled = await ctx.add();
        await ctx.store.cancelJob(cancelled.id);
        const running = await ctx.add();
        await ctx.claimOne();
        const queued = await ctx.add();

        const result = await ctx.store.prune({
          jobs: { succeeded: { maxCount: 1 }, dead: { maxCount: 5 }, cancelled: { maxCount: 0 } },
        });
        expect(result.jobs).toEqual({ succeeded: 2, dead: 0, cancelled: 1 });
        expect(await ctx.store.getJob(succeeded[0]?.id as string)).toBeNull();
        expect(await ctx.store.getJob(succeeded[1]?.id as string)).toBeNull();
        expect((await ctx.job(succeeded[2]?.id as string)).state).toBe("succeeded");
        for (const job of [...dead, running, queued]) expect(await ctx.store.getJob(job.id)).not.toBeNull();
        expect(await ctx.store.getJob(cancelled.id)).toBeNull();
      });

      test("prune only touches the states its policy names", async (ctx) => {
        await ctx.addSucceeded();
        await ctx.addDead();
        const result = await ctx.store.prune({ jobs: { dead: { maxCount: 0 } } });
        expect(result.jobs).toEqual({ succeeded: 0, dead: 1, cancelled: 0 });
        expect(await ctx.store.countJobs()).toMatchObject({ succeeded: 1, dead: 0 });
      });

      test("prune deletes events older than maxAgeMs", async (ctx) => {
        await ctx.store.appendEvents([{ kind: "job.log", data: { n: 1 } }]);
        ctx.clock.advance(3_600_000);
        await ctx.store.appendEvents([{ kind: "job.log", data: { n: 2 } }]);
        const result = await ctx.store.prune({ jobs: {}, events: { maxAgeMs: 30 * 60_000 } });
        expect(result.events).toBe(1);
        expect((await ctx.store.readEvents()).map((e) => e.data)).toEqual([{ n: 2 }]);
      });

      test("prune keeps the newest maxCount events", async (ctx) => {
        for (let n = 1; n <= 5; n++) await ctx.store.appendEvents([{ kind: "job.log", data: { n } }]);
        const result = await ctx.store.prune({ jobs: {}, events: { maxCount: 2 } });
        expect(result.events).toBe(3);
        expect((await ctx.store.readEvents()).map((e) => e.data)).toEqual([{ n: 4 }, { n: 5 }]);
      });

      test("prune finds the events older than maxAgeMs wherever the cutoff falls, after a gap in sequence numbers", async (ctx) => {
        for (let i = 0; i < 30; i++) {
          // Uneven steps, and now and then two events at the same moment.
          const events = i % 7 === 0 ? [{ kind: "job.log" }, { kind: "job.log" }] : [{ kind: "job.log" }];
          await ctx.store.appendEvents(events);
          ctx.clock.advance(1_000 + (i % 3) * 250);
        }
        await ctx.store.prune({ jobs: {}, events: { maxCount: 25 } });
        const events = await ctx.store.readEvents();
        expect(events).toHaveLength(25);
        expect(events[0]?.seq).toBeGreaterThan(1);
        const now = await ctx.store.now();
        const olderThan = (cutoff: number) => events.filter((e) => Date.parse(e.at) < cutoff).length;
        const cutoffs = [0, now, ...events.flatMap((e) => [Date.parse(e.at), Date.parse(e.at) + 1])];
        for (const cutoff of cutoffs) {
          const dry = await ctx.store.prune({ jobs: {}, events: { maxAgeMs: now - cutoff } }, { dryRun: true });
          expect(dry.events, `cutoff ${cutoff - now} ms`).toBe(Math.min(olderThan(cutoff), events.length - 1));
        }
        const cutoff = Date.parse(events[10]?.at ?? "") + 1;
        const result = await ctx.store.prune({ jobs: {}, events: { maxAgeMs: now - cutoff } });
        expect(result.events).toBe(olderThan(cutoff));
        expect(await ctx.store.readEvents()).toEqual(events.slice(olderThan(cutoff)));
      });

      test("a dry run counts what prune would delete and deletes nothing", async (ctx) => {
        const jobs = [await ctx.addSucceeded(), await ctx.addSucceeded(), await ctx.addDead()];
        const eventsBefore = await ctx.store.readEvents();
        let archived = 0;
        const result = await ctx.store.prune(
          { jobs: { succeeded: { maxCount: 0 }, dead: { maxAgeMs: 0 } }, events: { maxCount: 0 } },
          {
            dryRun: true,
            archive: () => {
              archived++;
            },
          },
        );
        ctx.clock.advance(1);
        expect(result.jobs).toEqual({ succeeded: 2, dead: 0, cancelled: 0 });
        expect(result.events).toBe(eventsBefore.length - 1); // the newest event is always kept
        expect(archived).toBe(0);
        for (const job of jobs) expect(await ctx.store.getJob(job.id)).toEqual(job);
        expect(await ctx.store.readEvents()).toEqual(eventsBefore);
      });

      test("archive receives jobs with their attempts, and events, before they are deleted", async (ctx) => {
        const retried = await ctx.add({ maxAttempts: 3 });
        const first = await ctx.claimOne();
        await ctx.finishOne({ lease: first.lease, outcome: "retry", error: RETRYABLE, delayMs: 0 });
        await ctx.succeed((await ctx.claimOne()).lease);
        const dead = await ctx.addDead();
        const eventsBefore = await ctx.store.readEvents();

        const batches: PruneBatch[] = [];
        const presentAtArchive: boolean[] = [];
        const result = await ctx.store.prune(
          { jobs: { succeeded: { maxCount: 0 }, dead: { maxCount: 0 } }, events: { maxCount: 0 } },
          {
            archive: async (batch) => {
              batches.push(batch);
              for (const { job } of batch.jobs) presentAtArchive.push((await ctx.store.getJob(job.id)) !== null);
              for (const event of batch.events) {
                const [stored] = await ctx.store.readEvents({ afterSeq: event.seq - 1, limit: 1 });
                presentAtArchive.push(stored?.seq === event.seq);
              }
            },
          },
        );
        expect(result.jobs).toEqual({ succeeded: 1, dead: 1, cancelled: 0 });
        expect(presentAtArchive.every(Boolean)).toBe(true);

        const archivedJobs = batches.flatMap((b) => b.jobs);
        expect(archivedJobs.map((j) => j.job.id).sort()).toEqual([retried.id, dead.id].sort());
        const archivedRetried = archivedJobs.find((j) => j.job.id === retried.id);
        expect(archivedRetried?.job.state).toBe("succeeded");
        expect(archivedRetried?.attempts.map((a) => a.outcome)).toEqual(["failed", "succeeded"]);
        expect(archivedJobs.find((j) => j.job.id === dead.id)?.attempts.map((a) => a.outcome)).toEqual(["failed"]);

        // Every event but the newest, which retention always keeps (sequence numbers are never reused).
        const archivedEvents = batches.flatMap((b) => b.events);
        expect(archivedEvents).toEqual(eventsBefore.slice(0, -1));
        expect(result.events).toBe(eventsBefore.length - 1);
        expect(await ctx.store.readEvents()).toEqual(eventsBefore.slice(-1));
      });

      test("a failing archive keeps its batch", async (ctx) => {
        const job = await ctx.addSucceeded();
        // Whether prune then rejects or carries on is the backend's choice; losing the batch is not.
        let result: PruneResult | undefined;
        try {
          result = await ctx.store.prune(
            { jobs: { succeeded: { maxCount: 0 } } },
            {
              archive: () => {
                throw new Error("archive bucket is down");
              },
            },
          );
        } catch (err) {
          expect((err as Error).message).toContain("archive bucket is down");
        }
        if (result !== undefined) expect(result.jobs.succeeded).toBe(0);
        expect(await ctx.job(job.id)).toEqual(job);
        expect(await ctx.store.listAttempts(job.id)).toHaveLength(1);
      });

      test("prune keeps a job that was retried while its batch was archived", async (ctx) => {
        const dead = await ctx.addDead();
        const result = await ctx.store.prune(
          { jobs: { dead: { maxCount: 0 } } },
          {
            archive: async (batch) => {
              for (const { job } of batch.jobs) await ctx.store.retryJob(job.id);
            },
          },
        );
        expect(result.jobs.dead).toBe(0);
        expect((await ctx.job(dead.id)).state).toBe("queued");
        expect(await ctx.store.listAttempts(dead.id)).toHaveLength(1);
      });
    });

    describe("listing", () => {
      /** One job in each state, across two queues and two tasks. Returns them by state. */
      async function oneOfEach(ctx: Ctx): Promise<Record<JobState, Job>> {
        const succeeded = await ctx.addSucceeded({ queue: "q2" }, { task: "b" });
        const dead = await ctx.addDead({ queue: "q2" }, { task: "a" });
        const running = await ctx.add({ queue: "q1" }, { task: "a" });
        await ctx.claimOne();
        const cancelled = await ctx.add({ queue: "q1" }, { task: "b" });
        await ctx.store.cancelJob(cancelled.id);
        const scheduled = await ctx.add({ queue: "q1", delay: "1h" }, { task: "a" });
        const waiting = await ctx.add({ queue: "q1" }, { task: "a" });
        const { lease } = await ctx.claimOne({ tasks: ["a"], queues: ["q1"] });
        expect(lease.jobId).toBe(waiting.id);
        const request = { step: "approval#1", title: "ok?", details: null, risk: "low" as const, approvers: [] };
        await ctx.store.requestApproval(lease, {
          ...request,
          id: `ap-${waiting.id}`,
          quorum: 1,
          requestedBy: null,
          onTimeout: "deny",
          timeoutMs: 60_000,
        });
        const awaiting_approval = await ctx.job(waiting.id);
        const queued = await ctx.add({ queue: "q2" }, { task: "b" });
        return { succeeded, dead, running, cancelled, scheduled, awaiting_approval, queued };
      }

      test("countJobs counts every state, zeros included", async (ctx) => {
        expect(await ctx.store.countJobs()).toEqual({
          scheduled: 0,
          queued: 0,
          running: 0,
          awaiting_approval: 0,
          succeeded: 0,
          dead: 0,
          cancelled: 0,
        });
        await oneOfEach(ctx);
        await ctx.add();
        expect(await ctx.store.countJobs()).toEqual({
          scheduled: 1,
          queued: 2,
          running: 1,
          awaiting_approval: 1,
          succeeded: 1,
          dead: 1,
          cancelled: 1,
        });
      });

      test("listJobs filters by states, queue and task, newest first", async (ctx) => {
        const jobs = await oneOfEach(ctx);
        const ids = (list: Job[]) => list.map((j) => j.id);
        const all = await ctx.store.listJobs();
        expect(ids(all)).toEqual(
          [jobs.succeeded, jobs.dead, jobs.running, jobs.cancelled, jobs.scheduled, jobs.awaiting_approval, jobs.queued]
            .map((j) => j.id)
            .reverse(),
        );
        expect(ids(await ctx.store.listJobs({ states: ["queued", "scheduled"] }))).toEqual([
          jobs.queued.id,
          jobs.scheduled.id,
        ]);
        expect(ids(await ctx.store.listJobs({ queue: "q1" }))).toEqual([
          jobs.awaiting_approval.id,
          jobs.scheduled.id,
          jobs.cancelled.id,
          jobs.running.id,
        ]);
        expect(ids(await ctx.store.listJobs({ task: "b" }))).toEqual([
          jobs.queued.id,
          jobs.cancelled.id,
          jobs.succeeded.id,
        ]);
        expect(ids(await ctx.store.listJobs({ task: "a", queue: "q2", states: ["dead"] }))).toEqual([jobs.dead.id]);
        expect(await ctx.store.listJobs({ queue: "nope" })).toEqual([]);
        expect(await ctx.store.listJobs({ states: [] })).toHaveLength(7);
        expect(ids(await ctx.store.listJobs({ states: ["awaiting_approval"] }))).toEqual([jobs.awaiting_approval.id]);
      });

      test("listJobs pages through several states, or one queue, in id order both ways", async (ctx) => {
        const jobs = await oneOfEach(ctx);
        const states = Object.keys(jobs) as JobState[];
        const newestFirst = (await ctx.store.listJobs()).map((j) => j.id);
        const pageThrough = async (filter: { states?: JobState[]; queue?: string }, oldestFirst: boolean) => {
          const seen: string[] = [];
          let cursor: string | undefined;
          // Bounded, so a backend that ignores the cursor fails instead of paging forever.
          for (let guard = 0; guard < 10; guard++) {
            const at = cursor === undefined ? {} : oldestFirst ? { afterId: cursor } : { beforeId: cursor };
            const page = await ctx.store.listJobs({ ...filter, limit: 2, oldestFirst, ...at });
            if (page.length === 0) break;
            seen.push(...page.map((j) => j.id));
            cursor = page.at(-1)?.id;
          }
          return seen;
        };
        expect(await pageThrough({ states }, false)).toEqual(newestFirst);
        expect(await pageThrough({ states }, true)).toEqual([...newestFirst].reverse());
        // One queue's jobs, in every state, are read state by state as well.
        const inQ1 = (await ctx.store.listJobs()).filter((j) => j.queue === "q1").map((j) => j.id);
        expect(inQ1.length).toBeGreaterThan(2);
        expect(await pageThrough({ queue: "q1" }, false)).toEqual(inQ1);
        expect(await pageThrough({ queue: "q1" }, true)).toEqual([...inQ1].reverse());
        // A state the store does not know matches nothing.
        expect(await ctx.store.listJobs({ states: ["lost" as JobState] })).toEqual([]);
        expect((await ctx.store.listJobs({ states: ["lost" as JobState, "dead"] })).map((j) => j.id)).toEqual([
          jobs.dead.id,
        ]);
      });

      test("listJobs pages with beforeId", async (ctx) => {
        const created: string[] = [];
        for (let i = 0; i < 7; i++) created.push((await ctx.add({}, { task: i % 2 === 0 ? "a" : "b" })).id);
        const newestFirst = [...created].reverse();
        const pages: string[][] = [];
        let beforeId: string | undefined;
        // Bounded, so a backend that ignores beforeId fails instead of paging forever.
        for (let guard = 0; guard < 10; guard++) {
          const page = await ctx.store.listJobs({ limit: 3, ...(beforeId === undefined ? {} : { beforeId }) });
          if (page.length === 0) break;
          pages.push(page.map((j) => j.id));
          beforeId = page.at(-1)?.id;
        }
        expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
        expect(pages.flat()).toEqual(newestFirst);

        const firstA = await ctx.store.listJobs({ task: "a", limit: 2 });
        const nextA = await ctx.store.listJobs({ task: "a", limit: 2, beforeId: firstA.at(-1)?.id as string });
        expect([...firstA, ...nextA].map((j) => j.id)).toEqual(newestFirst.filter((_, i) => i % 2 === 0));
      });

      test("listJobs finds text in ids and idempotency keys, literally", async (ctx) => {
        const keyed = await ctx.add({ idempotencyKey: "order-42_%" });
        const other = await ctx.add({ idempotencyKey: "order-7" });
        const plain = await ctx.add();
        const ids = async (search: string) => (await ctx.store.listJobs({ search })).map((j) => j.id);
        expect(await ids("order-42")).toEqual([keyed.id]);
        expect(await ids("order-")).toEqual([other.id, keyed.id]);
        // Wildcards of LIKE match only themselves.
        expect(await ids("_%")).toEqual([keyed.id]);
        expect(await ids("%")).toEqual([keyed.id]);
        expect(await ids(plain.id)).toEqual([plain.id]);
        expect(await ids("nothing-like-it")).toEqual([]);
      });

      test("listJobs filters by created and finished time ranges", async (ctx) => {
        const early = await ctx.addSucceeded();
        ctx.clock.advance(60_000);
        const late = await ctx.addSucceeded();
        ctx.clock.advance(60_000);
        const waiting = await ctx.add();
        const ids = async (filter: Parameters<Store["listJobs"]>[0]) =>
          (await ctx.store.listJobs(filter)).map((j) => j.id);
        expect(await ids({ createdAfter: T0 + 60_000 })).toEqual([waiting.id, late.id]);
        expect(await ids({ createdBefore: T0 + 60_000 })).toEqual([early.id]);
        expect(await ids({ createdAfter: T0, createdBefore: T0 + 120_000 })).toEqual([late.id, early.id]);
        expect(await ids({ finishedAfter: T0 + 1 })).toEqual([late.id]);
        expect(await ids({ finishedBefore: T0 + 60_000 })).toEqual([early.id]);
        expect(await ids({ finishedAfter: T0 + 200_000 })).toEqual([]);
      });

      test("listFinishedTimes gives the finished jobs' times since a moment, the latest first, up to a limit", async (ctx) => {
        const early = await ctx.addSucceeded();
        ctx.clock.advance(60_000);
        const late = await ctx.addSucceeded();
        ctx.clock.advance(1_000);
        const dead = await ctx.add({ maxAttempts: 1 });
        const [claimed] = await ctx.claim();
        ctx.clock.advance(250);
        await ctx.store.finish([
          {
            lease: (claimed as ClaimedJob).lease,
            outcome: "dead",
            error: { code: "E", message: "m", retryable: false },
            reason: "permanent_error",
          },
        ]);
        await ctx.add(); // waiting: not finished
        const jobs = await Promise.all([early, late, dead].map(async (j) => (await ctx.job(j.id)) as Job));
        const times = (j: Job) => ({
          state: j.state,
          runAt: Date.parse(j.runAt),
          startedAt: j.startedAt === null ? null : Date.parse(j.startedAt),
          finishedAt: Date.parse(j.finishedAt as string),
        });
        const [e, l, d] = jobs.map(times);
        expect(d).toMatchObject({ state: "dead", finishedAt: T0 + 61_250, startedAt: T0 + 61_000 });
        expect(await ctx.store.listFinishedTimes(T0, 10)).toEqual([d, l, e]);
        expect(await ctx.store.listFinishedTimes(T0 + 1, 10)).toEqual([d, l]);
        expect(await ctx.store.listFinishedTimes(T0, 1)).toEqual([d]);
        expect(await ctx.store.listFinishedTimes(T0 + 62_000, 10)).toEqual([]);
      });

      test("listJobs lists oldest first when asked", async (ctx) => {
        const a = await ctx.add();
        const b = await ctx.add();
        const c = await ctx.add();
        expect((await ctx.store.listJobs({ oldestFirst: true })).map((j) => j.id)).toEqual([a.id, b.id, c.id]);
        expect((await ctx.store.listJobs({ oldestFirst: true, limit: 1 })).map((j) => j.id)).toEqual([a.id]);
        // afterId pages on, oldest first; beforeId is for the newest-first order only.
        expect((await ctx.store.listJobs({ oldestFirst: true, afterId: a.id, limit: 1 })).map((j) => j.id)).toEqual([
          b.id,
        ]);
        expect((await ctx.store.listJobs({ oldestFirst: true, afterId: b.id })).map((j) => j.id)).toEqual([c.id]);
        expect((await ctx.store.listJobs({ afterId: b.id })).map((j) => j.id)).toEqual([c.id, b.id, a.id]);
      });

      test("listQueues gives counts per queue and whether it is paused", async (ctx) => {
        await oneOfEach(ctx);
        await ctx.store.setQueuePaused("empty", true);
        const queues = await ctx.store.listQueues();
        const byName = Object.fromEntries(queues.map((q) => [q.name, q]));
        expect(Object.keys(byName).sort()).toEqual(["empty", "q1", "q2"]);
        expect(byName.q1).toEqual({
          name: "q1",
          paused: false,
          counts: { scheduled: 1, queued: 0, running: 1, awaiting_approval: 1, succeeded: 0, dead: 0, cancelled: 1 },
          version: 0,
          breaker: null,
        });
        expect(byName.q2).toEqual({
          name: "q2",
          paused: false,
          counts: { scheduled: 0, queued: 1, running: 0, awaiting_approval: 0, succeeded: 1, dead: 1, cancelled: 0 },
          version: 0,
          breaker: null,
        });
        expect(byName.empty).toEqual({
          name: "empty",
          paused: true,
          counts: { scheduled: 0, queued: 0, running: 0, awaiting_approval: 0, succeeded: 0, dead: 0, cancelled: 0 },
          version: 1,
          breaker: null,
        });
        expect(await ctx.store.setQueuePaused("q2", true)).toEqual({ ...byName.q2, paused: true, version: 1 });
      });

      test("finished jobs stay counted exactly once counted through the mark: retry, discard and retention take theirs out", async (ctx) => {
        const counts = async () =>
          Object.fromEntries(
            (await ctx.store.listQueues()).map((q) => [
              q.name,
              Object.fromEntries(Object.entries(q.counts).filter(([, n]) => n !== 0)),
            ]),
          );
        const oldest = await ctx.addSucceeded({ queue: "q1" });
        await ctx.addSucceeded({ queue: "q1" });
        const retried = await ctx.addDead({ queue: "q1" });
        const discarded = await ctx.addDead({ queue: "q2" });
        const cancelled = await ctx.add({ queue: "q2" });
        await ctx.store.cancelJob(cancelled.id);
        // The first count moves the mark to a minute before the clock: past all five.
        ctx.clock.advance(10 * 60_000);
        expect(await counts()).toEqual({ q1: { succeeded: 2, dead: 1 }, q2: { dead: 1, cancelled: 1 } });
        // Finished after the mark: counted from the jobs themselves until the mark passes them.
        const late = await ctx.addSucceeded({ queue: "q2" });
        const lateDead = await ctx.addDead({ queue: "q2" });
        expect(await counts()).toEqual({ q1: { succeeded: 2, dead: 1 }, q2: { succeeded: 1, dead: 2, cancelled: 1 } });
        await ctx.store.retryJob(retried.id);
        await ctx.store.retryJob(lateDead.id);
        await ctx.store.discardJob(discarded.id);
        expect((await ctx.store.prune({ jobs: { succeeded: { maxCount: 2 } } })).jobs.succeeded).toBe(1);
        expect(await ctx.store.getJob(oldest.id)).toBeNull();
        expect((await ctx.job(late.id)).state).toBe("succeeded");
        expect(await counts()).toEqual({
          q1: { succeeded: 1, queued: 1 },
          q2: { succeeded: 1, queued: 1, cancelled: 1 },
        });
        expect(await ctx.store.countJobs()).toMatchObject({ succeeded: 2, dead: 0, cancelled: 1, queued: 2 });
        // Dead again and retried in bulk, after the mark: counted, then taken out once each.
        const { lease } = await ctx.claimOne();
        expect(await ctx.finishOne({ lease, outcome: "dead", error: PERMANENT, reason: "permanent_error" })).toBe(true);
        expect((await ctx.store.countJobs()).dead).toBe(1);
        expect(await ctx.store.retryDeadJobs({})).toBe(1);
        expect(await ctx.store.countJobs()).toMatchObject({ succeeded: 2, dead: 0, cancelled: 1, queued: 2 });
      });
    });

    describe("schedules", () => {
      const def = (name: string, extra: Partial<ScheduleDefinition> = {}): ScheduleDefinition => ({
        name,
        cron: "* * * * *",
        timezone: "UTC",
        task: "t",
        payloadJson: '{"n":1}',
        queue: null,
        priority: null,
        catchUp: 0,
        enabled: true,
        ...extra,
      });
      const MINUTE = 60_000;
      const byName = async (store: Store) => Object.fromEntries((await store.listSchedules()).map((s) => [s.name, s]));
      const fire = (ctx: Ctx, name: string, tick: number) =>
        ctx.store.fireScheduleTick(name, tick, ctx.newJob({ runAt: tick }, { payload: { tick } }));

      test("syncSchedules adds, updates, keeps unchanged ones and marks missing ones removed", async (ctx) => {
        expect(await ctx.store.syncSchedules([def("a"), def("b")])).toEqual({
          added: ["a", "b"],
          updated: [],
          removed: [],
        });
        expect(await ctx.store.syncSchedules([def("a"), def("b")])).toEqual({ added: [], updated: [], removed: [] });
        expect(await ctx.store.syncSchedules([def("a", { cron: "*/5 * * * *" })])).toEqual({
          added: [],
          updated: ["a"],
          removed: ["b"],
        });
        const s = await byName(ctx.store);
        expect(s.a).toMatchObject({
          name: "a",
          cron: "*/5 * * * *",
          task: "t",
          payload: { n: 1 },
          enabled: true,
          removed: false,
        });
        expect(s.a?.activeSince).toBe(iso(T0));
        expect(s.b).toMatchObject({ removed: true, nextRunAt: null });
        const kinds = (await ctx.store.readEvents()).map((e) => e.kind);
        expect(kinds).toEqual(["schedule.added", "schedule.added", "schedule.updated", "schedule.removed"]);
      });

      test("syncSchedules keeps a schedule's attempts and backoff, and reports their change", async (ctx) => {
        await ctx.store.syncSchedules([def("a"), def("b", { maxAttempts: 4, backoffJson: '["1m","5m","15m"]' })]);
        let s = await byName(ctx.store);
        expect(s.a).toMatchObject({ maxAttempts: null, backoff: null });
        expect(s.b).toMatchObject({ maxAttempts: 4, backoff: ["1m", "5m", "15m"] });
        // Absent and null are the same: no change.
        expect(
          await ctx.store.syncSchedules([
            def("a", { maxAttempts: null }),
            def("b", { maxAttempts: 4, backoffJson: '["1m","5m","15m"]' }),
          ]),
        ).toEqual({ added: [], updated: [], removed: [] });
        expect(
          await ctx.store.syncSchedules([def("a", { backoffJson: '{"type":"fixed","delay":"1s"}' }), def("b")]),
        ).toEqual({
          added: [],
          updated: ["a", "b"],
          removed: [],
        });
        s = await byName(ctx.store);
        expect(s.a).toMatchObject({ maxAttempts: null, backoff: { type: "fixed", delay: "1s" } });
        expect(s.b).toMatchObject({ maxAttempts: null, backoff: null });
        const updated = (await ctx.store.readEvents()).filter((e) => e.kind === "schedule.updated").map((e) => e.data);
        expect(updated).toEqual([
          { schedule: "a", changed: ["backoff"] },
          { schedule: "b", changed: ["maxAttempts", "backoff"] },
        ]);
      });

      test("listSchedules gives the next run after now, and the last tick", async (ctx) => {
        await ctx.store.syncSchedules([def("m"), def("q", { queue: "reports", priority: -10, catchUp: 3 })]);
        ctx.clock.advance(30_000);
        const [m, q] = await ctx.store.listSchedules();
        expect(m).toMatchObject({ name: "m", lastTickAt: null, nextRunAt: iso(T0 + MINUTE), enabled: true });
        expect(q).toMatchObject({ name: "q", queue: "reports", priority: -10, catchUp: 3, timezone: "UTC" });
        ctx.clock.advance(MINUTE);
        expect((await fire(ctx, "m", T0 + MINUTE)).fired).toBe(true);
        expect((await byName(ctx.store)).m).toMatchObject({
          lastTickAt: iso(T0 + MINUTE),
          nextRunAt: iso(T0 + 2 * MINUTE),
        });
      });

      test("fireScheduleTick enqueues one job per tick, however often it is called", async (ctx) => {
        await ctx.store.syncSchedules([def("m")]);
        ctx.clock.advance(MINUTE);
        const first = await fire(ctx, "m", T0 + MINUTE);
        expect(first.fired).toBe(true);
        expect(first.job).toMatchObject({
          task: "t",
          state: "queued",
          payload: { tick: T0 + MINUTE },
          runAt: iso(T0 + MINUTE),
        });
        for (let i = 0; i < 3; i++) expect(await fire(ctx, "m", T0 + MINUTE)).toEqual({ fired: false, job: null });
        expect(await ctx.store.listJobs()).toHaveLength(1);
        const events = await ctx.store.readEvents({ jobId: first.job?.id as string });
        expect(events.map((e) => e.kind)).toEqual(["job.enqueued", "schedule.fired"]);
        expect(events[1]?.data).toEqual({ schedule: "m", tick: iso(T0 + MINUTE) });
      });

      test("fireScheduleTick refuses ticks not after the last one fired, or before the schedule was active", async (ctx) => {
        ctx.clock.advance(10 * MINUTE);
        await ctx.store.syncSchedules([def("m")]);
        expect((await fire(ctx, "m", T0 + 9 * MINUTE)).fired).toBe(false);
        ctx.clock.advance(5 * MINUTE);
        expect((await fire(ctx, "m", T0 + 14 * MINUTE)).fired).toBe(true);
        expect((await fire(ctx, "m", T0 + 12 * MINUTE)).fired).toBe(false);
        expect((await fire(ctx, "m", T0 + 15 * MINUTE)).fired).toBe(true);
        expect(await ctx.store.listJobs()).toHaveLength(2);
      });

      test("disabled and removed schedules do not fire; unknown ones are SCHEDULE_NOT_FOUND", async (ctx) => {
        await ctx.store.syncSchedules([def("on"), def("off"), def("gone")]);
        await ctx.store.setScheduleEnabled("off", false);
        await ctx.store.syncSchedules([def("on"), def("off")]);
        ctx.clock.advance(MINUTE);
        expect((await fire(ctx, "off", T0 + MINUTE)).fired).toBe(false);
        expect((await fire(ctx, "gone", T0 + MINUTE)).fired).toBe(false);
        expect((await fire(ctx, "on", T0 + MINUTE)).fired).toBe(true);
        await rejectsWith(() => fire(ctx, "nope", T0 + MINUTE), "SCHEDULE_NOT_FOUND");
        await rejectsWith(() => ctx.store.setScheduleEnabled("nope", true), "SCHEDULE_NOT_FOUND");
        expect(await ctx.store.listJobs()).toHaveLength(1);
      });

      test("setScheduleEnabled survives a re-sync; enabling again owes no tick missed while disabled", async (ctx) => {
        await ctx.store.syncSchedules([def("m")]);
        const off = await ctx.store.setScheduleEnabled("m", false);
        expect(off).toMatchObject({ enabled: false, nextRunAt: null });
        expect(await ctx.store.syncSchedules([def("m")])).toEqual({ added: [], updated: [], removed: [] });
        expect((await byName(ctx.store)).m?.enabled).toBe(false);
        ctx.clock.advance(10 * MINUTE + 1_000);
        const on = await ctx.store.setScheduleEnabled("m", true);
        expect(on).toMatchObject({ enabled: true, activeSince: iso(T0 + 10 * MINUTE + 1_000) });
        expect((await fire(ctx, "m", T0 + 10 * MINUTE)).fired).toBe(false);
        // Setting the flag it already has changes nothing and records nothing.
        const before = await ctx.store.lastEventSeq();
        await ctx.store.setScheduleEnabled("m", true);
        expect(await ctx.store.lastEventSeq()).toBe(before);
        const kinds = (await ctx.store.readEvents()).map((e) => e.kind);
        expect(kinds).toEqual(["schedule.added", "schedule.disabled", "schedule.enabled"]);
      });

      test("a change of enabled in the config overrides the stored flag; an unchanged one does not", async (ctx) => {
        await ctx.store.syncSchedules([def("m", { enabled: true })]);
        await ctx.store.setScheduleEnabled("m", false);
        await ctx.store.syncSchedules([def("m", { enabled: true })]);
        expect((await byName(ctx.store)).m?.enabled).toBe(false);
        expect(await ctx.store.syncSchedules([def("m", { enabled: false })])).toMatchObject({ updated: ["m"] });
        expect((await byName(ctx.store)).m?.enabled).toBe(false);
        await ctx.store.syncSchedules([def("m", { enabled: true })]);
        expect((await byName(ctx.store)).m?.enabled).toBe(true);
      });

      test("a removed schedule that comes back keeps its last tick and starts afresh from now", async (ctx) => {
        await ctx.store.syncSchedules([def("m")]);
        ctx.clock.advance(MINUTE);
        expect((await fire(ctx, "m", T0 + MINUTE)).fired).toBe(true);
        await ctx.store.syncSchedules([]);
        ctx.clock.advance(60 * MINUTE + 5_000);
        expect(await ctx.store.syncSchedules([def("m")])).toEqual({ added: ["m"], updated: [], removed: [] });
        const m = (await byName(ctx.store)).m;
        expect(m).toMatchObject({
          removed: false,
          lastTickAt: iso(T0 + MINUTE),
          activeSince: iso(T0 + 61 * MINUTE + 5_000),
        });
        expect((await fire(ctx, "m", T0 + 61 * MINUTE)).fired).toBe(false);
        expect((await fire(ctx, "m", T0 + 62 * MINUTE)).fired).toBe(true);
      });

      test("runScheduleNow enqueues outside the tick sequence, for disabled schedules too", async (ctx) => {
        await ctx.store.syncSchedules([def("m")]);
        await ctx.store.setScheduleEnabled("m", false);
        const job = await ctx.store.runScheduleNow("m", ctx.newJob({}, { payload: { n: 1 } }));
        expect(job).toMatchObject({ task: "t", state: "queued", payload: { n: 1 } });
        expect(await ctx.kinds(job.id)).toEqual(["job.enqueued", "schedule.triggered"]);
        expect((await byName(ctx.store)).m?.lastTickAt).toBeNull();
        await rejectsWith(() => ctx.store.runScheduleNow("nope", ctx.newJob()), "SCHEDULE_NOT_FOUND");
        expect(await ctx.store.listJobs()).toHaveLength(1);
      });
    });

    describe("versions (optimistic concurrency)", () => {
      test("cancel, retry and discard with a stale version change nothing; with the current one they apply", async (ctx) => {
        const job = await ctx.add();
        const stale = job.version;
        await ctx.store.cancelJob(job.id, stale);
        const cancelled = await ctx.job(job.id);
        expect(cancelled.version).toBeGreaterThan(stale);

        const conflict = await rejectsWith(() => ctx.store.retryJob(job.id, stale), "VERSION_CONFLICT");
        expect(conflict.details).toMatchObject({ id: job.id, expectedVersion: stale, version: cancelled.version });
        await rejectsWith(() => ctx.store.discardJob(job.id, stale), "VERSION_CONFLICT");
        expect(await ctx.job(job.id)).toEqual(cancelled);
        expect(await ctx.kinds(job.id)).toEqual(["job.enqueued", "job.cancelled"]);

        const retried = await ctx.store.retryJob(job.id, cancelled.version);
        expect(retried).toMatchObject({ state: "queued", version: cancelled.version + 1 });
        await rejectsWith(() => ctx.store.cancelJob(job.id, cancelled.version), "VERSION_CONFLICT");
        expect((await ctx.job(job.id)).state).toBe("queued");
        await ctx.store.cancelJob(job.id, retried.version);
        await ctx.store.discardJob(job.id, retried.version + 1);
        expect(await ctx.store.getJob(job.id)).toBeNull();
      });

      test("a cancel request on a running job checks the version too", async (ctx) => {
        await ctx.add();
        const { job } = await ctx.claimOne();
        await rejectsWith(() => ctx.store.cancelJob(job.id, job.version - 1), "VERSION_CONFLICT");
        expect((await ctx.job(job.id)).cancelRequested).toBe(false);
        expect((await ctx.store.cancelJob(job.id, job.version)).effect).toBe("requested");
      });

      test("version checks come after existence: an unknown job is JOB_NOT_FOUND", async (ctx) => {
        await rejectsWith(() => ctx.store.cancelJob("01NOSUCHJOB0000000000000000", 1), "JOB_NOT_FOUND");
      });

      test("queues start at version 0; pause and resume bump it and check it", async (ctx) => {
        await ctx.add({ queue: "mail" });
        expect((await ctx.store.listQueues()).find((q) => q.name === "mail")?.version).toBe(0);
        await rejectsWith(() => ctx.store.setQueuePaused("mail", true, 1), "VERSION_CONFLICT");
        expect((await ctx.store.listQueues()).find((q) => q.name === "mail")).toMatchObject({
          paused: false,
          version: 0,
        });

        expect(await ctx.store.setQueuePaused("mail", true, 0)).toMatchObject({ paused: true, version: 1 });
        await rejectsWith(() => ctx.store.setQueuePaused("mail", false, 0), "VERSION_CONFLICT");
        expect((await ctx.store.listQueues()).find((q) => q.name === "mail")).toMatchObject({
          paused: true,
          version: 1,
        });
        expect(await ctx.store.setQueuePaused("mail", false, 1)).toMatchObject({ paused: false, version: 2 });
        // Without a version, a write always applies.
        expect(await ctx.store.setQueuePaused("mail", true)).toMatchObject({ paused: true, version: 3 });
        const events = (await ctx.store.readEvents()).filter((e) => e.kind.startsWith("queue."));
        expect(events.map((e) => e.kind)).toEqual(["queue.paused", "queue.resumed", "queue.paused"]);
      });

      test("of two writes based on the same version, exactly one applies", async (ctx) => {
        const job = await ctx.addDead();
        const outcomes = await Promise.allSettled([
          ctx.store.retryJob(job.id, job.version),
          ctx.store.retryJob(job.id, job.version),
        ]);
        expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
        const failed = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
        expect((failed.reason as OverseerError).code).toBe("VERSION_CONFLICT");

        const paused = await Promise.allSettled([
          ctx.store.setQueuePaused("fresh", true, 0),
          ctx.store.setQueuePaused("fresh", false, 0),
        ]);
        expect(paused.filter((o) => o.status === "fulfilled")).toHaveLength(1);
        expect((await ctx.store.listQueues()).find((q) => q.name === "fresh")?.version).toBe(1);
      });
    });

    describe("tokens", () => {
      const hash = (c: string) => c.repeat(64);

      test("createToken stores a token that findTokenByHash finds by its hash", async (ctx) => {
        const token = await ctx.store.createToken({ id: "tok1", name: "ci", scope: "operator", hash: hash("a") });
        expect(token).toEqual({
          id: "tok1",
          name: "ci",
          scope: "operator",
          hash: hash("a"),
          createdAt: iso(T0),
          revokedAt: null,
        });
        expect(await ctx.store.findTokenByHash(hash("a"))).toEqual(token);
        expect(await ctx.store.findTokenByHash(hash("b"))).toBeNull();
        expect((await ctx.store.readEvents()).map((e) => [e.kind, e.data])).toEqual([
          ["token.created", { name: "ci", scope: "operator", id: "tok1" }],
        ]);
      });

      test("seedToken: eight seeding one secret at once make one token; another secret replaces it; a revoked one is refused", async (ctx) => {
        const seed = (id: string, secret: string) =>
          ctx.store.seedToken({ id, name: "env-admin", scope: "admin", hash: hash(secret) });
        const seeded = await Promise.all(Array.from({ length: 8 }, (_, i) => seed(`tok${i}`, "a")));
        expect(new Set(seeded.map((t) => t.id)).size).toBe(1);
        expect((await ctx.store.listTokens()).map((t) => [t.hash, t.revokedAt === null])).toEqual([[hash("a"), true]]);
        const replaced = await seed("tokB", "b");
        expect(replaced).toMatchObject({ id: "tokB", revokedAt: null });
        expect(await ctx.store.findTokenByHash(hash("a"))).toBeNull();
        await rejectsWith(() => seed("tokA2", "a"), "INVALID_ARGUMENT");
        expect((await ctx.store.readEvents()).map((e) => e.kind)).toEqual([
          "token.created",
          "token.revoked",
          "token.created",
        ]);
      });

      test("an active name is unique; a revoked one can be reused", async (ctx) => {
        await ctx.store.createToken({ id: "tok1", name: "ci", scope: "viewer", hash: hash("a") });
        await rejectsWith(
          () => ctx.store.createToken({ id: "tok2", name: "ci", scope: "admin", hash: hash("b") }),
          "TOKEN_NAME_TAKEN",
        );
        expect(await ctx.store.findTokenByHash(hash("b"))).toBeNull();
        ctx.clock.advance(1_000);
        const revoked = await ctx.store.revokeToken("ci");
        expect(revoked).toMatchObject({ id: "tok1", revokedAt: iso(T0 + 1_000) });
        expect(await ctx.store.findTokenByHash(hash("a"))).toBeNull();
        await ctx.store.createToken({ id: "tok3", name: "ci", scope: "admin", hash: hash("c") });
        expect((await ctx.store.listTokens()).map((t) => [t.id, t.revokedAt === null])).toEqual([
          ["tok1", false],
          ["tok3", true],
        ]);
      });

      test("revokeToken of an unknown or already revoked name is TOKEN_NOT_FOUND", async (ctx) => {
        await rejectsWith(() => ctx.store.revokeToken("nobody"), "TOKEN_NOT_FOUND");
        await ctx.store.createToken({ id: "tok1", name: "ci", scope: "viewer", hash: hash("a") });
        await ctx.store.revokeToken("ci");
        await rejectsWith(() => ctx.store.revokeToken("ci"), "TOKEN_NOT_FOUND");
        expect((await ctx.store.readEvents()).map((e) => e.kind)).toEqual(["token.created", "token.revoked"]);
      });

      test("two creates of one name at once: exactly one succeeds", async (ctx) => {
        const outcomes = await Promise.allSettled([
          ctx.store.createToken({ id: "tok1", name: "first", scope: "admin", hash: hash("a") }),
          ctx.store.createToken({ id: "tok2", name: "first", scope: "admin", hash: hash("b") }),
        ]);
        expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
        expect(await ctx.store.listTokens()).toHaveLength(1);
      });
    });

    describe("NUL characters", () => {
      test("text holding a NUL is refused with INVALID_CHARACTER, in reads and writes, storing nothing", async (ctx) => {
        const job = await ctx.add({ queue: "q" });
        for (const read of [
          () => ctx.store.getJob("a\u0000b"),
          () => ctx.store.listJobs({ search: "x\u0000" }),
          () => ctx.store.listJobs({ queue: "\u0000" }),
          () => ctx.store.getClaim("k\u0000"),
        ]) {
          const err = await rejectsWith(read, "INVALID_CHARACTER");
          expect(err.details).toEqual({ character: "U+0000" });
        }
        const alert = newAlert({ summary: "disk\u0000full", dedupKey: "nul" });
        await rejectsWith(() => ctx.store.raiseAlert(alert), "INVALID_CHARACTER");
        expect(await ctx.store.listAlerts()).toEqual([]);
        // The payload is JSON, where a NUL is the escape \u0000: stored and read back whole.
        const withNul = await ctx.add({}, { payload: { text: "a\u0000b" } });
        expect((await ctx.store.getJob(withNul.id))?.payload).toEqual({ text: "a\u0000b" });
        expect((await ctx.store.getJob(job.id))?.state).toBe("queued");
      });
    });

    runRunConformance(test);
    runRunApprovalConformance(test);
    runClaimConformance(test);
    runSettingsConformance(test);
    runOncallConformance(test);
    runHeldConformance(test);
    runFollowUpConformance(test);
    runBreakerConformance(test);
    runPayloadFilterConformance(test);
    runDurableConformance(test);
    runApprovalConformance(test);
    runAlertConformance(test);
    runHeartbeatConformance(test);
    runRetentionConformance(test);
    runRollupConformance(test);
    runLessonConformance(test);
    runWatchingConformance(test);
    runWorkerControlConformance(test);

    it("skips only tests that exist", () => {
      const unknown = Object.keys(skip).filter((name) => !registered.has(name));
      expect(unknown, "skip names tests the suite does not have").toEqual([]);
    });
  });
}
