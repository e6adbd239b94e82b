// Benchmark orchestrator: runs every scenario for every system BENCH_RUNS times,
// then writes BENCHMARKS.md (medians, min–max, ratios) and bench/results/latest.json.
import { fork } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { runDashboardLoad } from "./dashboard-load.mjs";
import { PAGES_HEADING, renderDashboardPages, runDashboardPages } from "./dashboard-pages.mjs";
import { HISTORY_HEADING, renderHistory, runHistory } from "./history.mjs";
import {
  config,
  errorMessage,
  LAUNCHER_NODE_FLAGS,
  median,
  now,
  percentile,
  sleep,
  wallMs,
  withTimeout,
} from "./lib.mjs";
import { PAYLOAD_HEADING, renderPayloadFilter, runPayloadFilter } from "./payload-filter.mjs";
import { DASHBOARD_HEADING, renderDashboardLoad, renderMarkdown, renderSseLoad } from "./report.mjs";
import { runSseLoad } from "./sse-load.mjs";
import { SYSTEMS } from "./systems/index.mjs";

const CHILD = fileURLToPath(new URL("./worker-child.mjs", import.meta.url));
const ROOT = new URL("../", import.meta.url);
const children = new Set();

function log(line) {
  const t = new Date().toISOString().slice(11, 19);
  process.stdout.write(`[${t}] ${line}\n`);
}

function killAllChildren() {
  for (const child of children) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  children.clear();
}

process.on("SIGINT", () => {
  killAllChildren();
  process.exit(130);
});
process.on("SIGTERM", () => {
  killAllChildren();
  process.exit(143);
});
process.on("exit", killAllChildren);
// A library may reject a promise we no longer await after a timeout: log it, keep going.
process.on("unhandledRejection", (err) => log(`  (unhandled rejection: ${errorMessage(err)})`));

/** Forks the worker child and gives a buffered, promise-based view of its messages. */
function forkWorker(systemId, options) {
  const proc = fork(CHILD, [systemId, JSON.stringify(options)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    execArgv: LAUNCHER_NODE_FLAGS,
  });
  children.add(proc);
  const buffered = [];
  const waiters = new Set();
  let exit = null;
  let onLat = null;

  const settle = () => {
    for (const waiter of [...waiters]) {
      const index = buffered.findIndex((m) => m.type === waiter.type || m.type === "error");
      if (index >= 0) {
        const [message] = buffered.splice(index, 1);
        waiters.delete(waiter);
        if (message.type === "error") waiter.reject(new Error(`worker child: ${message.message}`));
        else waiter.resolve(message);
      } else if (exit) {
        waiters.delete(waiter);
        waiter.reject(new Error(`worker child exited (${exit}) before "${waiter.type}"`));
      }
    }
  };

  proc.on("message", (message) => {
    if (message?.type === "lat" && onLat) return onLat(message);
    buffered.push(message);
    settle();
  });
  proc.on("exit", (code, signal) => {
    exit = signal ?? `code ${code}`;
    children.delete(proc);
    settle();
  });
  proc.on("error", (err) => {
    exit = `error ${err.message}`;
    settle();
  });

  return {
    waitFor(type) {
      return new Promise((resolve, reject) => {
        waiters.add({ type, resolve, reject });
        settle();
      });
    },
    send(message) {
      if (proc.connected) proc.send(message);
    },
    onLatency(fn) {
      onLat = fn;
    },
    kill() {
      if (!exit) proc.kill("SIGKILL");
    },
    async waitExit(ms) {
      const start = now();
      while (!exit && now() - start < ms) await sleep(20);
      if (!exit) proc.kill("SIGKILL");
    },
  };
}

function payloads(count, offset = 0) {
  const list = new Array(count);
  for (let i = 0; i < count; i++) list[i] = { i: offset + i };
  return list;
}

async function preEnqueue(system, ctx, total, state) {
  for (let start = 0; start < total && !state.aborted; start += config.bulkBatch) {
    await system.enqueueBulk(ctx, payloads(Math.min(config.bulkBatch, total - start), start));
  }
}

const drainScenario = (concurrency) => ({
  id: `drain-c${concurrency}`,
  title: `Drain at concurrency ${concurrency}`,
  async run(system, state, systemId) {
    const jobs = config.jobs;
    state.ctx = await system.setup();
    await preEnqueue(system, state.ctx, jobs, state);
    globalThis.gc?.();
    const child = forkWorker(systemId, {
      mode: "drain",
      concurrency,
      jobs,
      args: system.workerArgs(state.ctx),
    });
    state.children.push(child);
    await child.waitFor("ready");
    child.send({ cmd: "go" });
    const done = await child.waitFor("drain-done");
    let stopMs = null;
    try {
      const stopped = await withTimeout(child.waitFor("stopped"), 20000, "worker stop");
      stopMs = stopped.stopMs;
    } catch (err) {
      log(`    (worker stop: ${errorMessage(err)})`);
    }
    await child.waitExit(5000);
    return {
      jobsPerSec: (jobs / done.elapsedMs) * 1000,
      elapsedMs: done.elapsedMs,
      startMs: done.startMs,
      handledMs: done.handledMs,
      stopMs,
      maxRssKB: done.maxRssKB,
    };
  },
  summary: (m) =>
    `${fmtInt(m.jobsPerSec)} jobs/s (${fmtSec(m.elapsedMs)}, worker start ${fmtMs(m.startMs)}, peak RSS ${fmtMB(m.maxRssKB)})`,
});

const SCENARIOS = [
  {
    id: "enqueue-one",
    title: "Enqueue one at a time",
    async run(system, state) {
      const jobs = config.jobs;
      state.ctx = await system.setup();
      globalThis.gc?.();
      const t0 = now();
      for (let i = 0; i < jobs && !state.aborted; i++) await system.enqueueOne(state.ctx, { i });
      const elapsedMs = now() - t0;
      return { jobsPerSec: (jobs / elapsedMs) * 1000, elapsedMs };
    },
    summary: (m) => `${fmtInt(m.jobsPerSec)} jobs/s (${fmtSec(m.elapsedMs)})`,
  },
  {
    id: "enqueue-bulk",
    title: "Bulk enqueue",
    async run(system, state) {
      const jobs = config.jobs;
      state.ctx = await system.setup();
      const batches = [];
      for (let start = 0; start < jobs; start += config.bulkBatch) {
        batches.push(payloads(Math.min(config.bulkBatch, jobs - start), start));
      }
      globalThis.gc?.();
      const t0 = now();
      for (const batch of batches) {
        if (state.aborted) break;
        await system.enqueueBulk(state.ctx, batch);
      }
      const elapsedMs = now() - t0;
      return { jobsPerSec: (jobs / elapsedMs) * 1000, elapsedMs };
    },
    summary: (m) => `${fmtInt(m.jobsPerSec)} jobs/s (${fmtSec(m.elapsedMs)})`,
  },
  drainScenario(10),
  drainScenario(50),
  {
    id: "latency",
    title: "Enqueue-to-start latency",
    async run(system, state, systemId) {
      const total = config.latencyWarmup + config.latencyJobs;
      state.ctx = await system.setup();
      const child = forkWorker(systemId, {
        mode: "latency",
        concurrency: 10,
        args: system.workerArgs(state.ctx),
      });
      state.children.push(child);
      const latencies = new Map();
      child.onLatency((m) => {
        if (!latencies.has(m.i)) latencies.set(m.i, m.ms);
      });
      await child.waitFor("ready");
      await sleep(1000); // let the worker settle into its idle state
      for (let i = 0; i < total && !state.aborted; i++) {
        const t0 = wallMs();
        await system.enqueueOne(state.ctx, { i, t0 });
        const gap = config.latencyGapMinMs + Math.random() * (config.latencyGapMaxMs - config.latencyGapMinMs);
        await sleep(gap);
      }
      const waitStart = now();
      while (latencies.size < total && now() - waitStart < 10000) await sleep(20);
      child.send({ cmd: "stop" });
      try {
        await withTimeout(child.waitFor("stopped"), 20000, "worker stop");
      } catch (err) {
        log(`    (worker stop: ${errorMessage(err)})`);
      }
      await child.waitExit(5000);
      if (latencies.size < total) {
        throw new Error(`${total - latencies.size} of ${total} jobs not started within 10 s`);
      }
      const measured = [];
      for (const [i, ms] of latencies) if (i >= config.latencyWarmup) measured.push(ms);
      return {
        p50: percentile(measured, 50),
        p95: percentile(measured, 95),
        p99: percentile(measured, 99),
        mean: measured.reduce((a, b) => a + b, 0) / measured.length,
        max: Math.max(...measured),
        samples: measured.length,
      };
    },
    summary: (m) =>
      `p50 ${m.p50.toFixed(2)} ms, p95 ${m.p95.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms (${m.samples} jobs)`,
  },
];

const fmtInt = (v) => Math.round(v).toLocaleString("en-US");
const fmtSec = (ms) => `${(ms / 1000).toFixed(2)} s`;
const fmtMs = (ms) => `${Math.round(ms)} ms`;
const fmtMB = (kb) => `${(kb / 1024).toFixed(0)} MB`;

async function runScenario(system, systemId, scenario) {
  const state = { ctx: null, children: [], aborted: false };
  const t0 = now();
  try {
    const metrics = await withTimeout(
      scenario.run(system, state, systemId),
      config.scenarioTimeoutMs,
      `${systemId} ${scenario.id}`,
    );
    return { ok: true, metrics, wallMs: now() - t0 };
  } catch (err) {
    state.aborted = true; // stops any loop of the timed-out scenario still running
    return { ok: false, error: errorMessage(err), wallMs: now() - t0 };
  } finally {
    for (const child of state.children) child.kill();
    if (state.ctx) {
      try {
        await withTimeout(system.teardown(state.ctx), 30000, `${systemId} teardown`);
      } catch (err) {
        log(`    (teardown: ${errorMessage(err)})`);
      }
    }
  }
}

async function serviceVersions() {
  const versions = {};
  try {
    const { default: IORedis } = await import("ioredis");
    const redis = new IORedis({ ...config.redis, lazyConnect: true, maxRetriesPerRequest: 1 });
    await withTimeout(redis.connect(), 5000, "redis connect");
    const info = await redis.info("server");
    versions.redis = /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown";
    const [, appendonly] = await redis.config("GET", "appendonly");
    const [, appendfsync] = await redis.config("GET", "appendfsync");
    const [, save] = await redis.config("GET", "save");
    versions.redisDurability =
      `appendonly ${appendonly}${appendonly === "yes" ? `, appendfsync ${appendfsync}` : ""}, ` + `RDB save "${save}"`;
    redis.disconnect();
  } catch (err) {
    versions.redis = `unreachable (${errorMessage(err)})`;
  }
  try {
    const { withClient } = await import("./systems/pg-util.mjs");
    await withTimeout(
      withClient(async (c) => {
        const show = async (name) => (await c.query(`SHOW ${name}`)).rows[0][name];
        versions.postgres = await show("server_version");
        versions.postgresDurability =
          `synchronous_commit ${await show("synchronous_commit")}, fsync ${await show("fsync")}, ` +
          `shared_buffers ${await show("shared_buffers")}`;
      }),
      5000,
      "postgres connect",
    );
  } catch (err) {
    versions.postgres = `unreachable (${errorMessage(err)})`;
  }
  return versions;
}

function summarize(records, systems) {
  const summary = {};
  for (const sys of systems) {
    summary[sys.id] = {};
    for (const scenario of SCENARIOS) {
      const rows = records.filter((r) => r.system === sys.id && r.scenario === scenario.id);
      const ok = rows.filter((r) => r.ok);
      const metrics = {};
      if (ok.length) {
        for (const key of Object.keys(ok[0].metrics)) {
          const values = ok.map((r) => r.metrics[key]).filter((v) => typeof v === "number");
          if (!values.length) continue;
          metrics[key] = {
            median: median(values),
            min: Math.min(...values),
            max: Math.max(...values),
            values,
          };
        }
      }
      summary[sys.id][scenario.id] = {
        runs: rows.length,
        ok: ok.length,
        errors: rows.filter((r) => !r.ok).map((r) => r.error),
        metrics,
      };
    }
  }
  return summary;
}

async function main() {
  const started = new Date();
  const onlySse = config.sseLoad === "only";
  const onlyDashboard = config.dashboard === "only";
  const onlyHistory = config.history === "only";
  const onlyPayload = config.payloadFilter === "only";
  const onlyPages = config.pages === "only";
  const alone = onlySse || onlyDashboard || onlyHistory || onlyPayload || onlyPages;
  const selected = alone ? [] : SYSTEMS.filter((s) => !config.systems || config.systems.includes(s.id));
  log(
    `Overseer benchmark: ${config.runs} run(s), ${config.jobs} jobs per throughput scenario, ` +
      `${config.latencyJobs} latency jobs, systems: ${selected.map((s) => s.id).join(", ")}`,
  );

  const systems = [];
  for (const entry of selected) {
    const info = { id: entry.id, kind: entry.kind, loadError: null };
    try {
      info.adapter = await entry.load();
      info.label = info.adapter.label;
      info.storage = info.adapter.storage;
      info.settings = info.adapter.settings;
      info.version = info.adapter.version();
    } catch (err) {
      info.loadError = errorMessage(err);
      info.label = entry.id;
      log(`! ${entry.id}: cannot load adapter: ${info.loadError}`);
    }
    systems.push(info);
  }

  const services = alone ? {} : await serviceVersions();
  if (!alone) log(`Redis ${services.redis}, PostgreSQL ${services.postgres}`);

  const records = [];
  for (let run = 1; run <= config.runs; run++) {
    for (const sys of systems) {
      for (const scenario of SCENARIOS.filter((s) => !config.scenarios || config.scenarios.includes(s.id))) {
        if (sys.loadError) {
          records.push({ run, system: sys.id, scenario: scenario.id, ok: false, error: sys.loadError });
          continue;
        }
        const result = await runScenario(sys.adapter, sys.id, scenario);
        records.push({ run, system: sys.id, scenario: scenario.id, ...result });
        const prefix = `[run ${run}/${config.runs}] ${sys.id.padEnd(13)} ${scenario.id.padEnd(12)}`;
        if (result.ok) log(`${prefix} ${scenario.summary(result.metrics)}`);
        else log(`${prefix} FAILED: ${result.error}`);
        // A failed Overseer setup ("not built", broken SDK) would fail every scenario the same way.
        if (!result.ok && sys.kind !== "peer" && /dist\/index\.js|createOverseer/.test(result.error)) {
          sys.loadError = result.error;
        }
      }
    }
  }
  killAllChildren();
  // Last safety net: adapters that own server-side state (Overseer's PostgreSQL schema) drop it.
  for (const sys of systems) {
    if (!sys.adapter?.cleanup) continue;
    try {
      await withTimeout(sys.adapter.cleanup(), 30000, `${sys.id} cleanup`);
    } catch (err) {
      log(`  (${sys.id} cleanup: ${errorMessage(err)})`);
    }
  }

  let sseLoad = null;
  if (config.sseLoad !== "0" && (onlySse || !alone)) {
    log(`event streams: ${config.sseClients} SSE clients, ${config.sseJobs} jobs...`);
    try {
      sseLoad = { ok: true, ...(await runSseLoad()) };
      log(
        `event streams: ${sseLoad.clientsComplete}/${sseLoad.clients} clients got all ${sseLoad.events} events in order; ` +
          `lag p50 ${sseLoad.lagP50?.toFixed(1)} ms, p99 ${sseLoad.lagP99?.toFixed(1)} ms; server RSS ${sseLoad.serverPeakRssMb} MB`,
      );
    } catch (err) {
      sseLoad = { ok: false, error: errorMessage(err) };
      log(`event streams: FAILED: ${sseLoad.error}`);
    }
  }

  let dashboard = null;
  if (config.dashboard !== "0" && (onlyDashboard || !alone)) {
    log(
      `dashboard under load: ${config.dashboardJobs} jobs, then Chromium for ${config.dashboardSeconds} s per page...`,
    );
    try {
      dashboard = { ok: true, ...(await runDashboardLoad(log)) };
    } catch (err) {
      dashboard = { ok: false, error: errorMessage(err) };
      log(`dashboard under load: FAILED: ${dashboard.error}`);
    }
  }

  let history = null;
  if (config.history !== "0" && (onlyHistory || !alone)) {
    log(
      `cost as history grows: ${config.historyJobs.toLocaleString("en-US")} finished jobs on SQLite and PostgreSQL...`,
    );
    try {
      history = { ok: true, ...(await runHistory(log)) };
    } catch (err) {
      history = { ok: false, error: errorMessage(err) };
      log(`history: FAILED: ${history.error}`);
    }
  }

  let payloadFilter = null;
  if (config.payloadFilter !== "0" && (onlyPayload || !alone)) {
    log(
      `finding jobs by payload fields: ${config.payloadJobs.toLocaleString("en-US")} jobs on SQLite and PostgreSQL...`,
    );
    try {
      payloadFilter = { ok: true, ...(await runPayloadFilter(log)) };
    } catch (err) {
      payloadFilter = { ok: false, error: errorMessage(err) };
      log(`payload filter: FAILED: ${payloadFilter.error}`);
    }
  }

  let dashboardPages = null;
  if (config.pages !== "0" && (onlyPages || !alone)) {
    log(
      `dashboard first load at scale: ${config.pagesJobs.toLocaleString("en-US")} jobs on ${config.pagesBackends.join(", ")}...`,
    );
    try {
      dashboardPages = { ok: true, ...(await runDashboardPages(log)) };
    } catch (err) {
      dashboardPages = { ok: false, error: errorMessage(err) };
      log(`dashboard pages: FAILED: ${dashboardPages.error}`);
    }
  }

  const cpus = os.cpus();
  const meta = {
    workerExecArgv: LAUNCHER_NODE_FLAGS,
    date: started.toISOString(),
    durationSec: Math.round((Date.now() - started.getTime()) / 1000),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    memoryGiB: os.totalmem() / 1024 ** 3,
    ...services,
  };
  const publicSystems = systems.map(({ adapter, ...rest }) => rest);
  const summary = summarize(records, publicSystems);
  const results = {
    meta,
    config,
    systems: publicSystems,
    records,
    summary,
    sseLoad,
    dashboard,
    history,
    payloadFilter,
    dashboardPages,
  };

  const resultsDir = new URL("./results/", import.meta.url);
  mkdirSync(resultsDir, { recursive: true });
  /** Alone, a scenario rewrites only its own section of BENCHMARKS.md, every other byte kept. */
  const writeOwnSection = (name, data, heading, section) => {
    writeFileSync(new URL(`${name}.json`, resultsDir), `${JSON.stringify({ meta, ...data }, null, 2)}\n`);
    const file = new URL("BENCHMARKS.md", ROOT);
    writeFileSync(file, replaceSection(existsSync(file) ? readFileSync(file, "utf8") : "", heading, section));
    process.stdout.write(`\n${section}`);
    log(`wrote its section of BENCHMARKS.md and bench/results/${name}.json (${meta.durationSec} s)`);
  };
  if (onlyPages) {
    writeOwnSection("dashboard-pages", { dashboardPages }, PAGES_HEADING, renderDashboardPages(dashboardPages, meta));
    return;
  }
  if (onlyPayload) {
    writeOwnSection("payload-filter", { payloadFilter }, PAYLOAD_HEADING, renderPayloadFilter(payloadFilter));
    return;
  }
  if (onlyHistory) {
    writeOwnSection("history", { history }, HISTORY_HEADING, renderHistory(history));
    return;
  }
  if (onlyDashboard) {
    writeOwnSection("dashboard", { dashboard }, DASHBOARD_HEADING, renderDashboardLoad(dashboard, meta));
    if (!onlySse) return;
  }
  if (onlySse) {
    // Alone, the check must not replace the full report: its own JSON, and markdown only on request.
    writeFileSync(new URL("sse-load.json", resultsDir), `${JSON.stringify({ meta, sseLoad }, null, 2)}\n`);
    const markdown = renderSseLoad(sseLoad, meta);
    if (process.env.BENCH_REPORT) writeFileSync(process.env.BENCH_REPORT, markdown);
    process.stdout.write(`\n${markdown}`);
    log(`wrote bench/results/sse-load.json (${meta.durationSec} s)`);
    return;
  }
  writeFileSync(new URL("latest.json", resultsDir), `${JSON.stringify(results, null, 2)}\n`);
  if (config.scenarios) {
    // A partial run must not replace the full report.
    log(`wrote bench/results/latest.json (${meta.durationSec} s)`);
    return;
  }
  writeFileSync(new URL("BENCHMARKS.md", ROOT), renderMarkdown(results, SCENARIOS));
  log(`wrote BENCHMARKS.md and bench/results/latest.json (${meta.durationSec} s)`);
}

/**
 * `text` with the section under `heading` (down to the next "## " heading) replaced by `section`,
 * or `section` appended when there is none; every other byte stays as it was.
 */
function replaceSection(text, heading, section) {
  let start = text.startsWith(`${heading}\n`) ? 0 : text.indexOf(`\n${heading}\n`);
  if (start === -1) return text === "" ? section : `${text.replace(/\n*$/, "\n")}\n${section}`;
  if (start > 0 || text[0] === "\n") start += 1;
  const next = text.indexOf("\n## ", start + heading.length);
  return next === -1 ? text.slice(0, start) + section : `${text.slice(0, start)}${section}\n${text.slice(next + 1)}`;
}

main()
  .then(() => {
    killAllChildren();
    process.exit(0);
  })
  .catch((err) => {
    console.error(err);
    killAllChildren();
    process.exit(1);
  });
