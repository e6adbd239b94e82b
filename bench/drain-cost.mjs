// Where a drain's time goes, for work on the hot path: Overseer on PostgreSQL (or on SQLite with
// BENCH_COST_DATABASE=sqlite) enqueues BENCH_JOBS jobs in bulk, then one worker in this process
// (concurrency BENCH_COST_CONCURRENCY, 10; prefetch BENCH_COST_PREFETCH, or the default) drains them, BENCH_RUNS times. Per
// run it prints jobs/s, the CPU time PostgreSQL's processes and this process spent per job (read
// from /proc: Linux only), and for PostgreSQL the statements the drain sent (round trips per job,
// and the most frequent ones by their first words). No peer runs and BENCHMARKS.md is left alone.
// BENCH_COST_SQL: statements run in the database (on PostgreSQL, in its schema) once it is migrated,
// before the enqueue, to try a change to it (an index dropped, a storage parameter) without a migration.
//
//   npm run build && node bench/drain-cost.mjs
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import Database from "better-sqlite3";
import pg from "pg";
import { config } from "./lib.mjs";

const SCHEMA = "bench_drain_cost";
const backend = process.env.BENCH_COST_DATABASE === "sqlite" ? "sqlite" : "postgres";
const concurrency = Number(process.env.BENCH_COST_CONCURRENCY ?? 10);
const prefetch = process.env.BENCH_COST_PREFETCH === undefined ? undefined : Number(process.env.BENCH_COST_PREFETCH);
const JOBS = config.jobs;

/**
 * Every query a pg client sends, by its first words (a batch of statements counts once: one round
 * trip): how many, and the milliseconds from sending each to its answer (the queue of its
 * connection included).
 */
const sent = new Map();
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (text, ...rest) {
  const sql = typeof text === "string" ? text : (text?.name ?? text?.text ?? "");
  const key = sql
    .replace(/[\s(]+/g, " ")
    .trim()
    .split(" ", 4)
    .join(" ");
  const entry = sent.get(key) ?? { n: 0, ms: 0 };
  sent.set(key, entry);
  entry.n++;
  const t0 = performance.now();
  const out = query.call(this, text, ...rest);
  if (out && typeof out.then === "function") {
    const done = () => {
      entry.ms += performance.now() - t0;
    };
    out.then(done, done);
  }
  return out;
};

/** CPU seconds (user and system) of the PostgreSQL server's processes, from /proc. */
function postgresCpuSeconds() {
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // it ended meanwhile
    }
    if (!stat.includes("(postgres)")) continue;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / 100;
}

const ownCpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

async function drainOnce(createOverseer, noop) {
  const admin = new pg.Client({ connectionString: config.pgUrl });
  let dir = null;
  let overseer = null;
  try {
    let database;
    if (backend === "postgres") {
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}`);
      const url = new URL(config.pgUrl);
      url.searchParams.set("options", `-c search_path=${SCHEMA}`);
      database = url.toString();
    } else {
      dir = mkdtempSync(join(tmpdir(), "overseer-drain-cost-"));
      database = join(dir, "overseer.db");
    }
    overseer = await createOverseer({ database, tasks: [noop] });
    if (process.env.BENCH_COST_SQL && backend === "postgres") {
      await admin.query(`SET search_path = ${SCHEMA}; ${process.env.BENCH_COST_SQL}`);
    } else if (process.env.BENCH_COST_SQL) {
      const db = new Database(database);
      db.exec(process.env.BENCH_COST_SQL);
      db.close();
    }
    for (let i = 0; i < JOBS; i += config.bulkBatch) {
      const n = Math.min(config.bulkBatch, JOBS - i);
      await overseer.enqueueMany(Array.from({ length: n }, (_, k) => ({ task: "noop", payload: { i: i + k } })));
    }
    sent.clear();
    const cpu0 = { pg: backend === "postgres" ? postgresCpuSeconds() : 0, own: ownCpuSeconds() };
    const t0 = performance.now();
    const worker = overseer.worker({ concurrency, ...(prefetch === undefined ? {} : { prefetch }) });
    await worker.start();
    // Polled sparingly: each count is a query of its own, on the database the drain works.
    while ((await overseer.countJobs()).succeeded < JOBS) {
      if (performance.now() - t0 > config.scenarioTimeoutMs) throw new Error("the drain did not finish in time");
      await new Promise((r) => setTimeout(r, 100));
    }
    const ms = performance.now() - t0;
    const pgCpu = backend === "postgres" ? postgresCpuSeconds() - cpu0.pg : 0;
    const ownCpu = ownCpuSeconds() - cpu0.own;
    await worker.stop();
    const trips = [...sent.values()].reduce((a, b) => a + b.n, 0);
    return { ms, pgCpu, ownCpu, trips, top: [...sent.entries()].sort((a, b) => b[1].n - a[1].n).slice(0, 8) };
  } finally {
    try {
      await overseer?.close();
    } finally {
      if (backend === "postgres") {
        await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => undefined);
        await admin.end().catch(() => undefined);
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }
}

const { createOverseer, defineTask } = await import("../dist/index.js");
const noop = defineTask("noop", async () => undefined);
console.log(
  `drain cost: ${JOBS.toLocaleString("en-US")} jobs on ${backend}, concurrency ${concurrency}, ${config.runs} run(s)`,
);
for (let run = 1; run <= config.runs; run++) {
  const r = await drainOnce(createOverseer, noop);
  const perJob = (seconds) => `${((seconds * 1e6) / JOBS).toFixed(0)} µs`;
  console.log(
    `run ${run}: ${Math.round((JOBS / r.ms) * 1000).toLocaleString("en-US")} jobs/s; CPU per job: ` +
      `${backend === "postgres" ? `PostgreSQL ${perJob(r.pgCpu)}, ` : ""}this process ${perJob(r.ownCpu)}` +
      (backend === "postgres" ? `; ${(r.trips / JOBS).toFixed(3)} round trips per job` : ""),
  );
  if (backend === "postgres" && run === config.runs) {
    for (const [key, { n, ms }] of r.top) {
      console.log(`  ${String(n).padStart(7)} ${`${Math.round(ms)} ms`.padStart(9)}  ${key}`);
    }
  }
}
