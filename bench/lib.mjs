// Shared configuration and helpers for the benchmark harness.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

/**
 * The Node flags the `overseer` launcher starts with (its `#!` line), which every system's
 * worker child gets alike, so memory and speed are compared like for like.
 */
export const LAUNCHER_NODE_FLAGS = readFileSync(new URL("../src/cli/main.ts", import.meta.url), "utf8")
  .split("\n", 1)[0]
  .split(/\s+/)
  .filter((word) => word.startsWith("--"));

function intEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number.parseInt(raw, 10);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  }
  return value;
}

export const config = {
  runs: intEnv("BENCH_RUNS", 3),
  jobs: intEnv("BENCH_JOBS", 20000),
  bulkBatch: 1000,
  latencyJobs: intEnv("BENCH_LATENCY_JOBS", 500),
  latencyWarmup: 20,
  latencyGapMinMs: 5,
  latencyGapMaxMs: 10,
  scenarioTimeoutMs: intEnv("BENCH_TIMEOUT_MS", 120000),
  pgUrl: process.env.BENCH_PG_URL || "postgres://postgres@127.0.0.1:5432/test",
  redis: {
    host: process.env.BENCH_REDIS_HOST || "127.0.0.1",
    port: intEnv("BENCH_REDIS_PORT", 6379),
  },
  // The event-stream load check: "1" (default) runs it after the systems, "0" skips it, "only"
  // runs it alone (no system is run, and BENCHMARKS.md is left alone unless BENCH_REPORT names a file).
  sseLoad: process.env.BENCH_SSE_LOAD || "1",
  sseClients: intEnv("BENCH_SSE_CLIENTS", 500),
  sseJobs: intEnv("BENCH_SSE_JOBS", 10000),
  // The dashboard under load: "1" (default) runs it after the event-stream check, "0" skips it,
  // "only" runs it alone (and rewrites only its own section of BENCHMARKS.md).
  dashboard: process.env.BENCH_DASHBOARD || "1",
  dashboardJobs: intEnv("BENCH_DASHBOARD_JOBS", 100000),
  dashboardReps: intEnv("BENCH_DASHBOARD_REPS", 100),
  dashboardSeconds: intEnv("BENCH_DASHBOARD_SECONDS", 20),
  dashboardJobsPerSec: intEnv("BENCH_DASHBOARD_RATE", 33),
  // Cost as history grows (history.mjs): "1" (default) runs it after the dashboard, "0" skips it,
  // "only" runs it alone (and rewrites only its own section of BENCHMARKS.md).
  history: process.env.BENCH_HISTORY || "1",
  historyJobs: intEnv("BENCH_HISTORY_JOBS", 1_000_000),
  historyReps: intEnv("BENCH_HISTORY_REPS", 3),
  historyOne: intEnv("BENCH_HISTORY_ONE", 2000),
  historyRequests: intEnv("BENCH_HISTORY_REQUESTS", 20),
  // Finding jobs by payload fields (payload-filter.mjs): "1" (default) runs it after the history
  // scenario, "0" skips it, "only" runs it alone (and rewrites only its own section of BENCHMARKS.md).
  payloadFilter: process.env.BENCH_PAYLOAD || "1",
  payloadJobs: intEnv("BENCH_PAYLOAD_JOBS", 100_000),
  payloadReps: intEnv("BENCH_PAYLOAD_REPS", 50),
  // The dashboard's first load at scale (dashboard-pages.mjs): "1" (default) runs it last, "0" skips
  // it, "only" runs it alone (and rewrites only its own section of BENCHMARKS.md).
  pages: process.env.BENCH_PAGES || "1",
  pagesJobs: intEnv("BENCH_PAGES_JOBS", 1_000_000),
  pagesReps: intEnv("BENCH_PAGES_REPS", 10),
  // Comma-separated backends to measure it on, e.g. BENCH_PAGES_BACKENDS=sqlite
  pagesBackends: (process.env.BENCH_PAGES_BACKENDS || "sqlite,postgres").split(",").map((s) => s.trim()),
  // Comma-separated subset of system ids, e.g. BENCH_SYSTEMS=overseer,bullmq
  systems: process.env.BENCH_SYSTEMS ? process.env.BENCH_SYSTEMS.split(",").map((s) => s.trim()) : null,
  // Comma-separated subset of scenario ids, e.g. BENCH_SCENARIOS=drain-c10; BENCHMARKS.md is then left alone.
  scenarios: process.env.BENCH_SCENARIOS ? process.env.BENCH_SCENARIOS.split(",").map((s) => s.trim()) : null,
};

export const now = () => performance.now();

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export const wallMs = () => performance.timeOrigin + performance.now();

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class TimeoutError extends Error {}

/** Rejects with TimeoutError if `promise` has not settled after `ms`. */
export function withTimeout(promise, ms, label) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${label} timed out after ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function errorMessage(err) {
  if (err instanceof Error) return err.message.split("\n")[0];
  return String(err);
}
