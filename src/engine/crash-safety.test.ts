/**
 * Crash safety with real processes: workers and a producer run as child processes on one SQLite
 * file and are killed (SIGKILL) or stopped (SIGTERM) mid-work. The product's promise under test:
 * a job `enqueue` returned is committed; a crash loses no job and never runs one twice at the
 * same time; a graceful stop leaves nothing `running`.
 *
 * The fixtures import the built package, so `dist/` must be fresh (`npm test` builds it first).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { Overseer } from "../sdk/overseer.js";
import { killAllFixtures, startFixture } from "../test-support/child-processes.js";
import { count, executions, overlaps, readLog } from "../test-support/execution-log.js";
import { tempDatabase } from "../test-support/temp-database.js";
import { sleep, waitFor } from "../test-support/wait.js";

const DIST_INDEX = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
if (!existsSync(DIST_INDEX)) {
  throw new Error(
    `the crash-safety tests run worker processes from the built package, but ${DIST_INDEX} does not exist: ` +
      "run `npm run build` first (`npm test` does it in pretest)",
  );
}

afterEach(async () => {
  await killAllFixtures();
});

async function workerStatus(overseer: Overseer, workerId: string): Promise<string | undefined> {
  return (await overseer.listWorkers()).find((w) => w.id === workerId)?.status;
}

describe("crash safety", () => {
  it("a worker killed mid-work loses no job, and no job runs twice at the same time", { timeout: 60_000 }, async () => {
    const db = tempDatabase("overseer-crash-");
    const overseer = await db.open();
    const workerOptions = { concurrency: 20, leaseMs: 1_500, heartbeatMs: 300, maintenanceMs: 100, pollMs: 200 };
    const logA = join(db.dir, "worker-a.log");
    const logB = join(db.dir, "worker-b.log");
    const fixture = (log: string) => ({ database: db.path, log, minMs: 20, maxMs: 100, worker: workerOptions });
    // Both workers run from the start and compete for the jobs, so B could take over any job of
    // A's at the wrong moment if leases did not hold; then A dies with jobs in hand.
    const a = startFixture("worker-process.mjs", fixture(logA));
    const b = startFixture("worker-process.mjs", fixture(logB));
    const aId = (await a.waitForLine("ready ")).slice("ready ".length);
    const bId = (await b.waitForLine("ready ")).slice("ready ".length);
    const jobs = await overseer.enqueueMany(Array.from({ length: 200 }, (_, i) => ({ task: "work", payload: { i } })));

    await waitFor("worker A to finish 40 jobs", () => count(readLog(logA), "end") >= 40, {
      timeoutMs: 20_000,
      intervalMs: 2,
    });
    a.kill("SIGKILL");
    const death = await a.exited;
    expect(death.signal).toBe("SIGKILL");

    await waitFor("all 200 jobs to succeed", async () => (await overseer.countJobs()).succeeded === 200, {
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    const counts = await overseer.countJobs();
    expect(counts).toEqual({
      scheduled: 0,
      queued: 0,
      running: 0,
      awaiting_approval: 0,
      succeeded: 200,
      dead: 0,
      cancelled: 0,
    });

    const fromA = executions("A", readLog(logA), death.at);
    const fromB = executions("B", readLog(logB), Date.now());
    expect([...fromA.problems, ...fromB.problems]).toEqual([]);
    expect(overlaps([...fromA.runs, ...fromB.runs])).toEqual([]);
    expect(fromB.runs.every((r) => r.finished)).toBe(true);

    // The jobs A had in hand when it died: their attempt is recorded as lost (or handed back
    // uncounted, for a held job whose start A had not recorded yet: it began moments before A
    // died), and B ran them again.
    const interrupted = fromA.runs.filter((r) => !r.finished).map((r) => r.jobId);
    expect(interrupted.length).toBeGreaterThan(0);
    for (const job of jobs) {
      const attempts = await overseer.listAttempts(job.id);
      const succeeded = attempts.filter((x) => x.outcome === "succeeded");
      expect(succeeded, `job ${job.id} succeeded exactly once`).toHaveLength(1);
      // Held jobs handed back uncounted (A's when it died, or jobs a worker held beyond what it
      // came to hold) aside, every other attempt is one A lost.
      for (const other of attempts.filter((x) => x.outcome !== "succeeded" && x.outcome !== "released")) {
        expect(other, `job ${job.id}: every other attempt is one A lost`).toMatchObject({
          outcome: "lost",
          workerId: aId,
          error: { code: "LEASE_EXPIRED" },
        });
      }
      const events = await overseer.readEvents({ jobId: job.id });
      expect(events.filter((e) => e.kind === "job.succeeded")).toHaveLength(1);
      // Handed back uncounted: by A's expired lease before its start was recorded, or by a worker
      // that came to hold fewer.
      for (const released of events.filter((e) => e.kind === "job.released")) {
        expect([
          { reason: "lease_expired_before_start", workerId: aId },
          { reason: "prefetch_reduced", workerId: released.workerId },
        ]).toContainEqual({ reason: released.data.reason, workerId: released.workerId });
      }
    }
    for (const jobId of interrupted) {
      const attempts = await overseer.listAttempts(jobId);
      const inA = attempts.filter((x) => x.workerId === aId).at(-1);
      expect(inA?.outcome).toMatch(/^(lost|released)$/);
      expect(attempts.filter((x) => x.outcome !== "released").map((x) => [x.workerId, x.outcome])).toEqual([
        ...(inA?.outcome === "lost" ? [[aId, "lost"]] : []),
        [bId, "succeeded"],
      ]);
    }
    expect(await workerStatus(overseer, bId)).toBe("active");
  });

  it("every job id a producer printed before it was killed is in the store", { timeout: 30_000 }, async () => {
    const db = tempDatabase("overseer-crash-");
    const producer = startFixture("producer-process.mjs", { database: db.path, task: "work" });
    await producer.waitForLine("ready");
    await waitFor("the first enqueued ids", () => producer.lines.length > 1);
    await sleep(300);
    producer.kill("SIGKILL");
    expect((await producer.exited).signal).toBe("SIGKILL");

    const ids = producer.lines.slice(1);
    expect(ids.length).toBeGreaterThan(20);
    const overseer = await db.open();
    const missing: string[] = [];
    for (const [i, id] of ids.entries()) {
      const job = await overseer.getJob(id);
      if (job === null) missing.push(id);
      else expect(job.payload).toEqual({ i });
    }
    expect(missing).toEqual([]);
    // At most one job was committed whose id the kill kept from being printed.
    const stored = (await overseer.countJobs()).queued;
    expect(stored - ids.length).toBeGreaterThanOrEqual(0);
    expect(stored - ids.length).toBeLessThanOrEqual(1);
  });

  it("SIGTERM drains: running jobs finish, nothing is left running, the worker is stopped", {
    timeout: 30_000,
  }, async () => {
    const db = tempDatabase("overseer-crash-");
    const overseer = await db.open();
    const log = join(db.dir, "worker.log");
    const jobs = await overseer.enqueueMany(Array.from({ length: 30 }, (_, i) => ({ task: "work", payload: { i } })));
    const worker = startFixture("worker-process.mjs", {
      database: db.path,
      log,
      minMs: 200,
      maxMs: 200,
      worker: { concurrency: 5, leaseMs: 1_500, heartbeatMs: 300, maintenanceMs: 100, shutdownTimeoutMs: 5_000 },
    });
    const workerId = (await worker.waitForLine("ready ")).slice("ready ".length);
    await waitFor("a second round of jobs to start", () => count(readLog(log), "start") >= 8, { timeoutMs: 10_000 });
    const termAt = Date.now();
    worker.kill("SIGTERM");
    const exit = await worker.exited;
    expect(exit, worker.stderr()).toMatchObject({ code: 0, signal: null });
    expect(exit.at - termAt).toBeLessThan(3_000);

    const lines = readLog(log);
    const inFlight = executions(
      "worker",
      lines.filter((l) => l.at <= termAt),
      termAt,
    ).runs.filter((r) => !r.finished);
    expect(inFlight.length).toBeGreaterThan(0);
    expect(count(lines, "abort")).toBe(0);
    const ended = new Set(lines.filter((l) => l.what === "end").map((l) => l.jobId));
    expect(ended.size).toBe(count(lines, "start"));
    for (const run of inFlight) expect(ended.has(run.jobId)).toBe(true);

    const counts = await overseer.countJobs();
    expect(counts.running).toBe(0);
    expect(counts.succeeded).toBe(ended.size);
    expect(counts.queued).toBe(jobs.length - ended.size);
    for (const job of jobs) {
      const stored = await overseer.getJob(job.id);
      if (ended.has(job.id)) {
        expect(stored).toMatchObject({ state: "succeeded", attempts: 1 });
      } else {
        expect(stored).toMatchObject({ state: "queued", attempts: 0 });
        // Never started: at most handed back, held, uncounted.
        const outcomes = (await overseer.listAttempts(job.id)).map((x) => x.outcome);
        expect(outcomes.filter((o) => o !== "released")).toEqual([]);
      }
    }
    expect(await workerStatus(overseer, workerId)).toBe("stopped");
  });

  it("SIGTERM past the deadline hands running jobs back uncounted and exits", { timeout: 30_000 }, async () => {
    const db = tempDatabase("overseer-crash-");
    const overseer = await db.open();
    const log = join(db.dir, "worker.log");
    const jobs = await overseer.enqueueMany(Array.from({ length: 10 }, (_, i) => ({ task: "work", payload: { i } })));
    const worker = startFixture("worker-process.mjs", {
      database: db.path,
      log,
      minMs: 10_000,
      maxMs: 10_000,
      worker: { concurrency: 5, leaseMs: 1_500, heartbeatMs: 300, maintenanceMs: 100, shutdownTimeoutMs: 100 },
    });
    const workerId = (await worker.waitForLine("ready ")).slice("ready ".length);
    await waitFor("five jobs to start", () => count(readLog(log), "start") === 5, { timeoutMs: 10_000 });
    const termAt = Date.now();
    worker.kill("SIGTERM");
    const exit = await worker.exited;
    expect(exit, worker.stderr()).toMatchObject({ code: 0, signal: null });
    expect(exit.at - termAt).toBeLessThan(3_000);

    const lines = readLog(log);
    const aborted = lines.filter((l) => l.what === "abort").map((l) => l.jobId);
    expect(aborted).toHaveLength(5);
    expect(count(lines, "end")).toBe(0);
    expect(await overseer.countJobs()).toMatchObject({ running: 0, succeeded: 0, queued: jobs.length });
    for (const jobId of aborted) {
      expect(await overseer.getJob(jobId)).toMatchObject({ state: "queued", attempts: 0, leaseOwner: null });
      expect((await overseer.listAttempts(jobId)).map((x) => [x.workerId, x.outcome])).toEqual([
        [workerId, "released"],
      ]);
      const kinds = (await overseer.readEvents({ jobId })).map((e) => e.kind);
      expect(kinds).toContain("job.released");
    }
    expect(await workerStatus(overseer, workerId)).toBe("stopped");
  });
});
