/**
 * Quieting, stopping and resuming a worker, as an operator does it (`Overseer.commandWorker`, or
 * the store's command read at a heartbeat): it starts no job once quiet, hands back the jobs it
 * held unstarted, lets the ones it runs finish, loses none, and stops gracefully when asked.
 * On the test backend (SQLite, or PostgreSQL with OVERSEER_TEST_BACKEND=postgres).
 */
import { describe, expect, it } from "vitest";
import { PermanentError } from "../core/errors.js";
import type { Overseer } from "../sdk/overseer.js";
import { testDatabase } from "../test-support/test-backend.js";
import { type Deferred, deferred, waitFor } from "../test-support/wait.js";
import type { WorkerOptions } from "./worker.js";

const FAST: WorkerOptions = {
  leaseMs: 2_000,
  heartbeatMs: 100,
  maintenanceMs: 100,
  pollMs: 50,
  shutdownTimeoutMs: 5_000,
  abortGraceMs: 200,
};

/** A task whose handlers each wait for their job's gate; `started` lists the job ids in start order. */
function gatedTask(overseer: Overseer) {
  const started: string[] = [];
  const gates = new Map<string, Deferred<void>>();
  const gate = (id: string): Deferred<void> => {
    let g = gates.get(id);
    if (g === undefined) {
      g = deferred();
      gates.set(id, g);
    }
    return g;
  };
  overseer.defineTask("gated", async (_payload: unknown, ctx) => {
    started.push(ctx.job.id);
    await gate(ctx.job.id).promise;
  });
  return { started, open: (id: string) => gate(id).resolve() };
}

async function status(overseer: Overseer, workerId: string): Promise<string | undefined> {
  return (await overseer.getWorker(workerId))?.status;
}

/** Waits until the worker has heartbeated `n` more times (its heartbeat time moved on `n` times). */
async function heartbeats(overseer: Overseer, workerId: string, n: number): Promise<void> {
  let seen = (await overseer.getWorker(workerId))?.heartbeatAt;
  for (let i = 0; i < n; i++) {
    seen = await waitFor(`heartbeat ${i + 1} of ${workerId}`, async () => {
      const at = (await overseer.getWorker(workerId))?.heartbeatAt;
      return at !== seen ? at : null;
    });
  }
}

describe("worker control", () => {
  it("quiet: the running jobs finish, the held ones go back unstarted, nothing starts after, nothing is lost", async () => {
    const db = await testDatabase();
    const overseer = await db.open();
    const { started, open } = gatedTask(overseer);
    const jobs = [];
    for (let i = 0; i < 6; i++) jobs.push(await overseer.enqueue("gated", { i }));
    const worker = overseer.worker({ ...FAST, concurrency: 2, prefetch: 2 });
    await worker.start();
    // Two running, two held ahead of a free slot.
    await waitFor("two running and two held", async () => {
      const mine = await overseer.listWorkerJobs(worker.id);
      return mine.length === 4 && mine.filter((j) => j.held).length === 2 && started.length === 2;
    });

    const asked = await overseer.commandWorker(worker.id, "quiet", "ana");
    expect(asked).toMatchObject({ command: "quiet" });
    await waitFor("the worker to be quiet", async () => (await status(overseer, worker.id)) === "quiet");
    expect(worker.isQuiet).toBe(true);
    // The held jobs went back to the queue, uncounted.
    const mine = await overseer.listWorkerJobs(worker.id);
    expect(mine.map((j) => j.id).sort()).toEqual([...started].sort());
    for (const id of started) open(id);
    await waitFor("its two jobs to succeed", async () => {
      const states = await Promise.all(started.map(async (id) => (await overseer.getJob(id))?.state));
      return states.every((s) => s === "succeeded");
    });
    // Quiet with work waiting: over three more heartbeats it claims nothing.
    const late = await overseer.enqueue("gated", { late: true });
    await heartbeats(overseer, worker.id, 3);
    expect(started).toHaveLength(2);
    expect(await overseer.listWorkerJobs(worker.id)).toEqual([]);
    expect((await overseer.getJob(late.id))?.state).toBe("queued");
    const quieted = (await overseer.readEvents()).find((e) => e.kind === "worker.quieted");
    expect(quieted).toMatchObject({ workerId: worker.id, data: { released: 2 } });
    expect(await overseer.getWorker(worker.id)).toMatchObject({ status: "quiet", processed: 2, failed: 0 });

    // Another worker runs the rest, each once, none charged an attempt by the quiet one.
    const other = overseer.worker({ ...FAST, concurrency: 10, prefetch: 0 });
    await other.start();
    const rest = [...jobs.map((j) => j.id).filter((id) => !started.slice(0, 2).includes(id)), late.id];
    await waitFor("the other five to start", () => rest.every((id) => started.includes(id)));
    for (const id of rest) open(id);
    for (const id of rest) {
      await waitFor(`job ${id} to succeed`, async () => (await overseer.getJob(id))?.state === "succeeded");
      expect((await overseer.getJob(id))?.attempts).toBe(1);
    }
    expect(new Set(started).size).toBe(started.length);
  });

  it("resume: a quiet worker claims again", async () => {
    const db = await testDatabase();
    const overseer = await db.open();
    const { started, open } = gatedTask(overseer);
    const worker = overseer.worker({ ...FAST, concurrency: 1, prefetch: 0 });
    await worker.start();
    await overseer.commandWorker(worker.id, "quiet", "ana");
    await waitFor("the worker to be quiet", async () => (await status(overseer, worker.id)) === "quiet");
    const job = await overseer.enqueue("gated");
    await heartbeats(overseer, worker.id, 2);
    expect(started).toEqual([]);
    await overseer.commandWorker(worker.id, "resume", "ana");
    await waitFor("the job to start", () => started.length === 1);
    open(job.id);
    await waitFor("the job to succeed", async () => (await overseer.getJob(job.id))?.state === "succeeded");
    expect(await status(overseer, worker.id)).toBe("active");
    const kinds = (await overseer.readEvents()).map((e) => e.kind).filter((k) => k.startsWith("worker."));
    expect(kinds).toEqual([
      "worker.started",
      "worker.quiet_requested",
      "worker.quieted",
      "worker.resume_requested",
      "worker.resumed",
    ]);
  });

  it("stop: the worker goes quiet, lets its job finish, then stops; commandedStop settles", async () => {
    const db = await testDatabase();
    const overseer = await db.open();
    const { started, open } = gatedTask(overseer);
    const job = await overseer.enqueue("gated");
    const waiting = await overseer.enqueue("gated");
    const worker = overseer.worker({ ...FAST, concurrency: 1, prefetch: 0 });
    await worker.start();
    await waitFor("one job to start", () => started.length === 1);
    await overseer.commandWorker(worker.id, "stop", "ana");
    await waitFor("the worker to be stopping", async () => (await status(overseer, worker.id)) === "stopping");
    expect(worker.isRunning).toBe(false);
    open(job.id);
    await worker.commandedStop;
    expect(await overseer.getWorker(worker.id)).toMatchObject({ status: "stopped", processed: 1, failed: 0 });
    expect((await overseer.getJob(job.id))?.state).toBe("succeeded");
    expect((await overseer.getJob(waiting.id))?.state).toBe("queued");
    expect(started).toEqual([job.id]);
    const kinds = (await overseer.readEvents()).map((e) => e.kind).filter((k) => k.startsWith("worker."));
    expect(kinds).toEqual(["worker.started", "worker.stop_requested", "worker.quieted", "worker.stopped"]);
  });

  it("a command left in the store by another process is read at the next heartbeat; counts go with heartbeats", async () => {
    const db = await testDatabase();
    const overseer = await db.open();
    overseer.defineTask("ok", async () => "ok");
    overseer.defineTask("bad", async () => {
      throw new PermanentError("no");
    });
    const worker = overseer.worker({ ...FAST, concurrency: 2 });
    await worker.start();
    const ids = [
      (await overseer.enqueue("ok")).id,
      (await overseer.enqueue("ok")).id,
      (await overseer.enqueue("bad")).id,
    ];
    await waitFor("the three jobs to finish", async () => {
      const states = await Promise.all(ids.map(async (id) => (await overseer.getJob(id))?.state));
      return states.every((s) => s === "succeeded" || s === "dead");
    });
    await waitFor("the counts to be written", async () => {
      const w = await overseer.getWorker(worker.id);
      return w?.processed === 3 && w.failed === 1;
    });
    // Straight to the store: no poke of the worker in this process, as from another process.
    await overseer.store.commandWorker(worker.id, "quiet", "ana");
    await waitFor("the worker to read it and be quiet", async () => (await status(overseer, worker.id)) === "quiet");
  });
});
