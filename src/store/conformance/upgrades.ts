/**
 * What each backend's upgrade test checks once its store was migrated from an older schema,
 * the same way on both.
 */
import { expect } from "vitest";
import { buildNewJob } from "../../core/job-options.js";
import type { ClaimedJob } from "../../core/types.js";
import type { Store } from "../store.js";

/**
 * Two claimed jobs whose claims wrote a `running` attempt row, as versions before migration 017
 * did: each attempt is listed once, and a finish ends it (one succeeded, one failed).
 */
export async function expectEarlierAttemptsEnded(store: Store, claimed: readonly ClaimedJob[]): Promise<void> {
  const [one, two] = claimed.map((c) => c.lease);
  if (!one || !two) throw new Error("expected two claimed jobs");
  expect(await store.listAttempts(one.jobId)).toMatchObject([{ number: one.token, outcome: "running" }]);
  await store.finish([
    { lease: one, outcome: "succeeded", resultJson: "null" },
    { lease: two, outcome: "dead", error: { code: "E", message: "m", retryable: false }, reason: "permanent_error" },
  ]);
  expect(await store.listAttempts(one.jobId)).toMatchObject([{ number: one.token, outcome: "succeeded" }]);
  expect(await store.listAttempts(two.jobId)).toMatchObject([{ number: two.token, outcome: "failed" }]);
}

/**
 * Runs one job to success, then, with `rewind`, makes the store's schema what it was before
 * migration 025 and the job's row what an older version could leave: finished without a finish
 * time. Reopened (so migrated), the store counts it as succeeded, finished when it started, and
 * reads its queues (whose breaker columns `rewind` may have named as 024's first version did).
 */
export async function expectFinishTimeFilled(
  open: () => Promise<Store>,
  rewind: (jobId: string) => Promise<void>,
): Promise<void> {
  const first = await open();
  const { job } = await first.enqueue(buildNewJob("t", {}, {}, undefined));
  const [claimed] = await first.claim({ workerId: "w", limit: 1, tasks: ["t"], queues: null, leaseMs: 60_000 });
  if (!claimed) throw new Error("expected a claimed job");
  await first.finish([{ lease: claimed.lease, outcome: "succeeded", resultJson: "null" }]);
  const started = (await first.getJob(job.id))?.startedAt;
  await first.close();
  await rewind(job.id);
  const store = await open();
  try {
    expect(await store.countJobs()).toMatchObject({ succeeded: 1, running: 0 });
    expect((await store.listQueues()).find((q) => q.name === "default")?.counts).toMatchObject({ succeeded: 1 });
    expect((await store.getJob(job.id))?.finishedAt).toBe(started);
  } finally {
    await store.close();
  }
}

/**
 * Three jobs of queue `q` run to their end (two succeeded, one dead); then, with `rewind`, the
 * schema is made what it was before migration 034 (no finished counts) and two of the jobs
 * (`old`: one succeeded, the dead one) finished an hour earlier. Reopened (so migrated), the store
 * counts all three, and retrying the old dead job takes it out of the counts 034 made.
 */
export async function expectFinishedCountedByMigration(
  open: () => Promise<Store>,
  rewind: (old: readonly string[]) => Promise<void>,
): Promise<void> {
  const first = await open();
  const ids: string[] = [];
  for (const outcome of ["succeeded", "succeeded", "dead"] as const) {
    const { job } = await first.enqueue(buildNewJob("t", {}, { queue: "q" }, undefined));
    const [claimed] = await first.claim({ workerId: "w", limit: 1, tasks: ["t"], queues: ["q"], leaseMs: 60_000 });
    if (!claimed) throw new Error("expected a claimed job");
    await first.finish([
      outcome === "succeeded"
        ? { lease: claimed.lease, outcome, resultJson: "null" }
        : {
            lease: claimed.lease,
            outcome,
            error: { code: "E", message: "m", retryable: false },
            reason: "permanent_error",
          },
    ]);
    ids.push(job.id);
  }
  await first.close();
  const [, oldSucceeded, dead] = ids as [string, string, string];
  await rewind([oldSucceeded, dead]);
  const store = await open();
  try {
    const counts = async () => (await store.listQueues()).find((q) => q.name === "q")?.counts;
    expect(await counts()).toMatchObject({ succeeded: 2, dead: 1, queued: 0 });
    await store.retryJob(dead);
    expect(await counts()).toMatchObject({ succeeded: 2, dead: 0, queued: 1 });
    expect(await store.countJobs()).toMatchObject({ succeeded: 2, dead: 0, queued: 1 });
  } finally {
    await store.close();
  }
}
