// Renders the results of bench/run.mjs as BENCHMARKS.md.
import { renderDashboardPages } from "./dashboard-pages.mjs";
import { renderHistory } from "./history.mjs";
import { renderPayloadFilter } from "./payload-filter.mjs";

const PRIMARY = "overseer";
const EXTRA = "overseer-full";
const PG = "overseer-pg";

/**
 * The hot path's targets (goals, not pass/fail criteria), for Overseer on SQLite (`system`
 * "overseer") and on PostgreSQL ("overseer-pg"), with the figures measured before the work on
 * them began (`before`, medians of 3 interleaved runs on a machine of the same kind), so that
 * each report shows where the hot path started and where it is. `peer` set: ratio of medians
 * (this system ÷ peer, higher is better) against `min`; otherwise a latency in ms against `max`.
 */
const GOALS = [
  {
    system: "overseer-pg",
    scenario: "drain-c10",
    key: "jobsPerSec",
    peer: "graphile",
    min: 1.0,
    before: 3_439,
    name: "PostgreSQL drain at concurrency 10, defaults, vs graphile-worker",
  },
  {
    system: "overseer-pg",
    scenario: "enqueue-bulk",
    key: "jobsPerSec",
    peer: "graphile",
    min: 1.5,
    before: 24_597,
    name: "PostgreSQL bulk enqueue vs graphile-worker",
  },
  {
    system: "overseer-pg",
    scenario: "enqueue-one",
    key: "jobsPerSec",
    peer: "pgboss",
    min: 2,
    before: 1_531,
    name: "PostgreSQL enqueue one at a time vs pg-boss",
  },
  {
    system: "overseer-pg",
    scenario: "latency",
    key: "p50",
    max: 2.5,
    before: 2.43,
    name: "PostgreSQL enqueue-to-start latency p50",
  },
  {
    system: "overseer-pg",
    scenario: "latency",
    key: "p99",
    max: 8,
    before: 11.35,
    name: "PostgreSQL enqueue-to-start latency p99",
  },
  {
    system: "overseer",
    scenario: "drain-c10",
    key: "jobsPerSec",
    peer: "bullmq",
    min: 1.5,
    before: 12_638,
    name: "SQLite drain at concurrency 10 vs BullMQ",
  },
  {
    system: "overseer",
    scenario: "drain-c10",
    key: "jobsPerSec",
    peer: "graphile",
    min: 1.0,
    before: 12_638,
    name: "SQLite drain at concurrency 10 vs graphile-worker",
  },
  {
    system: "overseer",
    scenario: "enqueue-one",
    key: "jobsPerSec",
    peer: "bullmq",
    min: 3,
    name: "SQLite enqueue one at a time vs BullMQ",
  },
  {
    system: "overseer",
    scenario: "latency",
    key: "p99",
    max: 3,
    before: 5.77,
    name: "SQLite enqueue-to-start latency p99",
  },
];

const int = (v) => Math.round(v).toLocaleString("en-US");
const ms2 = (v) => (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v).toString());
const mb = (kb) => (kb / 1024).toFixed(0);

function ratio(a, b) {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return "n/a";
  const r = a / b;
  if (r >= 10) return `${r.toFixed(1)}x`;
  if (r >= 0.1) return `${r.toFixed(2)}x`;
  return `${r.toPrecision(2)}x (1/${Math.round(1 / r)})`;
}

function metric(summary, systemId, scenarioId, key) {
  return summary[systemId]?.[scenarioId]?.metrics?.[key];
}

function cell(summary, systemId, scenarioId, key, fmt) {
  const s = summary[systemId]?.[scenarioId];
  if (!s) return { median: "not run", range: "" };
  const m = s.metrics[key];
  if (!m) return { median: `failed: ${s.errors[0] ?? "no result"}`, range: "" };
  const partial = s.ok < s.runs ? ` (${s.ok}/${s.runs} runs ok)` : "";
  return { median: `${fmt(m.median)}${partial}`, range: `${fmt(m.min)}–${fmt(m.max)}` };
}

function ratioCell(summary, fromId, toId, scenarioId, key) {
  if (fromId === toId) return "—";
  const a = metric(summary, fromId, scenarioId, key)?.median;
  const b = metric(summary, toId, scenarioId, key)?.median;
  return ratio(a, b);
}

export function renderMarkdown(results, scenarios) {
  const { meta, config, systems, summary } = results;
  const peers = systems.filter((s) => s.kind === "peer");
  const shown = systems;
  const hasExtra = systems.some((s) => s.id === EXTRA);
  const hasPg = systems.some((s) => s.id === PG);
  const hasPrimary = systems.some((s) => s.id === PRIMARY);
  const label = (s) => s.label ?? s.id;
  // Ratio columns (ours ÷ peer) shown in every per-scenario table.
  const ours = [
    ...(hasPrimary || !(hasExtra || hasPg) ? [{ id: PRIMARY, head: "Overseer / system" }] : []),
    ...(hasExtra ? [{ id: EXTRA, head: "Overseer (full) / system" }] : []),
    ...(hasPg ? [{ id: PG, head: "Overseer (PostgreSQL) / system" }] : []),
  ];
  const oursHead = ours.map((o) => ` ${o.head} |`).join("");
  const oursAlign = ours.map(() => " ---: |").join("");
  const oursCells = (s, scenarioId, key) =>
    ours.map((o) => ` ${s.kind === "peer" ? ratioCell(summary, o.id, s.id, scenarioId, key) : "—"} |`).join("");
  const title = (id) => scenarios.find((s) => s.id === id)?.title ?? id;
  const lines = [];
  const push = (...l) => lines.push(...l);

  push(
    "# Benchmarks",
    "",
    "Overseer (SQLite, and on PostgreSQL) next to BullMQ (Redis), pg-boss and graphile-worker (PostgreSQL), all measured in",
    `one \`npm run bench\` run on the same machine. Generated by \`bench/run.mjs\` on ${meta.date.slice(0, 10)};`,
    "do not edit by hand (see `bench/README.md` for the method).",
    "",
    `Every figure is the **median of ${config.runs} run(s)**, with the min–max across runs. Throughput scenarios use`,
    `${int(config.jobs)} jobs; the latency scenario ${int(config.latencyJobs)} jobs (after ${config.latencyWarmup} warm-up jobs).`,
    "Ratios are Overseer's median (or the named Overseer variant's) divided by the other system's median: for throughput (jobs/s) **higher is",
    "better**, so above 1x means Overseer is faster; for latency and memory **lower is better**, so below 1x",
    "means Overseer is lower (better).",
    "",
    "## Machine",
    "",
    "| | |",
    "| --- | --- |",
    `| CPU | ${meta.cpuModel}, ${meta.cores} cores, shared by the producer, the worker child process and Redis/PostgreSQL |`,
    `| Memory | ${meta.memoryGiB.toFixed(1)} GiB |`,
    `| OS | ${meta.platform} |`,
    `| Node.js | ${meta.node}; every system's worker child runs with \`${(meta.workerExecArgv ?? []).join(" ") || "no flags"}\` (the flags the \`overseer\` launcher uses) |`,
    `| Redis | ${meta.redis} (local, 127.0.0.1:${config.redis.port}; ${meta.redisDurability ?? "settings unknown"}) |`,
    `| PostgreSQL | ${meta.postgres} (local, untuned; ${meta.postgresDurability ?? "settings unknown"}) |`,
    `| Date | ${meta.date} (bench took ${Math.round(meta.durationSec / 60)} min) |`,
    "",
  );

  // Summary of ratios.
  const rows = [
    ["enqueue-one", "jobsPerSec", "Enqueue one at a time (jobs/s)", "higher"],
    ["enqueue-bulk", "jobsPerSec", "Bulk enqueue (jobs/s)", "higher"],
    ["drain-c10", "jobsPerSec", "Drain, concurrency 10 (jobs/s)", "higher"],
    ["drain-c50", "jobsPerSec", "Drain, concurrency 50 (jobs/s)", "higher"],
    ["latency", "p50", "Enqueue-to-start latency p50", "lower"],
    ["latency", "p99", "Enqueue-to-start latency p99", "lower"],
    ["drain-c10", "maxRssKB", "Worker peak RSS, drain at concurrency 10", "lower"],
  ];
  const summaryTable = (fromId, heading, short) => {
    if (!peers.length) return;
    push(
      heading,
      "",
      `| Scenario | ${peers.map((p) => `${short} / ${label(p)}`).join(" | ")} | Better for Overseer when |`,
      `| --- | ${peers.map(() => "---:").join(" | ")} | --- |`,
    );
    for (const [scenarioId, key, name, dir] of rows) {
      const cells = peers.map((p) => ratioCell(summary, fromId, p.id, scenarioId, key));
      push(`| ${name} | ${cells.join(" | ")} | ${dir === "higher" ? "above 1x" : "below 1x"} |`);
    }
    push("");
  };
  if (hasPrimary || !hasPg) summaryTable(PRIMARY, "## Summary: Overseer ÷ peer (medians)", "Overseer");
  if (hasPg) {
    summaryTable(PG, "## Summary: Overseer on PostgreSQL ÷ peer (medians)", "Overseer (PostgreSQL)");
  }
  if (hasPrimary || hasPg) {
    push(
      "## Goals for the hot path",
      "",
      "Targets for Overseer on SQLite and on PostgreSQL, with the figure this run reached (medians) and the",
      "figure measured before the hot path was reworked for them (Overseer alone, medians of 3 interleaved runs on a",
      "machine of this kind). Goals to work towards, not pass/fail criteria of the bench.",
      "",
      "| Goal | Target | Before | Reached |",
      "| --- | ---: | ---: | ---: |",
    );
    for (const goal of GOALS) {
      const value = metric(summary, goal.system, goal.scenario, goal.key)?.median;
      const own = label(systems.find((s) => s.id === goal.system) ?? { id: goal.system });
      let target;
      let reached;
      let before = "";
      if (goal.peer) {
        const peerLabel = label(systems.find((s) => s.id === goal.peer) ?? { id: goal.peer });
        const theirs = metric(summary, goal.peer, goal.scenario, goal.key)?.median;
        target = `≥ ${goal.min}x`;
        if (goal.before !== undefined) before = `${int(goal.before)} jobs/s`;
        reached =
          Number.isFinite(value) && Number.isFinite(theirs)
            ? `${ratio(value, theirs)} (${int(value)} vs ${int(theirs)} jobs/s)`
            : `n/a (${!Number.isFinite(value) ? own : peerLabel} not measured)`;
      } else {
        target = `< ${goal.max} ms`;
        if (goal.before !== undefined) before = `${ms2(goal.before)} ms`;
        reached = Number.isFinite(value) ? `${ms2(value)} ms` : "n/a (not measured)";
      }
      push(`| ${goal.name} | ${target} | ${before} | ${reached} |`);
    }
    push("");
  }

  // Throughput tables.
  const throughput = [
    [
      "enqueue-one",
      "1. Enqueue one at a time",
      "N sequential awaited enqueues of a small payload (`{ i }`) from one process.",
    ],
    [
      "enqueue-bulk",
      "2. Bulk enqueue",
      `N jobs in batches of ${int(config.bulkBatch)} through each system's bulk API, awaited one batch after another.`,
    ],
    [
      "drain-c10",
      "3a. Drain at concurrency 10",
      "N pre-enqueued no-op jobs; a worker in a child process; time from worker start (connections included) until the library records all N as completed.",
    ],
    ["drain-c50", "3b. Drain at concurrency 50", "Same as 3a at concurrency 50."],
  ];
  for (const [scenarioId, heading, what] of throughput) {
    const drain = scenarioId.startsWith("drain");
    push(
      `## ${heading}`,
      "",
      `${what} Jobs/s, higher is better.`,
      "",
      `| System | jobs/s (median) | min–max |${drain ? " worker start-up (median) |" : ""}${oursHead}`,
      `| --- | ---: | ---: |${drain ? " ---: |" : ""}${oursAlign}`,
    );
    for (const s of shown) {
      const c = cell(summary, s.id, scenarioId, "jobsPerSec", int);
      const start = drain
        ? ` ${cell(summary, s.id, scenarioId, "startMs", (v) => `${int(v)} ms`).median.replace(/^failed.*/, "")} |`
        : "";
      push(`| ${label(s)} | ${c.median} | ${c.range} |${start}${oursCells(s, scenarioId, "jobsPerSec")}`);
    }
    push("");
  }

  // RSS.
  push(
    "## 3c. Worker peak RSS (drain at concurrency 10)",
    "",
    "`process.resourceUsage().maxRSS` of the worker child process, read when the drain has completed",
    "(library loaded, connections open, all jobs processed). MB, lower is better.",
    "",
    `| System | peak RSS MB (median) | min–max |${oursHead}`,
    `| --- | ---: | ---: |${oursAlign}`,
  );
  for (const s of shown) {
    const c = cell(summary, s.id, "drain-c10", "maxRssKB", mb);
    push(`| ${label(s)} | ${c.median} | ${c.range} |${oursCells(s, "drain-c10", "maxRssKB")}`);
  }
  push("");

  // Latency.
  push(
    "## 4. Enqueue-to-start latency at light load",
    "",
    "Worker child process (concurrency 10) running and idle; the parent enqueues jobs one at a time with",
    `${config.latencyGapMinMs}–${config.latencyGapMaxMs} ms random gaps. Latency = time the handler starts − wall-clock time taken just`,
    "before the enqueue call (same machine clock, sub-millisecond). Milliseconds, lower is better; each",
    "percentile is the median over runs of that run's percentile (min–max across runs).",
    "",
    `| System | p50 ms | p95 ms | p99 ms | Overseer / system (p50) | Overseer / system (p99) |${hasPg ? " Overseer (PostgreSQL) / system (p50) | Overseer (PostgreSQL) / system (p99) |" : ""}`,
    `| --- | ---: | ---: | ---: | ---: | ---: |${hasPg ? " ---: | ---: |" : ""}`,
  );
  for (const s of shown) {
    const p = (key) => {
      const c = cell(summary, s.id, "latency", key, ms2);
      return c.range ? `${c.median} (${c.range})` : c.median;
    };
    const r50 = s.kind === "peer" ? ratioCell(summary, PRIMARY, s.id, "latency", "p50") : "—";
    const r99 = s.kind === "peer" ? ratioCell(summary, PRIMARY, s.id, "latency", "p99") : "—";
    const pg50 = s.kind === "peer" ? ratioCell(summary, PG, s.id, "latency", "p50") : "—";
    const pg99 = s.kind === "peer" ? ratioCell(summary, PG, s.id, "latency", "p99") : "—";
    push(
      `| ${label(s)} | ${p("p50")} | ${p("p95")} | ${p("p99")} | ${r50} | ${r99} |${hasPg ? ` ${pg50} | ${pg99} |` : ""}`,
    );
  }
  push("");

  // Settings.
  push("## Systems and settings", "");
  for (const s of shown) {
    push(`### ${label(s)}${s.version ? ` ${s.version}` : ""}${s.storage ? ` (${s.storage})` : ""}`, "");
    if (s.loadError) push(`- **Could not be loaded:** ${s.loadError}`);
    for (const line of s.settings ?? []) push(`- ${line}`);
    push("");
  }

  // Failures.
  const failures = results.records.filter((r) => !r.ok);
  if (failures.length) {
    push("## Failures", "");
    const seen = new Set();
    for (const f of failures) {
      const key = `${f.system}|${f.scenario}|${f.error}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const count = failures.filter((g) => `${g.system}|${g.scenario}|${g.error}` === key).length;
      push(`- ${f.system}, ${title(f.scenario)} (${count} run(s)): ${f.error}`);
    }
    push("");
  }

  push(
    "## Caveats",
    "",
    "- Everything shares 2 cores: the client-server peers also pay for Redis/PostgreSQL on the same machine, which",
    "  is how they are usually run next to an app in development but not how they are deployed at scale.",
    "- Redis and PostgreSQL run as installed, untuned (their durability settings are in the Machine table).",
    "  Durability differs: Redis without `appendfsync always` does not fsync each write; PostgreSQL with",
    "  `synchronous_commit` on fsyncs the WAL at each commit; Overseer's default (SQLite WAL, `synchronous=NORMAL`)",
    '  survives process crashes but not power loss, so `durability: "full"` (fsync per commit) is shown too.',
    "  Overseer on PostgreSQL has the server's durability (`synchronous_commit`), like pg-boss and graphile-worker.",
    "- Retention differs: BullMQ (`removeOnComplete`) and graphile-worker delete completed jobs, pg-boss and",
    "  Overseer (both backends) keep them.",
    "- No-op handlers: these figures measure queue overhead, not job work.",
    "",
  );
  if (results.sseLoad) push(renderSseLoad(results.sseLoad, meta));
  if (results.dashboard) push(renderDashboardLoad(results.dashboard, meta));
  if (results.history) push(renderHistory(results.history));
  if (results.payloadFilter) push(renderPayloadFilter(results.payloadFilter));
  if (results.dashboardPages) push(renderDashboardPages(results.dashboardPages, meta));
  return lines.join("\n");
}

/** The event-stream load check's section (also printed alone by `BENCH_SSE_LOAD=only`). */
export function renderSseLoad(sse, meta) {
  const ms = (v) => (v === null || v === undefined ? "—" : `${v.toFixed(1)} ms`);
  const lines = [
    "## Event streams under load",
    "",
    "Overseer on SQLite serves `GET /api/v1/events` (SSE) on loopback to many clients while a worker in the",
    "same process runs no-op jobs; the clients run in the bench process, the server in a child process.",
    "Lag is from an event's time in the log to the moment a client has read it, over every client and event.",
    "",
  ];
  if (!sse.ok) {
    lines.push(`**Failed:** ${sse.error}`, "");
    return lines.join("\n");
  }
  lines.push(
    "| clients | jobs | events per client | clients with every event in order | reconnects | lag p50 | lag p99 | lag max | server peak RSS | wall time | deliveries/s | server CPU | clients' CPU |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    `| ${sse.clients} | ${sse.jobs.toLocaleString("en-US")} | ${sse.events.toLocaleString("en-US")} | ${sse.clientsComplete} | ${sse.reconnects} | ` +
      `${ms(sse.lagP50)} | ${ms(sse.lagP99)} | ${ms(sse.lagMax)} | ${sse.serverPeakRssMb} MB | ${sse.durationSec.toFixed(1)} s | ` +
      `${Math.round(sse.deliveries / sse.durationSec).toLocaleString("en-US")} | ${sse.serverCpuSec?.toFixed(1) ?? "—"} s | ` +
      `${sse.clientCpuSec?.toFixed(1) ?? "—"} s |`,
    "",
    "The worker produces events faster than the clients can take them over loopback: clients and server share the",
    "machine's cores, and the clients' process (one core, parsing every frame of every client) is the busier one, so",
    "the lag is mostly queueing in the socket buffers: read it with the deliveries per second and the CPU columns",
    "(server: until its last event was written; clients: until every client had it).",
    "Reconnects count clients cut off for falling more than 1 MiB behind; they resumed from their last event id.",
    "",
    `Measured ${meta?.date?.slice(0, 10) ?? ""} on ${meta?.cores ?? "?"} cores. Event times have millisecond resolution.`,
    "",
  );
  return lines.join("\n");
}

export const DASHBOARD_HEADING = "## Dashboard under load";

/** The dashboard scenario's section (also rewritten alone by `BENCH_DASHBOARD=only`). */
export function renderDashboardLoad(d, meta) {
  const ms = (v) => (v === null || v === undefined || !Number.isFinite(v) ? "—" : `${v.toFixed(1)} ms`);
  const lines = [
    DASHBOARD_HEADING,
    "",
    "A real `overseer start` (the built binary, HTTP API on loopback, its worker running a no-op `tick` task) on a",
    "SQLite file seeded with the jobs below; the dashboard in Debian's Chromium (headless, driven by playwright-core).",
    "",
  ];
  if (!d.ok) {
    lines.push(`**Failed:** ${d.error}`, "");
    return lines.join("\n");
  }
  const states = Object.entries(d.states)
    .sort((a, b) => b[1] - a[1])
    .map(([s, n]) => `${n.toLocaleString("en-US")} ${s}`)
    .join(", ");
  lines.push(
    `**Store:** ${d.jobs.toLocaleString("en-US")} jobs (${states}) in 5 queues and 6 tasks, created over the last 24 hours;`,
    `seeded in ${d.seedSec.toFixed(1)} s (the SDK's \`enqueueMany\`, then states and times set in one UPDATE).`,
    "",
    `### Server time of the Jobs page's first load (budget ${d.budgetMs} ms)`,
    "",
    `Each request ${d.reps} times in a row over HTTP on loopback after 5 warm-up requests, one at a time; the time`,
    "is the round trip to the last byte of the body, so it includes the server's whole work (auth, query,",
    "serialization). The Overview asks for the 60-minute stats; the Jobs page for the list and its filters.",
    "",
    "| request | rows | p50 | p95 | max | max under 300 ms |",
    "| --- | ---: | ---: | ---: | ---: | :---: |",
  );
  for (const r of d.requests) {
    lines.push(
      `| ${r.name}: \`${r.path.replace(/cursor=[^&]+/, "cursor=…")}\` | ${r.items ?? "—"} | ${ms(r.p50)} | ${ms(r.p95)} | ${ms(r.max)} | ${r.underBudget ? "yes" : "**no**"} |`,
    );
  }
  lines.push(
    "",
    "### The browser while about 100 events per second arrive",
    "",
    "For each page, a fresh tab signs in, loads the page, waits until its event stream is live and 2 s more, then a",
    `producer enqueues about ${d.browser.pages[0]?.jobsPerSecSent.toFixed(0) ?? "?"} \`tick\` jobs per second over HTTP (every 100 ms a batch) for the`,
    "measured window; each job makes 3 events (enqueued, started, succeeded). Measured in the page: long tasks",
    "(PerformanceObserver `longtask`, tasks over 50 ms), the gaps between requestAnimationFrame callbacks, and the",
    "events the page's stream delivered (counted by a wrapper around `fetch` that tees the stream's body; per",
    "second over the producer's run, and in total, with the last second, against the 3 events each job makes).",
    "The window runs from the producer's start to 1 s after it stopped.",
    `Chromium ${d.browser.version}, viewport 1280x800.`,
    "",
    "| page | window | jobs enqueued | events received/s | events received / made | long tasks | long tasks' total | longest task | frame gap p50 | frame gap p95 | frame gap max |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const p of d.browser.pages) {
    lines.push(
      `| \`${p.page}\` | ${p.seconds.toFixed(1)} s | ${p.jobsSent} | ${p.eventsPerSec.toFixed(1)} | ` +
        `${p.eventsReceived} / ${p.eventsExpected} | ${p.longTasks} | ` +
        `${Math.round(p.longTaskMs)} ms | ${Math.round(p.longestTaskMs)} ms | ${ms(p.frameGapP50)} | ${ms(p.frameGapP95)} | ${ms(p.frameGapMax)} |`,
    );
  }
  const errors = d.browser.pages.flatMap((p) => p.pageErrors.map((e) => `${p.page}: ${e}`));
  lines.push(
    "",
    errors.length ? `Uncaught errors in the page: ${errors.join("; ")}.` : "No uncaught errors in the page.",
    "A frame gap of about 16.7 ms is 60 frames per second; headless Chromium draws without a GPU (`--disable-gpu`).",
    `Measured ${meta?.date?.slice(0, 10) ?? ""} on ${meta?.cores ?? "?"} cores, the server, the browser and the bench sharing them` +
      (d.loadAverage
        ? ` (1-minute load average ${d.loadAverage.start.toFixed(1)} at the start, ${d.loadAverage.end.toFixed(1)} at the end).`
        : "."),
    "",
  );
  return lines.join("\n");
}
