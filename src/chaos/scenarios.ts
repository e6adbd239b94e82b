/**
 * The chaos scenarios, each written once for both backends: real processes (the fixtures in
 * test-support and the built CLI) on one database, killed with SIGKILL at chosen moments. Each
 * prints its counts (see tally.ts) and returns them for the test to judge. Bounded: a fixed
 * number of jobs and processes, and every wait has a deadline.
 */

import type { ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Attempt, Job } from "../core/types.js";
import type { Overseer } from "../sdk/overseer.js";
import { type Fixture, startFixture } from "../test-support/child-processes.js";
import { type LogLine, readLog } from "../test-support/execution-log.js";
import { sleep, waitFor } from "../test-support/wait.js";
import type { ChaosBackend } from "./backends.js";
import { formatCounts, type Tally, tally, type WorkerLog } from "./tally.js";

const CONCURRENCY = 5;
const LEASE = { leaseMs: 1_500, heartbeatMs: 300, maintenanceMs: 100, pollMs: 200 };
/** How long a scenario waits for every job to settle after its kills. */
const SETTLE_MS = 30_000;

export interface Outcome extends Tally {
  line: string;
  /** Jobs the killed workers held (claimed, not started) when they died. */
  heldAtKill: number;
}

interface Running {
  name: string;
  log: string;
  fixture: Fixture;
  workerId: string;
  diedAt: number | null;
}

/**
 * Worker processes drain a queue; all but the last stall (their handlers stop finishing once each
 * has finished a few) and are SIGKILLed with every slot busy and, with prefetch, jobs held that
 * never started. The last one finishes everything once the dead workers' leases expire.
 */
export async function killWorkersMidDrain(backend: ChaosBackend, prefetch: number): Promise<Outcome> {
  const place = await backend.fresh();
  const jobs = 400;
  const names = ["A", "B", "C"].slice(0, backend.workers);
  const kills = names.length - 1;
  const workers: Running[] = names.map((name, i) => {
    const log = join(place.dir, `worker-${name}.log`);
    const fixture = startFixture("worker-process.mjs", {
      database: place.database,
      log,
      minMs: 5,
      maxMs: 25,
      stallAfter: i < kills ? stallAfter(i) : undefined,
      worker: { concurrency: CONCURRENCY, prefetch, ...LEASE },
    });
    return { name, log, fixture, workerId: "", diedAt: null };
  });
  for (const w of workers) w.workerId = (await w.fixture.waitForLine("ready ")).slice("ready ".length);
  const enqueued = await place.overseer.enqueueMany(
    Array.from({ length: jobs }, (_, i) => ({ task: "work", payload: { i } })),
  );

  let heldAtKill = 0;
  for (const [i, w] of workers.slice(0, kills).entries()) {
    // Every slot busy with a stalled handler (so no start is in flight) and the hold full.
    const leased = await waitFor(
      `worker ${w.name} to stall with ${CONCURRENCY} running and ${prefetch} held`,
      async () => {
        if (stalledHandlers(readLog(w.log), stallAfter(i)) < CONCURRENCY) return 0;
        const mine = (await place.overseer.listJobs({ states: ["running"], limit: 1_000 })).filter(
          (j) => j.leaseOwner === w.workerId,
        ).length;
        return mine === CONCURRENCY + prefetch ? mine : 0;
      },
      { timeoutMs: 20_000, intervalMs: 20 },
    );
    heldAtKill += leased - CONCURRENCY;
    w.fixture.kill("SIGKILL");
    w.diedAt = (await w.fixture.exited).at;
  }

  await settle(place.overseer, jobs);
  const survivor = workers.at(-1) as Running;
  survivor.fixture.kill("SIGTERM");
  survivor.diedAt = (await survivor.fixture.exited).at;

  const result = await judge(
    place.overseer,
    enqueued.map((j) => j.id),
    workers,
  );
  const line = formatCounts(
    `${backend.name}: ${kills} of ${names.length} workers SIGKILLed mid-drain, ${prefetch ? `prefetch ${prefetch}` : "no prefetch"}`,
    result.counts,
    { "held at kill": heldAtKill },
  );
  console.log(line);
  return { ...result, line, heldAtKill };
}

/**
 * A producer enqueues as fast as it can and prints each id `enqueue` returned; it is SIGKILLed
 * mid-enqueue. Every printed (acknowledged) id must be in the store; then a worker runs them all.
 */
export async function killProducerMidEnqueue(backend: ChaosBackend): Promise<Outcome & { acknowledged: number }> {
  const place = await backend.fresh();
  const producer = startFixture("producer-process.mjs", { database: place.database, task: "work" });
  await producer.waitForLine("ready");
  await waitFor("200 acknowledged enqueues", () => producer.lines.length > 200, { timeoutMs: 20_000 });
  producer.kill("SIGKILL");
  await producer.exited;
  const acknowledged = producer.lines.slice(1);
  // At most one more job is stored than acknowledged: the kill can land between commit and print.
  const stored = (await place.overseer.countJobs()).queued;

  const log = join(place.dir, "worker.log");
  const fixture = startFixture("worker-process.mjs", {
    database: place.database,
    log,
    minMs: 0,
    maxMs: 0,
    worker: { concurrency: CONCURRENCY, ...LEASE },
  });
  const worker: Running = { name: "W", log, fixture, workerId: "", diedAt: null };
  worker.workerId = (await fixture.waitForLine("ready ")).slice("ready ".length);
  await settle(place.overseer, stored);
  fixture.kill("SIGTERM");
  worker.diedAt = (await fixture.exited).at;

  const result = await judge(place.overseer, acknowledged, [worker]);
  const unacknowledged = stored - acknowledged.length;
  if (unacknowledged < 0 || unacknowledged > 1) {
    result.problems.push(`${stored} jobs stored for ${acknowledged.length} acknowledged enqueues`);
  }
  const line = formatCounts(`${backend.name}: producer SIGKILLed mid-enqueue`, result.counts, {
    acknowledged: acknowledged.length,
    "stored but unacknowledged": unacknowledged,
  });
  console.log(line);
  return { ...result, line, heldAtKill: 0, acknowledged: acknowledged.length };
}

export interface ScheduleOutcome {
  line: string;
  ticks: number;
  missing: number;
  twice: number;
  problems: string[];
}

/**
 * Two `overseer worker` processes with the same every-second schedule run side by side for
 * `seconds`: every tick in that span must be enqueued exactly once (none missing, none twice),
 * and each tick job must run once.
 */
export async function twoSchedulers(
  backend: ChaosBackend,
  cli: { start(args: string[]): ChildProcess; run(args: string[]): Promise<{ code: number | null }> },
  seconds = 6,
): Promise<ScheduleOutcome> {
  const place = await backend.fresh();
  mkdirSync(join(place.dir, "tasks"));
  writeFileSync(join(place.dir, "tasks", "tick.mjs"), "export default async () => null;\n");
  const config = join(place.dir, "overseer.config.yaml");
  writeFileSync(config, "schedules:\n  every-second:\n    cron: '* * * * * *'\n    task: tick\n    catchUp: 5\n");
  const args = ["--database", place.database, "--config", config, "--log-level", "silent", "worker"];
  const nodes = [0, 1].map(() => cli.start([...args, "--tasks", join(place.dir, "tasks")]));
  const errors = nodes.map((n) => {
    const out = { err: "" };
    n.stderr?.on("data", (d) => {
      out.err += d;
    });
    return out;
  });
  await sleep(seconds * 1_000);
  const exits = nodes.map((n) => new Promise<number | null>((r) => n.on("close", r)));
  for (const n of nodes) n.kill("SIGTERM");
  const codes = await Promise.all(exits);
  const problems: string[] = [];
  for (const [i, code] of codes.entries()) {
    if (code !== 0) problems.push(`scheduler ${i} exited ${code}: ${errors[i]?.err}`);
  }

  const jobs = await place.overseer.listJobs({ limit: 1_000 });
  const ticks = jobs.map((j) => Date.parse(j.runAt)).sort((x, y) => x - y);
  const distinct = [...new Set(ticks)];
  const first = distinct[0] ?? 0;
  const last = distinct.at(-1) ?? 0;
  const span = distinct.length === 0 ? 0 : (last - first) / 1_000 + 1;
  const missing = span - distinct.length;
  const twice = ticks.length - distinct.length;
  if (missing > 0) problems.push(`${missing} ticks between the first and the last were never enqueued`);
  if (twice > 0) problems.push(`${twice} ticks were enqueued twice`);
  if (ticks.some((t) => t % 1_000 !== 0)) problems.push("a tick is not on a whole second");
  // About `seconds` of ticks; start-up on a busy machine and the partial last second may cut a few.
  if (distinct.length < seconds - 3) problems.push(`only ${distinct.length} ticks in ${seconds} s`);
  let ranTwice = 0;
  for (const job of jobs) {
    const started = (await place.overseer.readEvents({ jobId: job.id })).filter((e) => e.kind === "job.started");
    if (started.length > 1) ranTwice++;
  }
  if (ranTwice > 0) problems.push(`${ranTwice} tick jobs started more than once`);
  const line = `chaos | ${backend.name}: two schedulers, one tick a second for ${seconds} s: ${distinct.length} ticks, missing ${missing}, enqueued twice ${twice}, ran twice ${ranTwice}`;
  console.log(line);
  return { line, ticks: distinct.length, missing, twice, problems };
}

/** After how many finished handlers the i-th worker to be killed stalls. */
function stallAfter(i: number): number {
  return 15 * (i + 1);
}

/**
 * Handlers that started after the worker fixture's `stallAfter`-th end: they never finish. The
 * fixture counts an end right after logging it, so every start logged after that line stalls.
 */
function stalledHandlers(lines: readonly LogLine[], after: number): number {
  let ends = 0;
  let stalled = 0;
  for (const line of lines) {
    if (line.what === "end") ends++;
    else if (line.what === "start" && ends >= after) stalled++;
  }
  return stalled;
}

/** Waits until `n` jobs are finished one way or another, or the deadline passes (the tally then counts the rest as lost). */
async function settle(overseer: Overseer, n: number): Promise<void> {
  const deadline = Date.now() + SETTLE_MS;
  while (Date.now() < deadline) {
    const c = await overseer.countJobs();
    if (c.succeeded + c.dead + c.cancelled >= n) return;
    await sleep(50);
  }
}

async function judge(overseer: Overseer, expected: readonly string[], workers: readonly Running[]): Promise<Tally> {
  const all = await overseer.listJobs({ limit: 10_000 });
  const jobs = new Map<string, Job | null>(expected.map((id) => [id, null]));
  for (const job of all) jobs.set(job.id, job);
  const attempts = new Map<string, Attempt[]>();
  for (const job of all) attempts.set(job.id, await overseer.listAttempts(job.id));
  const logs: WorkerLog[] = workers.map((w) => ({
    name: w.name,
    workerId: w.workerId,
    lines: readLog(w.log),
    diedAt: w.diedAt ?? Date.now(),
  }));
  return tally(expected, jobs, attempts, logs);
}
