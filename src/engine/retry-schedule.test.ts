/**
 * A task with a retry schedule (`backoff: ["1m", "5m", "15m"]`), end to end on the store's
 * clock: each failed attempt waits its step of the schedule, and the last attempt dies.
 */
import { describe, expect, it } from "vitest";
import type { Job } from "../core/types.js";
import type { Overseer } from "../sdk/overseer.js";
import { testDatabase } from "../test-support/test-backend.js";
import { waitFor } from "../test-support/wait.js";
import type { WorkerOptions } from "./worker.js";

const FAST: WorkerOptions = {
  leaseMs: 60_000,
  heartbeatMs: 200,
  maintenanceMs: 100,
  pollMs: 20,
  shutdownTimeoutMs: 1_000,
};
const MINUTE = 60_000;

/** The job once `test` holds for it. */
function jobWhen(overseer: Overseer, id: string, what: string, test: (job: Job) => boolean): Promise<Job> {
  return waitFor(what, async () => {
    const job = await overseer.getJob(id);
    return job !== null && test(job) ? job : null;
  });
}

describe("a task with a retry schedule", () => {
  it("retries a call that never answers after 1m, 5m and 15m, then it is dead", async () => {
    const t0 = Date.parse("2030-01-01T09:00:00.000Z");
    let now = t0;
    const overseer = await (await testDatabase()).open({ clock: () => now });
    const started: number[] = [];
    overseer.defineTask(
      "call",
      () => {
        started.push(now);
        throw new Error("no answer");
      },
      { maxAttempts: 4, backoff: ["1m", "5m", "15m"] },
    );
    const { id } = await overseer.enqueue("call", { phone: "+15550100" });
    const worker = overseer.worker(FAST);
    await worker.start();
    try {
      for (const [i, step] of [1 * MINUTE, 5 * MINUTE, 15 * MINUTE].entries()) {
        const waiting = await jobWhen(overseer, id, `attempt ${i + 1} to fail`, (job) => {
          return job.state === "scheduled" && job.attempts === i + 1;
        });
        // The clock stands still: the attempt failed at `now`, and the retry waits one step from it.
        expect(Date.parse(waiting.runAt) - now).toBe(step);
        now = Date.parse(waiting.runAt);
      }
      const dead = await jobWhen(overseer, id, "the last attempt to die", (job) => job.state === "dead");
      expect(dead.attempts).toBe(4);
    } finally {
      await worker.stop();
    }
    expect(started.map((t) => (t - t0) / MINUTE)).toEqual([0, 1, 6, 21]);
    const events = await overseer.readEvents({ jobId: id });
    expect(events.filter((e) => e.kind === "job.retry_scheduled").map((e) => e.data)).toMatchObject([
      { attempt: 1, delayMs: 1 * MINUTE },
      { attempt: 2, delayMs: 5 * MINUTE },
      { attempt: 3, delayMs: 15 * MINUTE },
    ]);
    expect(events.filter((e) => e.kind === "job.dead").map((e) => e.data)).toEqual([
      { attempt: 4, reason: "max_attempts_exceeded" },
    ]);
    const preview = await overseer.retryPreview(id);
    expect(preview.manualRetry.allowed).toBe(true);
  });

  it("a durable handler that parked keeps its place in the schedule: the park is not a failed attempt", async () => {
    const t0 = Date.parse("2030-01-01T09:00:00.000Z");
    let now = t0;
    const overseer = await (await testDatabase()).open({ clock: () => now });
    overseer.defineTask(
      "call",
      async (_payload, ctx) => {
        await ctx.sleep("10m"); // ringing; the next executions pass it at once
        throw new Error("no answer");
      },
      { maxAttempts: 3, backoff: ["1m", "5m"] },
    );
    const { id } = await overseer.enqueue("call", {});
    const worker = overseer.worker(FAST);
    await worker.start();
    try {
      const parked = await jobWhen(overseer, id, "the call to park", (job) => {
        return job.state === "scheduled" && job.attempts === 0;
      });
      now = Date.parse(parked.runAt);
      for (const [i, step] of [1 * MINUTE, 5 * MINUTE].entries()) {
        const waiting = await jobWhen(overseer, id, `attempt ${i + 1} to fail`, (job) => {
          return job.state === "scheduled" && job.attempts === i + 1;
        });
        expect(Date.parse(waiting.runAt) - now).toBe(step);
        now = Date.parse(waiting.runAt);
      }
      const dead = await jobWhen(overseer, id, "the last attempt to die", (job) => job.state === "dead");
      expect(dead).toMatchObject({ attempts: 3, maxAttempts: 3 });
      expect((await overseer.listAttempts(id)).map((a) => a.outcome)).toEqual(["parked", "failed", "failed", "failed"]);
    } finally {
      await worker.stop();
    }
  });

  it("an enqueue's own schedule overrides the task's, and is kept with the job", async () => {
    const overseer = await (await testDatabase()).open();
    overseer.defineTask("call", () => undefined, { backoff: { type: "fixed", delay: "1s" } });
    const job = await overseer.enqueue("call", null, {
      backoff: { type: "schedule", delays: ["2s", "1h"], jitter: 0.1 },
    });
    expect((await overseer.getJob(job.id))?.backoff).toEqual({
      type: "schedule",
      delaysMs: [2_000, 3_600_000],
      jitter: 0.1,
    });
  });
});
