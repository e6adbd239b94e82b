// The dashboard under load: a SQLite store with BENCH_DASHBOARD_JOBS (100,000) jobs in mixed
// states, served by a real `overseer start` child process (the built binary). Measures
// 1. the server time of the requests the Jobs page's first load makes (loopback round trips,
//    many repetitions: p50/p95/max each, against a 300 ms budget), and
// 2. how responsive Chromium stays on the Events and Jobs pages while a producer enqueues about
//    33 jobs/s (enqueued, started, succeeded: about 100 events/s): long tasks and frame gaps,
//    measured in the page, and the events the page's stream received per second.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { config, LAUNCHER_NODE_FLAGS, now, percentile, sleep, withTimeout } from "./lib.mjs";

const BIN = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

const BUDGET_MS = 300;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Queues and tasks of the seeded store, with their shares of the jobs (each list sums to 100). */
const QUEUES = [
  ["default", 40],
  ["email", 25],
  ["billing", 15],
  ["reports", 12],
  ["media", 8],
];
const TASKS = [
  ["email.send", 35],
  ["image.resize", 25],
  ["report.build", 15],
  ["billing.charge", 15],
  ["webhook.deliver", 8],
  ["crm.sync", 2],
];
const pick = (shares, i) => {
  let n = (i * 7919) % 100; // a fixed spread, not a random one: every run seeds the same store
  for (const [name, share] of shares) {
    if (n < share) return name;
    n -= share;
  }
  return shares[0][0];
};

/**
 * 100,000 jobs through the SDK's enqueueMany (so every row is one Overseer wrote), then their
 * states and times set in one UPDATE: 85% succeeded, 5% dead, 2% cancelled, 4% queued, 2%
 * scheduled, 2% running (held by a worker that is not there, with a lease far in the future so
 * nothing recovers them during the run). Creation times spread over the last 24 hours.
 */
async function seed(database, jobs) {
  const { createOverseer } = await import("../dist/index.js");
  const { createToken } = await import("../dist/http/index.js");
  const overseer = await createOverseer({ database });
  try {
    for (let start = 0; start < jobs; start += 1000) {
      const items = [];
      for (let i = start; i < Math.min(jobs, start + 1000); i++) {
        const task = pick(TASKS, i);
        items.push({
          task,
          payload: { i, to: `user${i % 5000}@example.com` },
          options: {
            queue: pick(QUEUES, i + 3),
            ...(task === "billing.charge" ? { idempotencyKey: `order-${i}` } : {}),
          },
        });
      }
      await overseer.enqueueMany(items);
    }
    const { secret } = await createToken(overseer.store, "bench", "admin");
    return secret;
  } finally {
    await overseer.close();
  }
}

async function shapeStates(database, jobs) {
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(database);
  try {
    const t0 = Date.now() - DAY_MS;
    const step = DAY_MS / jobs;
    const error = JSON.stringify({
      code: "HANDLER_ERROR",
      message: "upstream answered 503",
      retryable: true,
      stack: "Error: upstream answered 503",
    });
    db.prepare(
      `UPDATE jobs SET
         created_at = @t0 + (rowid - 1) * @step,
         run_at = CASE WHEN rowid % 100 IN (96, 97) THEN @now + 3600000 ELSE @t0 + (rowid - 1) * @step END,
         state = CASE
           WHEN rowid % 100 < 85 THEN 'succeeded'
           WHEN rowid % 100 < 90 THEN 'dead'
           WHEN rowid % 100 < 92 THEN 'cancelled'
           WHEN rowid % 100 < 96 THEN 'queued'
           WHEN rowid % 100 < 98 THEN 'scheduled'
           ELSE 'running' END,
         attempts = CASE WHEN rowid % 100 < 85 OR rowid % 100 >= 98 THEN 1
                         WHEN rowid % 100 < 90 THEN max_attempts ELSE 0 END,
         started_at = CASE WHEN rowid % 100 < 90 OR rowid % 100 >= 98 THEN @t0 + (rowid - 1) * @step + 20 END,
         finished_at = CASE WHEN rowid % 100 < 92 THEN @t0 + (rowid - 1) * @step + 20 + (rowid % 50) * 3 END,
         result = CASE WHEN rowid % 100 < 85 THEN '{"ok":true}' END,
         last_error = CASE WHEN rowid % 100 >= 85 AND rowid % 100 < 90 THEN @error END,
         lease_owner = CASE WHEN rowid % 100 >= 98 THEN 'bench-gone-worker' END,
         lease_token = CASE WHEN rowid % 100 >= 98 THEN 1 ELSE 0 END,
         lease_expires_at = CASE WHEN rowid % 100 >= 98 THEN @now + 86400000 END,
         version = version + 1`,
    ).run({ t0, step, now: Date.now(), error });
    return Object.fromEntries(
      db
        .prepare("SELECT state, count(*) AS n FROM jobs GROUP BY state")
        .all()
        .map((r) => [r.state, r.n]),
    );
  } finally {
    db.close();
  }
}

/**
 * `overseer start` (the built binary) on `database`, with one no-op task (`task`) in a tasks
 * folder made under `dir`, its HTTP API on a free loopback port. Also used by history.mjs.
 */
export async function startServer(dir, database, task = "tick") {
  mkdirSync(join(dir, "tasks"));
  writeFileSync(join(dir, "tasks", `${task}.mjs`), "export default async function () { return null; }\n");
  const child = spawn(
    process.execPath,
    [
      ...LAUNCHER_NODE_FLAGS,
      BIN,
      "--database",
      database,
      "start",
      "--tasks",
      join(dir, "tasks"),
      "--port",
      "0",
      "--no-summary",
      "--no-retention",
    ],
    { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const started = now();
  while (!/HTTP API on (\S+)\/api\/v1/.test(out)) {
    if (child.exitCode !== null) throw new Error(`overseer start exited (${child.exitCode}): ${out.trim()}`);
    if (now() - started > 30_000) throw new Error(`overseer start printed no URL in 30 s: ${out.trim()}`);
    await sleep(50);
  }
  return { child, url: /HTTP API on (\S+)\/api\/v1/.exec(out)[1], output: () => out };
}

export async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("close", resolve));
  child.kill("SIGTERM");
  await Promise.race([exited, sleep(10_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

/** The requests of the Jobs page's first load (and the overview's stats), each timed `reps` times. */
async function timeRequests(url, token, reps, jobs) {
  // A key that one job holds, among the older ones: the text filter must scan past most jobs.
  let keyed = Math.floor(jobs * 0.3);
  while (pick(TASKS, keyed) !== "billing.charge") keyed++;
  const paths = [
    ["jobs, unfiltered", "/api/v1/jobs?limit=50"],
    ["jobs, state=dead", "/api/v1/jobs?limit=50&state=dead"],
    ["jobs, queue=billing", "/api/v1/jobs?limit=50&queue=billing"],
    ["jobs, task=crm.sync (2% of jobs)", "/api/v1/jobs?limit=50&task=crm.sync"],
    ["jobs, text q (one match)", `/api/v1/jobs?limit=50&q=order-${keyed}`],
    ["jobs, next page (cursor)", null],
    ["stats (5 min window)", "/api/v1/stats"],
    ["stats (60 min window, the overview's)", "/api/v1/stats?minutes=60"],
    ["queues", "/api/v1/queues"],
  ];
  const headers = { authorization: `Bearer ${token}` };
  const get = async (path) => {
    const t0 = now();
    const res = await fetch(`${url}${path}`, { headers });
    const body = await res.text();
    const ms = now() - t0;
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${body.slice(0, 200)}`);
    return { ms, body };
  };
  const first = JSON.parse((await get("/api/v1/jobs?limit=50")).body);
  const rows = [];
  for (const [name, raw] of paths) {
    const path = raw ?? `/api/v1/jobs?limit=50&cursor=${encodeURIComponent(first.nextCursor)}`;
    for (let i = 0; i < 5; i++) await get(path); // warm-up: statement cache, page cache
    const times = [];
    let items = null;
    for (let i = 0; i < reps; i++) {
      const { ms, body } = await get(path);
      times.push(ms);
      if (items === null) items = JSON.parse(body).items?.length ?? null;
    }
    rows.push({
      name,
      path,
      items,
      p50: percentile(times, 50),
      p95: percentile(times, 95),
      max: Math.max(...times),
      underBudget: Math.max(...times) < BUDGET_MS,
    });
  }
  return rows;
}

/**
 * Runs in the page before its own scripts: the token in sessionStorage (as signing in leaves
 * it), a long-task observer, a requestAnimationFrame loop recording frame gaps, and a wrapper
 * around fetch that counts the events of the page's event stream (a tee of the response body,
 * so the page reads its stream as before).
 */
function pageProbe(token) {
  sessionStorage.setItem("overseer.token", token);
  const probe = { longTasks: [], gaps: [], events: [], streamErrors: [], since: 0 };
  window.__benchProbe = probe;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) probe.longTasks.push([e.startTime, e.duration]);
  }).observe({ type: "longtask", buffered: true });
  let last = null;
  const frame = (t) => {
    if (last !== null) probe.gaps.push([t, t - last]);
    last = t;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  const original = window.fetch.bind(window);
  window.fetch = async (...args) => {
    const response = await original(...args);
    const url = String(args[0] instanceof Request ? args[0].url : args[0]);
    if (!url.includes("/api/v1/events") || !response.body) return response;
    if (!(response.headers.get("content-type") ?? "").includes("text/event-stream")) return response;
    const [mine, theirs] = response.body.tee();
    (async () => {
      const reader = mine.pipeThrough(new TextDecoderStream()).getReader();
      let tail = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const text = tail + value;
        const at = performance.now();
        let index = text.indexOf("\nid:");
        while (index !== -1) {
          probe.events.push(at);
          index = text.indexOf("\nid:", index + 4);
        }
        if (text.startsWith("id:")) probe.events.push(at);
        tail = text.slice(-3); // "\nid" split over two chunks
        if (tail.includes("\n")) tail = tail.slice(tail.indexOf("\n"));
        else tail = "";
      }
    })().catch((err) => {
      // An aborted stream (the page reconnecting or closing) ends the count; keep why.
      probe.streamErrors.push(String(err));
    });
    return new Response(theirs, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/** Enqueues `perSecond` tick jobs a second over HTTP (in batches every 100 ms) until stopped. */
function startProducer(url, token, perSecond) {
  let stopped = false;
  let sent = 0;
  let failed = 0;
  const t0 = now();
  const done = (async () => {
    for (let tick = 0; !stopped; tick++) {
      const due = Math.round(((tick + 1) * perSecond) / 10) - Math.round((tick * perSecond) / 10);
      const items = Array.from({ length: due }, (_, j) => ({ task: "tick", payload: { n: sent + j } }));
      if (items.length > 0) {
        const res = await fetch(`${url}/api/v1/jobs`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(items),
        });
        await res.text();
        if (res.status === 201) sent += items.length;
        else failed++;
      }
      const wait = t0 + (tick + 1) * 100 - now();
      if (wait > 0) await sleep(wait);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
      return { sent, failed, seconds: (now() - t0) / 1000 };
    },
  };
}

async function measurePage(browser, url, token, { path, heading, seconds, jobsPerSecond }) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (err) => errors.push(err.message));
  try {
    await page.addInitScript(pageProbe, token);
    await page.goto(`${url}${path}`);
    await page.getByRole("heading", { name: heading, exact: true }).waitFor({ timeout: 15_000 });
    await page.locator(".stream-live").waitFor({ timeout: 15_000 });
    await sleep(2000); // the first load done, the page idle
    const since = await page.evaluate(() => {
      window.__benchProbe.since = performance.now();
      return window.__benchProbe.since;
    });
    const producer = startProducer(url, token, jobsPerSecond);
    await sleep(seconds * 1000);
    const produced = await producer.stop();
    await sleep(1000); // the last jobs finish; their events reach the page
    const probe = await page.evaluate(() => window.__benchProbe);
    const end = probe.gaps.at(-1)?.[0] ?? since;
    const tasks = probe.longTasks.filter(([t]) => t >= since).map(([, d]) => d);
    const gaps = probe.gaps.filter(([t]) => t >= since).map(([, g]) => g);
    // Events per second over the producer's run; the total over the whole window (with the last
    // second, when the last jobs finish) against the 3 events each job makes.
    const producing = probe.events.filter((t) => t >= since && t < since + produced.seconds * 1000).length;
    const events = probe.events.filter((t) => t >= since).length;
    const windowSec = (end - since) / 1000;
    return {
      page: path,
      seconds: windowSec,
      jobsSent: produced.sent,
      producerFailures: produced.failed,
      jobsPerSecSent: produced.sent / produced.seconds,
      longTasks: tasks.length,
      longTaskMs: tasks.reduce((a, b) => a + b, 0),
      longestTaskMs: tasks.length ? Math.max(...tasks) : 0,
      frames: gaps.length,
      frameGapP50: percentile(gaps, 50),
      frameGapP95: percentile(gaps, 95),
      frameGapMax: gaps.length ? Math.max(...gaps) : null,
      eventsReceived: events,
      eventsExpected: produced.sent * 3,
      eventsPerSec: producing / produced.seconds,
      streamErrors: probe.streamErrors,
      pageErrors: errors,
    };
  } finally {
    await context.close();
  }
}

/** Seeds `database` (a new file) with `jobs` jobs; returns an admin token and the counts by state. */
export async function seedStore(database, jobs) {
  const token = await seed(database, jobs);
  return { token, states: await shapeStates(database, jobs) };
}

export async function runDashboardLoad(log) {
  const jobs = config.dashboardJobs;
  const dir = mkdtempSync(join(tmpdir(), "overseer-dashboard-bench-"));
  const database = join(dir, "dashboard.db");
  let server = null;
  let browser = null;
  // Other work on the machine shows up in these figures (Chromium's most of all): say how busy it was.
  const loadAtStart = loadavg()[0];
  try {
    let t0 = now();
    const { token, states } = await seedStore(database, jobs);
    const seedSec = (now() - t0) / 1000;
    log(`dashboard: seeded ${jobs.toLocaleString("en-US")} jobs in ${seedSec.toFixed(1)} s`);
    server = await startServer(dir, database);
    t0 = now();
    const requests = await withTimeout(
      timeRequests(server.url, token, config.dashboardReps, jobs),
      config.scenarioTimeoutMs,
      "timing the Jobs page's requests",
    ).catch((err) => {
      // The server logs the cause of a 500; show it with the failure.
      throw new Error(
        `${err.message}; overseer start printed: ${server.output().trim().split("\n").slice(-5).join(" | ")}`,
      );
    });
    log(
      `dashboard: timed ${requests.length} requests x ${config.dashboardReps} in ${((now() - t0) / 1000).toFixed(1)} s`,
    );

    const { launchChromium } = await import("../src/test-support/chromium.mjs");
    browser = await launchChromium();
    const pages = [];
    for (const [path, heading] of [
      ["/events", "Events"],
      ["/jobs", "Jobs"],
    ]) {
      const result = await withTimeout(
        measurePage(browser, server.url, token, {
          path,
          heading,
          seconds: config.dashboardSeconds,
          jobsPerSecond: config.dashboardJobsPerSec,
        }),
        config.dashboardSeconds * 1000 + 60_000,
        `the ${heading} page under load`,
      );
      log(
        `dashboard: ${path}: ${result.longTasks} long tasks (${Math.round(result.longTaskMs)} ms), ` +
          `frame gap p95 ${result.frameGapP95?.toFixed(1)} ms, max ${result.frameGapMax?.toFixed(1)} ms, ` +
          `${result.eventsPerSec.toFixed(0)} events/s received`,
      );
      pages.push(result);
    }
    return {
      jobs,
      states,
      seedSec,
      reps: config.dashboardReps,
      budgetMs: BUDGET_MS,
      loadAverage: { start: loadAtStart, end: loadavg()[0] },
      requests,
      browser: { version: browser.version(), pages },
    };
  } finally {
    await browser?.close().catch((err) => log(`dashboard: closing Chromium: ${err.message}`));
    if (server) await stopServer(server.child);
    rmSync(dir, { recursive: true, force: true });
  }
}
