/**
 * Attempt timeouts, on the test backend: past its timeout a handler's signal fires with reason
 * `timeout`, the attempt fails with ATTEMPT_TIMEOUT and is retried per the retry policy, and the
 * slot takes the next job even when the handler ignores its signal.
 */
import { describe, expect, it } from "vitest";
import type { AbortReason } from "../core/task.js";
import { TEST_BACKEND, testDatabase } from "../test-support/test-backend.js";
import { untilAborted, waitFor } from "../test-support/wait.js";
import type { WorkerOptions } from "./worker.js";

const FAST: WorkerOptions = { pollMs: 50, maintenanceMs: 100, abortGraceMs: 100, shutdownTimeoutMs: 500 };

async function finished(
  overseer: { getJob(id: string): Promise<{ state: string } | null> },
  id: string,
  state: string,
) {
  await waitFor(`job ${id} to be ${state}`, async () => (await overseer.getJob(id))?.state === state, {
    timeoutMs: 10_000,
  });
}

describe(`attempt timeouts on ${TEST_BACKEND}`, () => {
  it("abort the handler with reason 'timeout', fail the attempt with ATTEMPT_TIMEOUT, and retry it", async () => {
    const overseer = await (await testDatabase()).open();
    const reasons: unknown[] = [];
    overseer.defineTask("slow-then-quick", async (_payload, ctx) => {
      if (ctx.attempt > 1) return "done";
      ctx.signal.addEventListener("abort", () => reasons.push(ctx.signal.reason));
      await untilAborted(ctx.signal);
    });
    const job = await overseer.enqueue("slow-then-quick", null, {
      timeout: "150ms",
      maxAttempts: 2,
      backoff: { type: "fixed", delay: 10 },
    });
    expect(job.timeoutMs).toBe(150);
    const worker = overseer.worker({ ...FAST, concurrency: 1 });
    await worker.start();
    await finished(overseer, job.id, "succeeded");
    await worker.stop();

    expect(reasons).toEqual(["timeout" satisfies AbortReason]);
    const attempts = await overseer.listAttempts(job.id);
    expect(attempts.map((a) => a.outcome)).toEqual(["failed", "succeeded"]);
    expect(attempts[0]?.error).toMatchObject({ code: "ATTEMPT_TIMEOUT", retryable: true });
    expect(attempts[0]?.error?.message).toContain("timeout of 150 ms");
  });

  it("free the slot for the next job when the handler ignores its signal; the task's timeout applies", async () => {
    const overseer = await (await testDatabase()).open();
    let hangs = 0;
    overseer.defineTask(
      "hangs",
      async () => {
        hangs++;
        // Never settles, and never looks at its signal.
        await new Promise(() => undefined);
      },
      { timeout: 100, maxAttempts: 1 },
    );
    overseer.defineTask("quick", async () => "ok");
    const stuck = await overseer.enqueue("hangs", null, { priority: "high" });
    const next = await overseer.enqueue("quick");
    const worker = overseer.worker({ ...FAST, concurrency: 1, prefetch: 0 });
    await worker.start();
    // One slot: the quick job can only run once the hung handler's slot is free.
    await finished(overseer, next.id, "succeeded");
    await finished(overseer, stuck.id, "dead");
    await worker.stop();

    expect(hangs).toBe(1);
    expect((await overseer.getJob(stuck.id))?.lastError?.code).toBe("ATTEMPT_TIMEOUT");
    expect((await overseer.listAttempts(stuck.id)).map((a) => a.outcome)).toEqual(["failed"]);
  });

  it("a cancel that comes during the timeout's grace cancels the job rather than retrying it", async () => {
    const overseer = await (await testDatabase()).open();
    let cancelled: Promise<unknown> = Promise.resolve();
    let runs = 0;
    overseer.defineTask(
      "cancelled-late",
      async (_payload, ctx) => {
        runs++;
        ctx.signal.addEventListener("abort", () => {
          cancelled = overseer.cancel(ctx.job.id);
        });
        await untilAborted(ctx.signal).catch(async (err) => {
          await cancelled;
          throw err;
        });
      },
      { timeout: 100, maxAttempts: 3 },
    );
    const job = await overseer.enqueue("cancelled-late");
    const worker = overseer.worker({ ...FAST, concurrency: 1 });
    await worker.start();
    await finished(overseer, job.id, "cancelled");
    await worker.stop();
    expect(runs).toBe(1);
    expect((await overseer.listAttempts(job.id)).map((a) => a.outcome)).toEqual(["cancelled"]);
  });

  it("a job's own timeout wins over its task's, and a handler within it succeeds as usual", async () => {
    const overseer = await (await testDatabase()).open();
    overseer.defineTask(
      "takes-a-while",
      async (_payload, ctx) => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        return ctx.signal.aborted ? "aborted" : "in time";
      },
      { timeout: 50, maxAttempts: 1 },
    );
    const generous = await overseer.enqueue("takes-a-while", null, { timeout: "1m" });
    const worker = overseer.worker({ ...FAST, concurrency: 2 });
    await worker.start();
    await finished(overseer, generous.id, "succeeded");
    await worker.stop();
    expect((await overseer.getJob(generous.id))?.result).toBe("in time");
  });

  it("refuses a timeout that is not a duration from 1 ms to about 24 days, at enqueue and at defineTask", async () => {
    const overseer = await (await testDatabase()).open();
    overseer.defineTask("t", async () => null);
    for (const timeout of [0, -5, "soon", 2 ** 31, "30d"]) {
      await expect(overseer.enqueue("t", null, { timeout }), String(timeout)).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
        details: { field: "timeout" },
      });
    }
    expect(() => overseer.defineTask("bad", async () => null, { timeout: "forever" })).toThrow(
      /task "bad": timeout must be/,
    );
  });
});
