/** The SDK surface against a real SQLite file: what a user calls, and what they get back. */
import { describe, expect, it } from "vitest";
import { isOverseerError } from "../core/errors.js";
import type { WorkerOptions } from "../engine/worker.js";
import { tempDatabase } from "../test-support/temp-database.js";
import { deferred, sleep, waitFor } from "../test-support/wait.js";
import { KnownTasks } from "./known-tasks.js";
import type { Overseer } from "./overseer.js";

const FAST: WorkerOptions = { leaseMs: 1_000, heartbeatMs: 200, maintenanceMs: 100, pollMs: 100 };

async function waitForState(overseer: Overseer, id: string, state: string): Promise<void> {
  await waitFor(`job ${id} to be ${state}`, async () => (await overseer.getJob(id))?.state === state);
}

function codeOf(err: unknown): string | undefined {
  return isOverseerError(err) ? err.code : undefined;
}

describe("enqueueMany", () => {
  it("commits nothing when one item is invalid, and names the item", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    const err = await overseer
      .enqueueMany([
        { task: "ok", payload: 1 },
        { task: "not a valid name", payload: 2 },
      ])
      .catch((e: unknown) => e);
    expect(codeOf(err)).toBe("INVALID_TASK_NAME");
    expect((err as Error).message).toMatch(/^item 1: /);
    expect((err as { details: unknown }).details).toMatchObject({ index: 1 });
    expect(await overseer.listJobs()).toEqual([]);
  });

  it("commits nothing when the store refuses an item part-way through the transaction", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    const full = { concurrency: { key: "biz-1", limit: 1, onLimit: "reject" as const } };
    const err = await overseer
      .enqueueMany([{ task: "call", options: full }, { task: "other" }, { task: "call", options: full }])
      .catch((e: unknown) => e);
    expect(codeOf(err)).toBe("CONCURRENCY_LIMIT_REACHED");
    expect(await overseer.listJobs()).toEqual([]);
  });

  it("returns the jobs in the order given", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    const jobs = await overseer.enqueueMany([
      { task: "a", payload: { n: 1 } },
      { task: "b", payload: { n: 2 }, options: { priority: "high" } },
    ]);
    expect(jobs.map((j) => [j.task, j.payload, j.priority])).toEqual([
      ["a", { n: 1 }, 0],
      ["b", { n: 2 }, -10],
    ]);
    expect(await overseer.getJob(jobs[1]?.id as string)).toMatchObject({ task: "b", state: "queued" });
  });

  it("rejects something that is not an array with a message saying what it takes", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    const err = await overseer.enqueueMany({ task: "a" } as never).catch((e: unknown) => e);
    expect(codeOf(err)).toBe("INVALID_ARGUMENT");
    expect((err as Error).message).toContain("array");
  });
});

describe("tasks and workers", () => {
  it("applies a task's defaults to its jobs, and an enqueue option overrides them", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    overseer.defineTask("mail", async () => undefined, { queue: "mail", priority: "high", maxAttempts: 7 });
    const plain = await overseer.enqueue("mail");
    const overridden = await overseer.enqueue("mail", null, { priority: "low", maxAttempts: 2 });
    expect(plain).toMatchObject({ queue: "mail", priority: -10, maxAttempts: 7 });
    expect(overridden).toMatchObject({ queue: "mail", priority: 10, maxAttempts: 2 });
  });

  it("refuses a second, different definition of a task name", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    const task = overseer.defineTask("mail", async () => undefined);
    expect(() => overseer.register(task)).not.toThrow();
    expect(() => overseer.defineTask("mail", async () => "other")).toThrow(/already defined/);
  });

  it("cannot make a worker without tasks, nor with heartbeats as slow as the lease", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    expect(() => overseer.worker()).toThrow(expect.objectContaining({ code: "TASK_NOT_FOUND" }));
    overseer.defineTask("t", async () => undefined);
    expect(() => overseer.worker({ leaseMs: 1_000, heartbeatMs: 1_000 })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", details: { field: "heartbeatMs" } }),
    );
    expect(() => overseer.worker({ concurrency: 0 })).toThrow(/concurrency must be a positive integer/);
  });

  it("a worker given some of the tasks runs only those", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    const a = overseer.defineTask("a", async () => "a");
    overseer.defineTask("b", async () => "b");
    const jobA = await overseer.enqueue("a");
    const jobB = await overseer.enqueue("b");
    const worker = overseer.worker({ ...FAST, tasks: [a] });
    await worker.start();
    await waitForState(overseer, jobA.id, "succeeded");
    await sleep(100);
    expect((await overseer.getJob(jobB.id))?.state).toBe("queued");
  });

  it("a worker starts only once", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    overseer.defineTask("t", async () => undefined);
    const worker = overseer.worker(FAST);
    await worker.start();
    await expect(worker.start()).rejects.toThrow(/only once/);
  });
});

describe("enqueueing a task no worker has registered", () => {
  it("warns and marks the job, still enqueues it, and reads the registry only for names not known yet", async () => {
    const db = tempDatabase();
    const producer = await db.open();
    // Another process's worker registers send-email and report on the same file.
    const workerSide = await db.open();
    workerSide.defineTask("send-email", async () => null);
    workerSide.defineTask("report", async () => null);
    const worker = workerSide.worker(FAST);
    await worker.start();
    await worker.stop();

    const typo = await producer.enqueueWithResult("sned-email", { to: "a@example.com" });
    expect(typo.created).toBe(true);
    expect(typo.job).toMatchObject({ task: "sned-email", state: "queued", taskRegistered: false });
    expect(typo.warnings).toEqual([
      {
        code: "TASK_NOT_REGISTERED",
        task: "sned-email",
        message: "no worker has registered task 'sned-email'; known tasks: send-email, report",
      },
    ]);
    expect(await producer.getJob(typo.job.id)).toMatchObject({ state: "queued" });
    expect((await producer.enqueue("sned-email")).taskRegistered).toBe(false);

    // A known task: no warning, no mark; once it was read, enqueues of it read nothing.
    const reads = producer.knownTasks.reads;
    const ok = await producer.enqueueWithResult("send-email");
    expect(ok.warnings).toEqual([]);
    expect(ok.job).not.toHaveProperty("taskRegistered");
    const afterFirst = producer.knownTasks.reads;
    expect(afterFirst).toBe(reads);
    for (let i = 0; i < 20; i++) await producer.enqueue("send-email");
    await producer.enqueueMany([{ task: "report" }, { task: "send-email" }]);
    expect(producer.knownTasks.reads).toBe(afterFirst);

    // Bulk: each unknown item is warned about; one read for the lot.
    const many = await producer.enqueueManyWithResults([{ task: "report" }, { task: "nope" }, { task: "nope" }]);
    expect(many.map((r) => r.warnings.map((w) => w.task))).toEqual([[], ["nope"], ["nope"]]);
    expect(many.map((r) => r.job.taskRegistered)).toEqual([undefined, false, false]);
    expect(producer.knownTasks.reads).toBe(afterFirst + 1);
  });

  it("counts a task this process defined, and one a worker registers later, as known", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    expect((await overseer.enqueueWithResult("later")).warnings[0]?.message).toBe(
      "no worker has registered task 'later'; no worker has registered any task yet",
    );
    overseer.defineTask("here", async () => null);
    expect((await overseer.enqueueWithResult("here")).warnings).toEqual([]);

    const other = await db.open();
    other.defineTask("later", async () => null);
    await other.worker(FAST).start();
    expect((await overseer.enqueueWithResult("later")).warnings).toEqual([]);
  });
});

describe("enqueueing a task defined in another process", () => {
  it("gets the defaults its workers registered, read again at most every 10 s", async () => {
    const db = tempDatabase();
    const workerSide = await db.open();
    workerSide.defineTask("send-email", async () => null, { queue: "mail", maxAttempts: 7, backoff: ["1m", "5m"] });
    const worker = workerSide.worker(FAST);
    await worker.start();
    await worker.stop();

    // An API server or the CLI: it defines no task.
    const producer = await db.open();
    const job = await producer.enqueue("send-email", { to: "a@example.com" });
    expect(job).toMatchObject({
      queue: "mail",
      maxAttempts: 7,
      backoff: { type: "schedule", delaysMs: [60_000, 300_000] },
    });
    // The enqueue's own options still win.
    expect(await producer.enqueue("send-email", null, { queue: "urgent" })).toMatchObject({
      queue: "urgent",
      maxAttempts: 7,
    });
    const [bulk] = await producer.enqueueMany([{ task: "send-email" }]);
    expect(bulk).toMatchObject({ queue: "mail", maxAttempts: 7 });
    // A task nobody registered gets the built-in defaults.
    expect(await producer.enqueue("other")).toMatchObject({ queue: "default", maxAttempts: 5 });
    expect(producer.knownTasks.defaultsReads).toBe(1);

    // A worker's new definition reaches the producer once its cached copy is 10 s old.
    let now = 0;
    const known = new KnownTasks(
      workerSide.store,
      () => false,
      () => now,
    );
    expect((await known.registeredDefaultsOf("send-email"))?.maxAttempts).toBe(7);
    await db.open().then(async (o) => {
      o.defineTask("send-email", async () => null, { queue: "mail", maxAttempts: 3 });
      await o.worker(FAST).start();
      await o.close();
    });
    now = 9_999;
    expect((await known.registeredDefaultsOf("send-email"))?.maxAttempts).toBe(7);
    now = 10_000;
    expect((await known.registeredDefaultsOf("send-email"))?.maxAttempts).toBe(3);
    expect(known.defaultsReads).toBe(2);
  });
});

describe("operating on jobs", () => {
  it("retry brings a dead job back with a fresh count of attempts", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    let fail = true;
    overseer.defineTask("t", async () => {
      if (fail) throw new Error("down");
      return "up";
    });
    const job = await overseer.enqueue("t", null, { maxAttempts: 1 });
    const worker = overseer.worker(FAST);
    await worker.start();
    await waitForState(overseer, job.id, "dead");
    fail = false;
    expect(await overseer.retry(job.id)).toMatchObject({ state: "queued", attempts: 0 });
    await waitForState(overseer, job.id, "succeeded");
    expect(await overseer.getJob(job.id)).toMatchObject({ attempts: 1, result: "up" });
    expect((await overseer.listAttempts(job.id)).map((a) => a.outcome)).toEqual(["failed", "succeeded"]);
  });

  it("a paused queue is not claimed from until it is resumed", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    overseer.defineTask("t", async () => "ran");
    await overseer.pauseQueue("slow");
    const paused = await overseer.enqueue("t", null, { queue: "slow" });
    const other = await overseer.enqueue("t");
    const worker = overseer.worker(FAST);
    await worker.start();
    await waitForState(overseer, other.id, "succeeded");
    await sleep(150);
    expect((await overseer.getJob(paused.id))?.state).toBe("queued");
    await overseer.resumeQueue("slow");
    await waitForState(overseer, paused.id, "succeeded");
  });

  it("close() lets a running job finish, then closes the store", async () => {
    const db = tempDatabase();
    const overseer = await db.open();
    const started = deferred();
    overseer.defineTask("t", async () => {
      started.resolve();
      await sleep(100);
      return "finished";
    });
    const job = await overseer.enqueue("t");
    const worker = overseer.worker(FAST);
    await worker.start();
    await started.promise;
    await overseer.close();
    await overseer.close(); // twice is harmless

    expect(worker.isRunning).toBe(false);
    await expect(overseer.enqueue("t")).rejects.toThrow(expect.objectContaining({ code: "SHUTTING_DOWN" }));
    const reopened = await db.open();
    expect(await reopened.getJob(job.id)).toMatchObject({ state: "succeeded", result: "finished" });
  });
});
