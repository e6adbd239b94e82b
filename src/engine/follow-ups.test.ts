/**
 * A task's onDead and onSuccess jobs (core/follow-up.ts) through the SDK, on the test backend:
 * what each follow-up carries, a cancel making none, and a worker SIGKILLed during a job's last
 * attempt still making exactly one, by a process that does not define the task, once the lease
 * lapses. The fixture imports the built package, as the crash tests do.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { OverseerError } from "../core/errors.js";
import { defineTask } from "../core/task.js";
import { killAllFixtures, startFixture } from "../test-support/child-processes.js";
import { readLog } from "../test-support/execution-log.js";
import { testDatabase } from "../test-support/test-backend.js";
import { sleep, waitFor } from "../test-support/wait.js";
import type { WorkerOptions } from "./worker.js";

const FAST: WorkerOptions = {
  leaseMs: 1_000,
  heartbeatMs: 200,
  maintenanceMs: 100,
  pollMs: 20,
  shutdownTimeoutMs: 1_000,
};

afterEach(async () => {
  await killAllFixtures();
});

class NoAnswer extends Error {
  code = "NO_ANSWER";
}

describe("follow-up jobs", () => {
  it("a dead call sends one SMS with its payload and error; a success chains its result; a cancel sends none", async () => {
    const overseer = await (await testDatabase()).open();
    const sms: unknown[] = [];
    const reports: unknown[] = [];
    overseer.defineTask(
      "sms",
      (payload) => {
        sms.push(payload);
      },
      { queue: "texts" },
    );
    overseer.defineTask("report", (payload) => {
      reports.push(payload);
    });
    overseer.defineTask(
      "call",
      async (payload: { phone: string; answers?: boolean; hang?: boolean }, ctx) => {
        if (payload.hang) {
          await new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(new NoAnswer("hung up"))));
        }
        if (!payload.answers) throw new NoAnswer("nobody picked up");
        return { minutes: 3 };
      },
      {
        maxAttempts: 2,
        backoff: { type: "fixed", delay: 0 },
        onDead: "sms",
        onSuccess: { task: "report", priority: "high" },
      },
    );
    const dead = await overseer.enqueue("call", { phone: "+15550100" });
    const answered = await overseer.enqueue("call", { phone: "+15550101", answers: true });
    const worker = overseer.worker({ ...FAST, queues: null });
    await worker.start();
    try {
      await waitFor("the SMS and the report", () => sms.length === 1 && reports.length === 1);
      // A running call cancelled by a person is not a death: no SMS.
      const cancelled = await overseer.enqueue("call", { phone: "+15550102", hang: true });
      await waitFor("the hanging call to run", async () => (await overseer.getJob(cancelled.id))?.state === "running");
      await overseer.cancel(cancelled.id);
      await waitFor(
        "the call to be cancelled",
        async () => (await overseer.getJob(cancelled.id))?.state === "cancelled",
      );
    } finally {
      await worker.stop();
    }
    expect(sms).toEqual([
      {
        job: { id: dead.id, task: "call", queue: "default", attempts: 2 },
        payload: { phone: "+15550100" },
        error: expect.objectContaining({ code: "NO_ANSWER", message: "nobody picked up", retryable: true }),
      },
    ]);
    expect(reports).toEqual([
      {
        job: { id: answered.id, task: "call", queue: "default", attempts: 1 },
        payload: { phone: "+15550101", answers: true },
        result: { minutes: 3 },
      },
    ]);
    const jobs = await overseer.listJobs();
    expect(jobs.filter((j) => j.task === "sms").map((j) => [j.queue, j.state])).toEqual([["texts", "succeeded"]]);
    expect(jobs.filter((j) => j.task === "report").map((j) => [j.priority, j.state])).toEqual([[-10, "succeeded"]]);
    const deadEvent = (await overseer.readEvents({ jobId: dead.id })).find((e) => e.kind === "job.dead");
    expect(deadEvent?.data.followUp).toBe(jobs.find((j) => j.task === "sms")?.id);
  });

  it("a follow-up of a task this worker does not define takes the defaults its own workers registered", async () => {
    const db = await testDatabase();
    const notifier = await db.open();
    notifier.defineTask("sms", () => undefined, { queue: "texts", maxAttempts: 7 });
    const registering = notifier.worker({ ...FAST, queues: ["texts"] });
    await registering.start();
    await registering.stop();

    const caller = await db.open();
    caller.defineTask(
      "call",
      () => {
        throw new NoAnswer("nobody picked up");
      },
      { maxAttempts: 1, onDead: "sms" },
    );
    const job = await caller.enqueue("call", { phone: "+15550100" });
    const worker = caller.worker({ ...FAST, queues: ["default"] });
    await worker.start();
    try {
      await waitFor("the call to die", async () => (await caller.getJob(job.id))?.state === "dead");
    } finally {
      await worker.stop();
    }
    const [sms] = (await caller.listJobs()).filter((j) => j.task === "sms");
    expect(sms).toMatchObject({ queue: "texts", maxAttempts: 7, state: "queued", payload: { job: { id: job.id } } });
  });

  it("defineTask refuses defaults no enqueue would take, at definition", () => {
    expect(() => defineTask("sms", () => undefined, { queue: "no spaces" })).toThrow(/queue/);
    expect(() => defineTask("sms", () => undefined, { maxAttempts: 0 })).toThrow(/maxAttempts/);
  });

  it("defineTask refuses a follow-up it cannot enqueue, naming the field", () => {
    for (const [onDead, code, message] of [
      [42, "INVALID_ARGUMENT", 'task "call": onDead must be a task name or { task, queue?, priority? }; got 42'],
      ["no spaces", "INVALID_TASK_NAME", 'task "call": onDead: task must be'],
      [{ task: "sms", priority: "urgent" }, "INVALID_ARGUMENT", 'task "call": onDead: priority'],
      [{ task: "sms", delay: "1m" }, "INVALID_ARGUMENT", 'task "call": onDead has unknown field "delay"'],
    ] as const) {
      let thrown: unknown;
      try {
        defineTask("call", () => undefined, { onDead: onDead as never });
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(OverseerError);
      expect((thrown as OverseerError).code).toBe(code);
      expect((thrown as Error).message).toContain(message);
      expect((thrown as OverseerError).details).toMatchObject({ field: "onDead", task: "call" });
    }
  });

  it("a worker SIGKILLed during a job's last attempt: exactly one follow-up once the lease lapses, made where the task is not defined", {
    timeout: 60_000,
  }, async () => {
    const db = await testDatabase("overseer-follow-up-");
    const overseer = await db.open();
    const dir = mkdtempSync(join(tmpdir(), "overseer-follow-up-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const log = join(dir, "worker.log");
    // Every handler in the child runs until it dies with it.
    const child = startFixture("worker-process.mjs", {
      database: db.database,
      log,
      task: "call",
      defaults: { onDead: "sms" },
      minMs: 0,
      maxMs: 0,
      stallAfter: 0,
      worker: { leaseMs: 1_000, heartbeatMs: 200, maintenanceMs: 100_000, pollMs: 20 },
    });
    await child.waitForLine("ready ");
    const job = await overseer.enqueue("call", { phone: "+15550100" }, { maxAttempts: 1 });
    await waitFor("the call to start in the child", () => readLog(log).some((l) => l.what === "start"));
    child.kill("SIGKILL");
    await child.exited;

    // This process defines only the SMS task: the follow-up comes from what the child registered.
    const sms: Array<{ job: { id: string }; error: { code: string } }> = [];
    overseer.defineTask("sms", (payload: (typeof sms)[number]) => {
      sms.push(payload);
    });
    const worker = overseer.worker(FAST);
    await worker.start();
    try {
      await waitFor("one SMS", () => sms.length === 1, { timeoutMs: 10_000 });
      // Later maintenance passes make no second one.
      await sleep(500);
    } finally {
      await worker.stop();
    }
    expect(sms.map((p) => [p.job.id, p.error.code])).toEqual([[job.id, "LEASE_EXPIRED"]]);
    expect((await overseer.getJob(job.id))?.state).toBe("dead");
  });
});
