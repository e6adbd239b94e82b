// Cost as history grows: Overseer on SQLite and on PostgreSQL, first on an empty database, then
// on the same database once BENCH_HISTORY_JOBS (1,000,000) finished jobs are kept in it, each
// with its attempt and its three events (enqueued, started, succeeded), as a store that has run
// for a while and keeps its history holds them. Each phase measures, BENCH_HISTORY_REPS (3)
// times, in this process (worker included, with its default settings):
//   - enqueue one at a time (BENCH_HISTORY_ONE, 2,000 jobs), bulk enqueue (BENCH_JOBS in
//     batches of 1,000), and a drain of them all at concurrency 10 (after one pass not counted);
// and, on the kept history, the requests of the dashboard's first load through `overseer start`
// (loopback, BENCH_HISTORY_REQUESTS (20) each after 3 warm-ups: p50 and max against 300 ms).
// Goal: every figure on the kept history within 80% of the empty database's (medians).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, stopServer } from "./dashboard-load.mjs";
import { config, now, percentile, sleep } from "./lib.mjs";

const HISTORY_JOBS = config.historyJobs;
const REPS = config.historyReps;
const ONE = config.historyOne;
const REQUESTS = config.historyRequests;
const BUDGET_MS = 300;
const KEEP = 0.8;
const PG_SCHEMA = "bench_history";

/** The dashboard's first load: the overview, the Jobs page and its filters, the events page. */
const FIRST_LOAD = [
  ["stats (the overview's hour)", "/api/v1/stats?minutes=60"],
  ["queues", "/api/v1/queues"],
  ["workers", "/api/v1/workers"],
  ["jobs, unfiltered", "/api/v1/jobs?limit=50"],
  ["jobs, state=succeeded", "/api/v1/jobs?limit=50&state=succeeded"],
  ["jobs, state=dead", "/api/v1/jobs?limit=50&state=dead"],
  ["jobs, task=history", "/api/v1/jobs?limit=50&task=history"],
  ["jobs, queue=default", "/api/v1/jobs?limit=50&queue=default"],
  ["events, newest (the Events page)", "/api/v1/events?limit=200"],
];

/** SQL that writes `n` finished jobs (ids sorting before any new one), their attempts and events, ending `endMs` ago. */
function seedStatements(dialect, n, endAt) {
  const series =
    dialect === "postgres"
      ? `generate_series(1, ${n}) AS g(n)`
      : `(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${n}) SELECT n FROM s) AS g`;
  const pad = dialect === "postgres" ? "lpad(g.n::text, 24, '0')" : "substr('000000000000000000000000' || g.n, -24)";
  // One job a second of the last n seconds, 20 ms each: the oldest first.
  const created = `${endAt} - (${n} - g.n) * CAST(1000 AS BIGINT)`;
  return [
    `INSERT INTO jobs (id, task, queue, state, payload, result, priority, run_at, attempts, max_attempts, backoff,
       lease_token, created_at, started_at, finished_at, version)
     SELECT '00' || ${pad}, 'history', 'default', 'succeeded', '{"i":' || g.n || '}', 'null', 0, ${created}, 1, 3,
       '{"type":"exponential","baseMs":1000,"capMs":3600000,"jitter":0.2}', 1, ${created}, ${created} + 5, ${created} + 25, 3
     FROM ${series}`,
    `INSERT INTO attempts (job_id, number, worker_id, started_at, finished_at, outcome)
     SELECT '00' || ${pad}, 1, 'history-worker', ${created} + 5, ${created} + 25, 'succeeded' FROM ${series}`,
    `INSERT INTO events (at, kind, job_id, worker_id, data)
     SELECT ${created} + k.d, k.kind, '00' || ${pad}, k.worker, k.data
     FROM ${series} CROSS JOIN (
       SELECT 0 AS d, 'job.enqueued' AS kind, NULL AS worker, '{"task":"history","queue":"default"}' AS data
       UNION ALL SELECT 5, 'job.started', 'history-worker', '{"attempt":1,"task":"history"}'
       UNION ALL SELECT 25, 'job.succeeded', 'history-worker', '{"attempt":1,"durationMs":20}') AS k
     ORDER BY g.n, k.d`,
  ];
}

async function seed(backend, n) {
  const endAt = Date.now() - 60_000;
  const statements = seedStatements(backend.dialect, n, endAt);
  if (backend.dialect === "postgres") {
    const { withClient } = await import("./systems/pg-util.mjs");
    await withClient(async (c) => {
      await c.query(`SET search_path = "${PG_SCHEMA}"`);
      for (const s of statements) await c.query(s);
      // What autovacuum does to a table that grew this much; a store that grew slowly has had it done.
      await c.query("VACUUM ANALYZE jobs");
      await c.query("VACUUM ANALYZE events");
      await c.query("VACUUM ANALYZE attempts");
    });
  } else {
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(backend.database);
    try {
      db.transaction(() => {
        for (const s of statements) db.prepare(s).run();
      })();
    } finally {
      db.close();
    }
  }
}

async function measure(database) {
  const { createOverseer, defineTask } = await import("../dist/index.js");
  let handled = 0;
  let target = 0;
  let done = () => undefined;
  const overseer = await createOverseer({
    database,
    tasks: [
      defineTask("noop", async () => {
        handled++;
        if (handled === target) done();
      }),
    ],
  });
  const out = { enqueueOne: [], enqueueBulk: [], drain: [] };
  try {
    // One pass first, not counted: it warms up the code and the database's caches.
    for (let rep = -1; rep < REPS; rep++) {
      const record = (key, value) => rep >= 0 && out[key].push(value);
      let t0 = now();
      for (let i = 0; i < ONE; i++) await overseer.enqueue("noop", { i });
      record("enqueueOne", (ONE / (now() - t0)) * 1000);
      // The jobs just enqueued one at a time are drained with the rest.
      t0 = now();
      for (let start = 0; start < config.jobs; start += config.bulkBatch) {
        const batch = [];
        for (let i = start; i < Math.min(config.jobs, start + config.bulkBatch); i++) {
          batch.push({ task: "noop", payload: { i } });
        }
        await overseer.enqueueMany(batch);
      }
      record("enqueueBulk", (config.jobs / (now() - t0)) * 1000);
      globalThis.gc?.();
      handled = 0;
      target = ONE + config.jobs;
      const all = new Promise((resolve) => {
        done = resolve;
      });
      t0 = now();
      const worker = overseer.worker({ concurrency: 10 });
      await worker.start();
      await all;
      // Until every outcome is recorded: an indexed read, where counting every job would scan the history.
      while ((await overseer.listJobs({ states: ["queued", "running"], limit: 1 })).length > 0) await sleep(5);
      record("drain", (target / (now() - t0)) * 1000);
      await worker.stop();
    }
  } finally {
    await overseer.close();
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, percentile(v, 50)]));
}

async function firstLoad(database, dir) {
  const { createOverseer } = await import("../dist/index.js");
  const { createToken } = await import("../dist/http/index.js");
  const admin = await createOverseer({ database });
  let secret;
  try {
    ({ secret } = await createToken(admin.store, "bench-history", "admin"));
  } finally {
    await admin.close();
  }
  const { child, url } = await startServer(dir, database, "noop");
  try {
    const rows = [];
    for (const [name, path] of FIRST_LOAD) {
      const times = [];
      for (let i = 0; i < 3 + REQUESTS; i++) {
        const t0 = now();
        const res = await fetch(`${url}${path}`, {
          headers: { authorization: `Bearer ${secret}`, accept: "application/json" },
        });
        const body = await res.text();
        if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${body.slice(0, 200)}`);
        if (i >= 3) times.push(now() - t0);
      }
      rows.push({ name, path, p50: percentile(times, 50), max: Math.max(...times) });
    }
    return rows;
  } finally {
    await stopServer(child);
  }
}

/** Both backends: empty, then with the history kept. */
export async function runHistory(log) {
  const { pgUrlForSchema } = await import("./systems/overseer.mjs");
  const { withClient, dropSchema } = await import("./systems/pg-util.mjs");
  const results = [];
  for (const dialect of ["sqlite", "postgres"]) {
    const dir = mkdtempSync(join(tmpdir(), "overseer-bench-history-"));
    const backend =
      dialect === "sqlite"
        ? { dialect, label: "SQLite", database: join(dir, "history.db") }
        : { dialect, label: "PostgreSQL", database: pgUrlForSchema(PG_SCHEMA) };
    try {
      if (dialect === "postgres") {
        await withClient((c) => c.query(`DROP SCHEMA IF EXISTS "${PG_SCHEMA}" CASCADE; CREATE SCHEMA "${PG_SCHEMA}"`));
      }
      log(`history: ${backend.label}, empty database...`);
      const empty = await measure(backend.database);
      const t0 = now();
      await seed(backend, HISTORY_JOBS);
      const seedSec = (now() - t0) / 1000;
      log(
        `history: ${backend.label}, ${HISTORY_JOBS.toLocaleString("en-US")} finished jobs kept (seeded in ${seedSec.toFixed(0)} s)...`,
      );
      const kept = await measure(backend.database);
      const requests = await firstLoad(backend.database, dir);
      results.push({ backend: backend.label, empty, kept, requests, seedSec });
      log(
        `history: ${backend.label}: drain ${Math.round(kept.drain)} vs ${Math.round(empty.drain)} jobs/s, ` +
          `enqueue ${Math.round(kept.enqueueOne)} vs ${Math.round(empty.enqueueOne)}/s, ` +
          `first load max ${Math.max(...requests.map((r) => r.max)).toFixed(1)} ms`,
      );
    } finally {
      if (dialect === "postgres") await dropSchema(PG_SCHEMA);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { historyJobs: HISTORY_JOBS, reps: REPS, one: ONE, jobs: config.jobs, results };
}

const int = (v) => Math.round(v).toLocaleString("en-US");

export const HISTORY_HEADING = "## Cost as history grows";

/** The section of BENCHMARKS.md. */
export function renderHistory(history) {
  const lines = [HISTORY_HEADING, ""];
  if (!history?.ok) {
    lines.push(`Not measured: ${history?.error ?? "skipped (BENCH_HISTORY=0)"}.`, "");
    return lines.join("\n");
  }
  lines.push(
    `Overseer on an empty database, then on the same database keeping ${int(history.historyJobs)} finished jobs with`,
    "their attempts and three events each (medians of",
    `${history.reps} repetitions, in one process with the worker's default settings: enqueue ${int(history.one)} one at a time,`,
    `${int(history.jobs)} in bulk, then drain them all at concurrency 10). Goal: every figure with history at least`,
    `${KEEP * 100}% of the empty database's, and each request of the dashboard's first load under ${BUDGET_MS} ms.`,
    "",
    "| Backend | Figure | Empty | With history | With history / empty |",
    "| --- | --- | ---: | ---: | ---: |",
  );
  for (const r of history.results) {
    for (const [key, name] of [
      ["enqueueOne", "Enqueue one at a time (jobs/s)"],
      ["enqueueBulk", "Bulk enqueue (jobs/s)"],
      ["drain", "Drain, concurrency 10 (jobs/s)"],
    ]) {
      const ratio = r.kept[key] / r.empty[key];
      lines.push(
        `| ${r.backend} | ${name} | ${int(r.empty[key])} | ${int(r.kept[key])} | ${ratio.toFixed(2)}${ratio >= KEEP ? "" : " (below the goal)"} |`,
      );
    }
  }
  lines.push("", "The dashboard's first load with the history kept (ms, loopback, server and client together):", "");
  lines.push(`| Request | ${history.results.map((r) => `${r.backend} p50 | ${r.backend} max`).join(" | ")} |`);
  lines.push(`| --- | ${history.results.map(() => "---: | ---:").join(" | ")} |`);
  for (const [i, [name, path]] of FIRST_LOAD.entries()) {
    const cells = history.results.map((r) => {
      const row = r.requests[i];
      return `${row.p50.toFixed(1)} | ${row.max.toFixed(1)}${row.max < BUDGET_MS ? "" : " (over budget)"}`;
    });
    lines.push(`| ${name} (\`${path}\`) | ${cells.join(" | ")} |`);
  }
  lines.push("");
  return lines.join("\n");
}
