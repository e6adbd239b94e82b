/**
 * A pending approval request made through the store as a worker's `ctx.requestApproval` makes
 * it: enqueue a job, claim it, ask. For tests of the approval routes and commands that need a
 * request without running a worker.
 */
import { type Approval, type ApprovalRequest, buildNewApproval } from "../core/approval.js";
import { newId } from "../core/ids.js";
import type { Job } from "../core/types.js";
import type { Overseer } from "../sdk/overseer.js";
import { waitFor } from "./wait.js";

let asked = 0;

/** Enqueues a job of `task` (default: a task of its own), claims it and parks it on a pending request. */
export async function pendingApproval(
  overseer: Overseer,
  request: Partial<ApprovalRequest> = {},
  task = `approval-fixture-${++asked}`,
): Promise<Approval> {
  const job = await overseer.enqueue(task, { n: asked });
  const [claimed] = await overseer.store.claim({
    workerId: "approval-fixture",
    limit: 1,
    tasks: [task],
    queues: null,
    leaseMs: 60_000,
  });
  if (!claimed || claimed.job.id !== job.id) throw new Error(`expected to claim job ${job.id}`);
  const result = await overseer.store.requestApproval(
    claimed.lease,
    buildNewApproval(
      { title: "Deploy web to production", details: { service: "web" }, risk: "high", timeout: "10m", ...request },
      { id: newId(), step: "approval:1", defaultTimeoutMs: 600_000 },
    ),
  );
  if (result?.kind !== "parked") throw new Error(`expected the job to park on its request; got ${result?.kind}`);
  return result.approval;
}

/** The job once it has finished (succeeded or dead), as a worker runs it. */
export function finishedJob(overseer: Overseer, id: string): Promise<Job> {
  return waitFor(
    `job ${id} to finish`,
    async () => {
      const job = await overseer.getJob(id);
      return job && (job.state === "succeeded" || job.state === "dead") ? job : null;
    },
    { timeoutMs: 15_000, intervalMs: 20 },
  );
}

/** The first request the job made, once its worker has asked. */
export function requestOf(overseer: Overseer, jobId: string): Promise<Approval> {
  return waitFor("the job's request", async () => (await overseer.listApprovals({ jobId }))[0] ?? null, {
    timeoutMs: 15_000,
    intervalMs: 20,
  });
}
