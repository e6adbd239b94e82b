/**
 * Several Overseer processes ("nodes") on one PostgreSQL schema: worker processes sharing a
 * queue (and one of them SIGKILLed), two scheduler processes racing for the same ticks, and an
 * event tail on one node seeing the work of another. Each test gets a schema of its own, chosen
 * by the database URL (`?options=-c search_path=...`), so the fixtures and the CLI work in it
 * unchanged; the schema is dropped when the test passed and kept when it failed.
 *
 * The fixtures and the CLI run from the built package, so `dist/` must be fresh (`npm test`
 * builds it first). Needs a server at OVERSEER_TEST_PG_URL (default a local trust-auth `test`).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { killAllFixtures, startFixture } from "../test-support/child-processes.js";
import { cliSandbox } from "../test-support/cli.js";
import { count, executions, overlaps, readLog } from "../test-support/execution-log.js";
import { pgSchemas } from "../test-support/pg-schema.js";
import { waitFor } from "../test-support/wait.js";

// Also checks that dist/ exists, and removes each test's folder (logs, task modules) after it.
const cli = cliSandbox("overseer-multi-node-");
const testSchema = pgSchemas();

afterEach(async () => {
  await killAllFixtures();
});

async function readyWorkers(fixtures: ReturnType<typeof startFixture>[]): Promise<string[]> {
  return Promise.all(fixtures.map(async (f) => (await f.waitForLine("ready ")).slice("ready ".length)));
}

describe("worker processes on one PostgreSQL schema", () => {
  it("three workers drain 10,000 jobs: each job runs and succeeds exactly once, every worker does some", {
    timeout: 40_000,
  }, async () => {
    const db = await testSchema();
    const overseer = await db.open();
    const dir = cli.tempDir();
    const names = ["A", "B", "C"];
    const logs = names.map((n) => join(dir, `worker-${n}.log`));
    const workers = logs.map((log) =>
      startFixture("worker-process.mjs", {
        database: db.url,
        log,
        minMs: 0,
        maxMs: 0,
        worker: { concurrency: 50, pollMs: 200, maintenanceMs: 500 },
      }),
    );
    const ids = await readyWorkers(workers);
    const jobs = await overseer.enqueueMany(
      Array.from({ length: 10_000 }, (_, i) => ({ task: "work", payload: { i } })),
    );

    await waitFor("all 10,000 jobs to succeed", async () => (await overseer.countJobs()).succeeded === 10_000, {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    expect(await overseer.countJobs()).toEqual({
      scheduled: 0,
      queued: 0,
      running: 0,
      awaiting_approval: 0,
      succeeded: 10_000,
      dead: 0,
      cancelled: 0,
    });

    // Exactly one execution of each job across the three processes, and each process ran some.
    const perWorker = logs.map(readLog);
    const all = perWorker.flat();
    expect(count(all, "start")).toBe(10_000);
    expect(count(all, "end")).toBe(10_000);
    expect(count(all, "abort")).toBe(0);
    expect(new Set(all.filter((l) => l.what === "end").map((l) => l.jobId))).toEqual(new Set(jobs.map((j) => j.id)));
    for (const [i, log] of perWorker.entries()) {
      expect(count(log, "end"), `worker ${names[i]} did some of the work`).toBeGreaterThan(0);
    }

    // One job.succeeded event and one (succeeded) attempt per job, by the three workers only.
    const events = await db.query<{ n: number; jobs: number }>(
      "SELECT count(*)::int AS n, count(DISTINCT job_id)::int AS jobs FROM events WHERE kind = 'job.succeeded'",
    );
    expect(events).toEqual([{ n: 10_000, jobs: 10_000 }]);
    const attempts = await db.query<{ worker_id: string; outcome: string; n: number }>(
      "SELECT worker_id, outcome, count(*)::int AS n FROM attempts GROUP BY worker_id, outcome ORDER BY worker_id",
    );
    expect(attempts.every((a) => a.outcome === "succeeded")).toBe(true);
    expect(attempts.map((a) => a.worker_id).sort()).toEqual([...ids].sort());
    const perId = new Map(attempts.map((a) => [a.worker_id, a.n]));
    expect(ids.map((id, i) => perId.get(id) === count(perWorker[i] ?? [], "end"))).toEqual([true, true, true]);
  });

  it("a worker SIGKILLed mid-work: the other two finish its jobs after the lease expires, never overlapping", {
    timeout: 40_000,
  }, async () => {
    const db = await testSchema();
    const overseer = await db.open();
    const dir = cli.tempDir();
    const names = ["A", "B", "C"];
    const logs = names.map((n) => join(dir, `worker-${n}.log`));
    const workerOptions = { concurrency: 10, leaseMs: 1_500, heartbeatMs: 300, maintenanceMs: 100, pollMs: 200 };
    const workers = logs.map((log) =>
      startFixture("worker-process.mjs", { database: db.url, log, minMs: 50, maxMs: 150, worker: workerOptions }),
    );
    const [aId] = await readyWorkers(workers);
    const a = workers[0] as (typeof workers)[0];
    const [logA, logB, logC] = logs as [string, string, string];
    const jobs = await overseer.enqueueMany(Array.from({ length: 600 }, (_, i) => ({ task: "work", payload: { i } })));

    await waitFor("worker A to finish 30 jobs", () => count(readLog(logA), "end") >= 30, {
      timeoutMs: 20_000,
      intervalMs: 2,
    });
    a.kill("SIGKILL");
    const death = await a.exited;
    expect(death.signal).toBe("SIGKILL");

    await waitFor("all 600 jobs to succeed", async () => (await overseer.countJobs()).succeeded === 600, {
      timeoutMs: 25_000,
      intervalMs: 50,
    });
    expect(await overseer.countJobs()).toMatchObject({ queued: 0, running: 0, succeeded: 600, dead: 0 });

    const fromA = executions("A", readLog(logA), death.at);
    const fromB = executions("B", readLog(logB), Date.now());
    const fromC = executions("C", readLog(logC), Date.now());
    expect([...fromA.problems, ...fromB.problems, ...fromC.problems]).toEqual([]);
    expect(overlaps([...fromA.runs, ...fromB.runs, ...fromC.runs])).toEqual([]);
    expect([...fromB.runs, ...fromC.runs].every((r) => r.finished)).toBe(true);
    expect(fromB.runs.length).toBeGreaterThan(0);
    expect(fromC.runs.length).toBeGreaterThan(0);

    // The jobs A had in hand when it died: their attempt is recorded as lost (or handed back
    // uncounted, for a held job whose start A had not recorded yet: it began moments before A
    // died), and B or C ran them again, no sooner than the lease allowed.
    const interrupted = fromA.runs.filter((r) => !r.finished);
    expect(interrupted.length).toBeGreaterThan(0);
    const rerunStart = new Map(
      [...fromB.runs, ...fromC.runs]
        .filter((r) => interrupted.some((i) => i.jobId === r.jobId))
        .map((r) => [r.jobId, r]),
    );
    for (const run of interrupted) {
      const attempts = await overseer.listAttempts(run.jobId);
      const inA = attempts.filter((x) => x.workerId === aId).at(-1);
      expect(inA?.outcome).toMatch(/^(lost|released)$/);
      if (inA?.outcome === "lost") expect(inA.error).toMatchObject({ code: "LEASE_EXPIRED" });
      expect(attempts.filter((x) => x.outcome !== "released").map((x) => [x.workerId, x.outcome])).toEqual([
        ...(inA?.outcome === "lost" ? [[aId, "lost"]] : []),
        [expect.not.stringMatching(`^${aId}$`), "succeeded"],
      ]);
      const rerun = rerunStart.get(run.jobId);
      expect(rerun, `job ${run.jobId} was run again by B or C`).toBeDefined();
      // Not taken over at once: only after A's last heartbeat (every 300 ms, later under load)
      // plus the 1.5 s lease; the no-overlap check above is the strict one.
      expect((rerun?.start ?? 0) - death.at).toBeGreaterThan(500);
    }

    const succeeded = await db.query<{ n: number; jobs: number }>(
      "SELECT count(*)::int AS n, count(DISTINCT job_id)::int AS jobs FROM events WHERE kind = 'job.succeeded'",
    );
    expect(succeeded).toEqual([{ n: jobs.length, jobs: jobs.length }]);
    // Every other attempt succeeded, or was handed back uncounted (a held job whose start was not
    // recorded: A's when it died, or one a worker held beyond what it came to hold, see prefetch.ts).
    // That none was charged without running is the chaos tests' check (src/chaos).
    const notLost = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM attempts WHERE outcome NOT IN ('succeeded','released') AND NOT (outcome = 'lost' AND worker_id = $1)",
      [aId],
    );
    expect(notLost).toEqual([{ n: 0 }]);
  });
});

describe("two scheduler processes on one PostgreSQL schema", () => {
  it("enqueue exactly one job per tick of an every-second schedule: none missing, none twice", {
    timeout: 30_000,
  }, async () => {
    const db = await testSchema();
    const base = cli.tempDir();
    mkdirSync(join(base, "tasks"));
    writeFileSync(join(base, "tasks", "tick.mjs"), "export default async () => null;\n");
    const config = join(base, "overseer.config.yaml");
    writeFileSync(config, "schedules:\n  every-second:\n    cron: '* * * * * *'\n    task: tick\n    catchUp: 5\n");
    // The schema is migrated before either process starts, so both race only for ticks.
    expect((await cli.run(["--database", db.url, "queues", "list"])).code).toBe(0);

    const args = [
      "--database",
      db.url,
      "--config",
      config,
      "--log-level",
      "silent",
      "worker",
      "--tasks",
      join(base, "tasks"),
    ];
    const nodes = [cli.start(args), cli.start(args)];
    const outputs = nodes.map((n) => {
      const out = { text: "", err: "" };
      n.stdout?.on("data", (d) => (out.text += d));
      n.stderr?.on("data", (d) => (out.err += d));
      return out;
    });
    await new Promise((r) => setTimeout(r, 6_000));
    const exits = nodes.map((n) => new Promise<number | null>((r) => n.on("close", r)));
    for (const n of nodes) n.kill("SIGTERM");
    expect(await Promise.all(exits), outputs.map((o) => o.err).join("\n")).toEqual([0, 0]);
    for (const o of outputs) expect(o.text).toContain("schedules every-second");

    const overseer = await db.open();
    const jobs = await overseer.listJobs({ limit: 1_000 });
    const ticks = jobs.map((j) => Date.parse(j.runAt)).sort((x, y) => x - y);
    expect(jobs.every((j) => j.task === "tick")).toBe(true);
    expect(new Set(ticks).size, "a tick was enqueued twice").toBe(ticks.length);
    expect(ticks.every((t) => t % 1_000 === 0)).toBe(true);
    const first = ticks[0] as number;
    const last = ticks.at(-1) as number;
    expect(ticks, "a tick is missing").toEqual(
      Array.from({ length: (last - first) / 1_000 + 1 }, (_, i) => first + i * 1_000),
    );
    // About 6 s of ticks; the first and last partial seconds (and start-up) may be cut.
    expect(ticks.length).toBeGreaterThanOrEqual(4);
    const fired = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM events WHERE kind = 'schedule.fired'");
    expect(fired).toEqual([{ n: ticks.length }]);
  });
});

describe("events across nodes", () => {
  it("`overseer events --follow --ndjson` on node B sees, within 2 s, the job.succeeded events of node A's worker", {
    timeout: 30_000,
  }, async () => {
    const db = await testSchema();
    const overseer = await db.open();
    const dir = cli.tempDir();
    const marker = await overseer.enqueue("work", { marker: true });

    const seen: Array<{ kind: string; jobId: string | null; at: string; arrived: number }> = [];
    const follower = cli.start(["--database", db.url, "events", "--follow", "--ndjson"]);
    let partial = "";
    let stderr = "";
    follower.stderr?.on("data", (d) => (stderr += d));
    follower.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      const arrived = Date.now();
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) seen.push({ ...JSON.parse(line), arrived });
    });
    await waitFor("the follower to print the marker job's enqueue", () =>
      seen.some((e) => e.kind === "job.enqueued" && e.jobId === marker.id),
    ).catch((err: Error) => {
      throw new Error(`${err.message}; follower stderr:\n${stderr}`);
    });

    const worker = startFixture("worker-process.mjs", {
      database: db.url,
      log: join(dir, "worker-A.log"),
      minMs: 20,
      maxMs: 80,
      worker: { concurrency: 2, pollMs: 200, maintenanceMs: 500 },
    });
    await worker.waitForLine("ready ");
    const jobs = [
      marker,
      ...(await overseer.enqueueMany(Array.from({ length: 20 }, (_, i) => ({ task: "work", payload: { i } })))),
    ];

    await waitFor("all 21 jobs to succeed", async () => (await overseer.countJobs()).succeeded === jobs.length, {
      timeoutMs: 15_000,
      intervalMs: 50,
    });
    const doneAt = Date.now();
    const succeededIds = () => new Set(seen.filter((e) => e.kind === "job.succeeded").map((e) => e.jobId));
    await waitFor("the follower to print every job.succeeded", () => succeededIds().size === jobs.length, {
      timeoutMs: 2_000,
    });
    expect(Date.now() - doneAt).toBeLessThan(2_000);
    expect(succeededIds()).toEqual(new Set(jobs.map((j) => j.id)));
    const succeeded = seen.filter((e) => e.kind === "job.succeeded");
    expect(succeeded).toHaveLength(jobs.length);
    for (const e of succeeded) {
      expect(e.arrived - Date.parse(e.at), `job.succeeded of ${e.jobId} reached node B late`).toBeLessThan(2_000);
    }
  });
});
