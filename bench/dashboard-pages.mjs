// The dashboard's first load at scale: on SQLite and on PostgreSQL, a store keeping
// BENCH_PAGES_JOBS (1,000,000) jobs of the last 7 days with their attempts and events (mostly
// succeeded, some dead, cancelled, queued, scheduled and running; 6 queues, 20 tasks), written by
// bulk SQL into the schema the store's own migrations made; then a real `overseer start` on it,
// and every dashboard page's first-load API requests, sent together as the page sends them,
// BENCH_PAGES_REPS (10) times after 2 warm-ups. The figure is the server's time per request (its
// `Server-Timing` header: from the request's arrival to its serialized answer), median and max,
// against a 300 ms budget. Seeding is timed and reported, not counted.
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, stopServer } from "./dashboard-load.mjs";
import { config, now, percentile } from "./lib.mjs";

const BUDGET_MS = 300;
const WARMUPS = 2;
const DAY_MS = 24 * 60 * 60 * 1000;
const SPAN_MS = 7 * DAY_MS;
const PG_SCHEMA = "bench_pages";

/** Queues and tasks of the seeded store, with their shares (queues in percent, tasks per mille). */
const QUEUES = [
  ["default", 35],
  ["email", 25],
  ["billing", 15],
  ["reports", 10],
  ["media", 10],
  ["webhooks", 5],
];
const TASKS = [
  ["email.send", 200],
  ["email.digest", 80],
  ["image.resize", 120],
  ["image.thumbnail", 60],
  ["video.transcode", 20],
  ["report.build", 60],
  ["report.export", 30],
  ["billing.charge", 80],
  ["billing.refund", 15],
  ["billing.invoice", 40],
  ["webhook.deliver", 100],
  ["webhook.retry", 20],
  ["crm.sync", 40],
  ["crm.enrich", 25],
  ["search.index", 45],
  ["search.reindex", 5],
  ["cache.warm", 25],
  ["audit.archive", 10],
  ["user.cleanup", 20],
  ["ml.score", 5],
];
/** The task a filter finds rarely (0.5% of the jobs) and the queue the Jobs page's queue filter asks for. */
const RARE_TASK = "ml.score";
const SOME_QUEUE = "reports";

/**
 * State by `n % 1000`: 92% succeeded, 3% dead, 1% cancelled, 2.5% queued, 1.4% scheduled (due in
 * two days or more, so none comes due during the run), 0.1% running (held by a worker that is gone,
 * its lease far in the future, so nothing recovers them during the run).
 */
const STATE_SQL = `CASE
  WHEN g.n % 1000 < 920 THEN 'succeeded'
  WHEN g.n % 1000 < 950 THEN 'dead'
  WHEN g.n % 1000 < 960 THEN 'cancelled'
  WHEN g.n % 1000 < 985 THEN 'queued'
  WHEN g.n % 1000 < 999 THEN 'scheduled'
  ELSE 'running' END`;

/**
 * Each page of the dashboard with the API requests its first load sends (together, as the page
 * does), taken from dashboard/src/pages and app.tsx; `ctx` holds ids read from the seeded store.
 * Every page also sends `/whoami` and `/attention` (the app shell and its navigation's badges,
 * their own row here) and opens the event stream, which is not timed.
 */
const PAGES = [
  {
    page: "App shell (every page)",
    requests: [
      ["whoami", "/whoami"],
      ["nav badges", "/attention"],
    ],
  },
  {
    page: "Overview `/`",
    requests: [
      ["stats, the hour", "/stats?minutes=60"],
      ["queues", "/queues"],
      ["workers", "/workers"],
      ["attention", "/attention"],
    ],
  },
  {
    page: "Jobs `/jobs`",
    requests: [
      ["jobs", "/jobs?limit=25"],
      ["count", "/jobs/count"],
      ["queues (picker)", "/queues"],
      ["tasks (picker)", "/tasks"],
    ],
  },
  {
    page: "Jobs, state=dead",
    requests: [
      ["jobs", "/jobs?state=dead&limit=25"],
      ["count", "/jobs/count?state=dead"],
    ],
  },
  { page: "Jobs, state=succeeded, count", requests: [["count", "/jobs/count?state=succeeded"]] },
  { page: "Jobs, state=succeeded", requests: [["jobs", "/jobs?state=succeeded&limit=25"]] },
  { page: "Jobs, state=queued", requests: [["jobs", "/jobs?state=queued&limit=25"]] },
  { page: `Jobs, queue=${SOME_QUEUE}`, requests: [["jobs", `/jobs?queue=${SOME_QUEUE}&limit=25`]] },
  { page: `Jobs, task=${RARE_TASK} (0.5%)`, requests: [["jobs", `/jobs?task=${RARE_TASK}&limit=25`]] },
  {
    page: `Jobs, queue=${SOME_QUEUE}&state=dead`,
    requests: [["jobs", `/jobs?queue=${SOME_QUEUE}&state=dead&limit=25`]],
  },
  { page: "Jobs, oldest first", requests: [["jobs", "/jobs?order=asc&limit=25"]] },
  { page: "Jobs, next page", requests: [["jobs", (c) => `/jobs?limit=25&cursor=${c.cursor}`]] },
  {
    page: "Job detail `/jobs/:id` (a dead job)",
    requests: [
      ["job", (c) => `/jobs/${c.deadJob}`],
      ["retry preview", (c) => `/jobs/${c.deadJob}/retry-preview`],
      ["steps", (c) => `/jobs/${c.deadJob}/steps`],
      ["similar lessons", (c) => `/lessons/similar?jobId=${c.deadJob}&limit=3`],
    ],
  },
  {
    page: "Runs `/runs`",
    requests: [
      ["runs", "/runs?limit=25"],
      ["count", "/runs/count"],
      ["profiles", "/runs/profiles"],
    ],
  },
  {
    page: "Metrics `/stats`, 7 days",
    requests: [["series, every queue and task", "/stats/series?range=7d"]],
  },
  { page: "Metrics, 24 hours", requests: [["series", "/stats/series?range=24h"]] },
  { page: "Metrics, 6 hours", requests: [["series", "/stats/series?range=6h"]] },
  { page: "Metrics, 1 hour", requests: [["series", "/stats/series?range=1h"]] },
  {
    page: `Metrics, 24 hours, queue=${SOME_QUEUE}`,
    requests: [["series", `/stats/series?range=24h&queue=${SOME_QUEUE}`]],
  },
  {
    page: `Metrics, 7 days, queue=${SOME_QUEUE}`,
    requests: [["series", `/stats/series?range=7d&queue=${SOME_QUEUE}`]],
  },
  {
    page: "Approvals `/approvals`",
    requests: [
      ["pending", "/approvals?state=pending&limit=200"],
      ["settled", "/approvals?state=settled&limit=100"],
    ],
  },
  {
    page: "Alerts `/alerts`",
    requests: [
      ["open", "/alerts?status=open&limit=200"],
      ["closed", "/alerts?status=closed&limit=50"],
      ["heartbeats", "/heartbeats"],
    ],
  },
  {
    page: "On call `/oncall`",
    requests: [
      ["status", "/oncall"],
      ["overrides", "/oncall/overrides?limit=20"],
    ],
  },
  {
    page: "Claims `/claims`",
    requests: [
      ["newest history", "/claim-history?limit=200"],
      ["history page", "/claim-history?limit=50"],
      ["claims", "/claims"],
    ],
  },
  { page: "Queues `/queues`", requests: [["queues", "/queues"]] },
  { page: "Workers `/workers`", requests: [["workers", "/workers"]] },
  {
    page: "Worker detail `/workers/:id`",
    requests: [["worker", (c) => `/workers/${c.worker}`]],
  },
  { page: "Schedules `/schedules`", requests: [["schedules", "/schedules"]] },
  { page: "Events `/events`", requests: [["events", "/events?limit=200"]] },
];

/** `CASE` choosing a name by `expr` (0..total-1) from a list of [name, share]. */
function pickSql(shares, expr) {
  let upTo = 0;
  const arms = shares.map(([name, share]) => {
    upTo += share;
    return `WHEN ${expr} < ${upTo} THEN '${name}'`;
  });
  return `CASE ${arms.join(" ")} ELSE '${shares[0][0]}' END`;
}

/**
 * The statements writing `n` jobs created over the 7 days ending at `endAt`, the oldest first (ids
 * sorting before any new job's), with their attempts and events, as a store that ran them keeps them.
 */
function seedStatements(dialect, n, endAt) {
  const series =
    dialect === "postgres"
      ? `generate_series(CAST(1 AS BIGINT), ${n}) AS g(n)`
      : `(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${n}) SELECT n FROM s) AS g`;
  const pad = dialect === "postgres" ? "lpad(g.n::text, 24, '0')" : "substr('000000000000000000000000' || g.n, -24)";
  const big = (v) => `CAST(${v} AS BIGINT)`;
  const created = `(${big(endAt - SPAN_MS)} + g.n * ${big(Math.floor(SPAN_MS / n))})`;
  const later = `${big(endAt)} + ${big(2 * DAY_MS)}`;
  const error = JSON.stringify({
    code: "HANDLER_ERROR",
    message: "upstream answered 503",
    retryable: true,
    stack: "Error: upstream answered 503",
  });
  // Per job: its number, state and times, read by the three statements below.
  const shaped = `SELECT g.n, ${STATE_SQL} AS state, ${created} AS created,
      ${pickSql(QUEUES, "(g.n * 7919) % 100")} AS queue, ${pickSql(TASKS, "(g.n * 104729) % 1000")} AS task,
      '00' || ${pad} AS id
    FROM ${series}`;
  const times = `SELECT j.*,
      CASE WHEN state = 'scheduled' THEN ${later} + (j.n % 3600) * 1000 ELSE created END AS run_at,
      CASE WHEN state IN ('succeeded','dead','running') THEN created + 5 + j.n % 500 END AS started_at,
      CASE WHEN state IN ('succeeded','dead') THEN created + 25 + j.n % 500 + (j.n % 50) * 7
           WHEN state = 'cancelled' THEN created + 60000 END AS finished_at,
      CASE state WHEN 'succeeded' THEN 1 WHEN 'running' THEN 1 WHEN 'dead' THEN 3 ELSE 0 END AS tries
    FROM (${shaped}) AS j`;
  return {
    jobs: `INSERT INTO jobs (id, task, queue, state, payload, result, priority, run_at, attempts, max_attempts, backoff,
        last_error, lease_owner, lease_token, lease_expires_at, created_at, started_at, finished_at, version)
      SELECT id, task, queue, state,
        '{"orderId":"ord-' || t.n || '","customer":"cus-' || (t.n % 5000) || '","amount":' || (t.n % 10000) || ',"region":"eu"}',
        CASE WHEN state = 'succeeded' THEN '{"ok":true}' END, 0, run_at, tries, 3,
        '{"type":"exponential","baseMs":1000,"capMs":3600000,"jitter":0.2}',
        CASE WHEN state = 'dead' THEN '${error}' END,
        CASE WHEN state = 'running' THEN 'bench-gone-worker' END,
        CASE WHEN state = 'running' THEN 1 ELSE 0 END,
        CASE WHEN state = 'running' THEN ${later} END,
        created, started_at, finished_at, 3
      FROM (${times}) AS t`,
    attempts: `INSERT INTO attempts (job_id, number, worker_id, started_at, finished_at, outcome, error)
      SELECT id, k.number, 'bench-gone-worker', started_at, CASE WHEN state = 'running' THEN NULL ELSE finished_at END,
        CASE WHEN state = 'running' THEN 'running' WHEN state = 'succeeded' THEN 'succeeded' ELSE 'failed' END,
        CASE WHEN state = 'dead' THEN '${error}' END
      FROM (${times}) AS t CROSS JOIN (SELECT 1 AS number UNION ALL SELECT 2 UNION ALL SELECT 3) AS k
      WHERE k.number <= t.tries`,
    // enqueued, started (each started job), and the end (succeeded, dead, cancelled), in time order.
    events: `INSERT INTO events (at, kind, job_id, worker_id, data)
      SELECT CASE k.step WHEN 0 THEN created WHEN 1 THEN started_at ELSE finished_at END,
        CASE k.step WHEN 0 THEN 'job.enqueued' WHEN 1 THEN 'job.started' ELSE 'job.' || state END,
        id, CASE WHEN k.step = 0 THEN NULL ELSE 'bench-gone-worker' END,
        CASE k.step WHEN 0 THEN '{"task":"' || task || '","queue":"' || queue || '"}'
          WHEN 1 THEN '{"attempt":1,"task":"' || task || '"}'
          ELSE '{"attempt":' || tries || ',"durationMs":' || (finished_at - coalesce(started_at, finished_at)) || '}' END
      FROM (${times}) AS t CROSS JOIN (SELECT 0 AS step UNION ALL SELECT 1 UNION ALL SELECT 2) AS k
      WHERE k.step = 0 OR (k.step = 1 AND started_at IS NOT NULL) OR (k.step = 2 AND finished_at IS NOT NULL)
      ORDER BY t.n, k.step`,
  };
}

/** Seeds the migrated store; returns the seconds each part took. */
async function seed(backend, n) {
  const endAt = Date.now() - 60_000;
  const statements = seedStatements(backend.dialect, n, endAt);
  const secs = {};
  const timed = async (name, fn) => {
    const t0 = now();
    const out = await fn();
    secs[name] = (now() - t0) / 1000;
    return out;
  };
  if (backend.dialect === "postgres") {
    const { withClient } = await import("./systems/pg-util.mjs");
    await withClient(async (c) => {
      await c.query(`SET search_path = "${PG_SCHEMA}"`);
      const run = (text) => c.query(text);
      for (const part of ["jobs", "attempts", "events"]) await timed(part, () => run(statements[part]));
      // What autovacuum does to tables that grew this much; a store that grew slowly has had it done.
      await timed("vacuum", async () => {
        for (const table of ["jobs", "attempts", "events"]) await run(`VACUUM ANALYZE ${table}`);
      });
    });
  } else {
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(backend.database);
    try {
      // One transaction, as one write: no ANALYZE, the store never runs it, so the planner works as in the field.
      db.exec("BEGIN");
      const run = async (text) => db.prepare(text).run();
      for (const part of ["jobs", "attempts", "events"]) await timed(part, () => run(statements[part]));
      await timed("commit", async () => db.exec("COMMIT"));
    } finally {
      if (db.inTransaction) db.exec("ROLLBACK");
      db.close();
    }
  }
  return secs;
}

/** What the report shows in place of the context's values. */
const PLACEHOLDERS = { cursor: "…", deadJob: ":id", worker: ":id" };

/** Ids the pages' requests need, read from the store and the running server. */
async function context(url, headers) {
  const get = async (path) => (await fetch(`${url}/api/v1${path}`, { headers })).json();
  const first = await get("/jobs?limit=25");
  const dead = await get("/jobs?state=dead&limit=1");
  const workers = await get("/workers");
  return { cursor: first.nextCursor, deadJob: dead.items[0]?.id, worker: workers.items[0]?.id ?? "none" };
}

/** One request: the server's time (its Server-Timing), the client's, and the status. */
async function timedGet(url, path, headers) {
  const t0 = now();
  const res = await fetch(`${url}/api/v1${path}`, { headers });
  const body = await res.text();
  const client = now() - t0;
  const timing = /app;dur=([\d.]+)/.exec(res.headers.get("server-timing") ?? "");
  return { status: res.status, body, client, server: timing ? Number(timing[1]) : null };
}

/** Every page's first load, REPS times after the warm-ups; per request the server's median and max. */
async function loadPages(url, token) {
  const headers = { authorization: `Bearer ${token}`, accept: "application/json" };
  const ctx = await context(url, headers);
  const pages = [];
  for (const { page, requests } of PAGES) {
    const paths = requests.map(([, path]) => (typeof path === "function" ? path(ctx) : path));
    // As the report shows them: the ids and the cursor read from the store as placeholders.
    const shown = requests.map(([, path]) => (typeof path === "function" ? path(PLACEHOLDERS) : path));
    const samples = requests.map(() => ({ server: [], client: [] }));
    const walls = [];
    for (let i = 0; i < WARMUPS + config.pagesReps; i++) {
      const t0 = now();
      const answers = await Promise.all(paths.map((p) => timedGet(url, p, headers)));
      const wall = now() - t0;
      for (const [j, a] of answers.entries()) {
        const [name] = requests[j];
        if (a.status !== 200) throw new Error(`${page}, ${name}: GET ${paths[j]}: ${a.status} ${a.body.slice(0, 200)}`);
        if (i < WARMUPS) continue;
        samples[j].server.push(a.server ?? a.client);
        samples[j].client.push(a.client);
      }
      if (i >= WARMUPS) walls.push(wall);
    }
    pages.push({
      page,
      wallP50: percentile(walls, 50),
      wallMax: Math.max(...walls),
      requests: requests.map(([name], j) => {
        const s = samples[j];
        return {
          name,
          path: shown[j],
          serverP50: percentile(s.server, 50),
          serverMax: Math.max(...s.server),
          clientP50: percentile(s.client, 50),
        };
      }),
    });
  }
  return pages;
}

export async function runDashboardPages(log) {
  const { pgUrlForSchema } = await import("./systems/overseer.mjs");
  const { withClient, dropSchema } = await import("./systems/pg-util.mjs");
  const { createOverseer } = await import("../dist/index.js");
  const { createToken } = await import("../dist/http/index.js");
  const results = [];
  for (const dialect of config.pagesBackends) {
    const dir = mkdtempSync(join(tmpdir(), "overseer-bench-pages-"));
    const backend =
      dialect === "sqlite"
        ? { dialect, label: "SQLite", database: join(dir, "pages.db") }
        : { dialect, label: "PostgreSQL", database: pgUrlForSchema(PG_SCHEMA) };
    try {
      if (dialect === "postgres") {
        await withClient((c) => c.query(`DROP SCHEMA IF EXISTS "${PG_SCHEMA}" CASCADE; CREATE SCHEMA "${PG_SCHEMA}"`));
      }
      // The store's own migrations make the schema; the token is the one the requests carry.
      const admin = await createOverseer({ database: backend.database });
      let secret;
      try {
        ({ secret } = await createToken(admin.store, "bench-pages", "admin"));
      } finally {
        await admin.close();
      }
      log(`dashboard pages: ${backend.label}, seeding ${config.pagesJobs.toLocaleString("en-US")} jobs...`);
      const t0 = now();
      const seedSecs = await seed(backend, config.pagesJobs);
      // The store's own bookkeeping of what was written, as it keeps it while jobs finish one by one
      // (the finished jobs' counts, migration 034, and the per-minute rollups of the week, migration
      // 032, as a node running all week would have written them): done once here by the store's code.
      const t1 = now();
      const store = await createOverseer({ database: backend.database });
      try {
        await store.countJobs();
        seedSecs.settle = (now() - t1) / 1000;
        const t2 = now();
        const rolled = await store.rollUpJobs();
        seedSecs.rollups = (now() - t2) / 1000;
        seedSecs.rollupRows = rolled.rows;
      } finally {
        await store.close();
      }
      const seedSec = (now() - t0) / 1000;
      log(
        `dashboard pages: ${backend.label} seeded in ${seedSec.toFixed(0)} s (${Object.entries(seedSecs)
          .filter(([k]) => k !== "rollupRows")
          .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
          .join(", ")})`,
      );
      const { child, url } = await startServer(dir, backend.database, "tick");
      try {
        const loadBefore = loadavg()[0];
        const pages = await loadPages(url, secret);
        const load = [loadBefore, loadavg()[0]];
        results.push({ backend: backend.label, seedSec, seedSecs, pages, load });
        for (const p of pages) {
          const worst = Math.max(0, ...p.requests.map((r) => r.serverMax));
          log(`  ${backend.label} ${p.page}: server max ${worst.toFixed(1)} ms${worst < BUDGET_MS ? "" : " OVER"}`);
        }
      } finally {
        await stopServer(child);
      }
    } finally {
      if (dialect === "postgres") await dropSchema(PG_SCHEMA);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { jobs: config.pagesJobs, reps: config.pagesReps, results };
}

export const PAGES_HEADING = "## Dashboard first load at scale";

const ms = (v) => v.toFixed(1);

/** The section of BENCHMARKS.md. */
export function renderDashboardPages(pages, meta) {
  const lines = [PAGES_HEADING, ""];
  if (!pages?.ok) {
    lines.push(`Not measured: ${pages?.error ?? "skipped (BENCH_PAGES=0)"}.`, "");
    return lines.join("\n");
  }
  const { results } = pages;
  lines.push(
    `A store keeping ${pages.jobs.toLocaleString("en-US")} jobs of the last 7 days with their attempts and events (92% succeeded,`,
    "3% dead, 1% cancelled, 2.5% queued, 1.4% scheduled, 0.1% running; 6 queues, 20 tasks), written by bulk SQL into the",
    "schema the store's migrations made, served by `overseer start` on loopback. Each page's first-load requests are",
    `sent together, as the page sends them, ${pages.reps} times after ${WARMUPS} warm-ups. The figures are the server's time`,
    "per request (its `Server-Timing` header: from the request's arrival to its serialized answer; requests sent",
    `together share the server), median and max in ms. Budget: ${BUDGET_MS} ms each.`,
    "",
  );
  for (const r of results) {
    const parts = Object.entries(r.seedSecs)
      .filter(([k]) => k !== "rollupRows")
      .map(([k, v]) => `${k} ${v.toFixed(1)} s`);
    lines.push(
      `- ${r.backend}: seeded in ${r.seedSec.toFixed(0)} s (${parts.join(", ")}; not counted); ` +
        `1-minute load average ${r.load[0].toFixed(1)} before the requests, ${r.load[1].toFixed(1)} after.`,
    );
  }
  lines.push(
    "",
    `| Page | Request | ${results.map((r) => `${r.backend} p50 | ${r.backend} max`).join(" | ")} |`,
    `| --- | --- | ${results.map(() => "---: | ---:").join(" | ")} |`,
  );
  for (const [i, { page }] of PAGES.entries()) {
    for (const [j] of PAGES[i].requests.entries()) {
      const any = results[0].pages[i].requests[j];
      const cells = results.map((r) => {
        const q = r.pages[i].requests[j];
        return `${ms(q.serverP50)} | ${ms(q.serverMax)}${q.serverMax < BUDGET_MS ? "" : " (over budget)"}`;
      });
      lines.push(`| ${j === 0 ? page : ""} | ${any.name} (\`${any.path}\`) | ${cells.join(" | ")} |`);
    }
  }
  const over = results.flatMap((r) =>
    r.pages.flatMap((p) => p.requests.filter((q) => q.serverMax >= BUDGET_MS).map(() => 1)),
  ).length;
  lines.push(
    "",
    over === 0 ? `Every request under ${BUDGET_MS} ms.` : `${over} request(s) over ${BUDGET_MS} ms (marked).`,
    `Measured ${meta.date.slice(0, 10)} on ${meta.cores} cores, the server, the database and the bench sharing them;`,
    `a load average above ${meta.cores} means other work shared them too, and every figure grows with it.`,
    "",
  );
  return lines.join("\n");
}
