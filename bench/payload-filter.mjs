// Finding a job by what it carries: BENCH_PAYLOAD_JOBS (100,000) jobs on each backend (a fresh
// SQLite file, and the schema `bench_payload` on PostgreSQL, dropped afterwards), each with a
// payload of its own ({ i, order: "order-<i>", customer: { id } }); then
// GET /api/v1/jobs?payload.order=... (one match) over HTTP on loopback, BENCH_PAYLOAD_REPS (50)
// times after 5 warm-ups, first without and then with the expression index docs/operations.md
// describes. The round trip to the last byte, so the server's whole work.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { config, now, percentile } from "./lib.mjs";
import { pgUrlForSchema } from "./systems/overseer.mjs";

const SCHEMA = "bench_payload";
const BUDGET_MS = 50;
export const PAYLOAD_HEADING = "## Finding jobs by payload fields";

async function measure(database, createIndex) {
  const { createOverseer } = await import("../dist/index.js");
  const { createToken, startHttpServer } = await import("../dist/http/index.js");
  const overseer = await createOverseer({ database });
  try {
    for (let start = 0; start < config.payloadJobs; start += 1000) {
      const items = [];
      for (let i = start; i < Math.min(config.payloadJobs, start + 1000); i++) {
        items.push({ task: "call", payload: { i, order: `order-${i}`, customer: { id: i % 997 } } });
      }
      await overseer.enqueueMany(items);
    }
    const { secret } = await createToken(overseer.store, "bench", "viewer");
    const server = await startHttpServer({ overseer, port: 0 });
    const path = `/api/v1/jobs?limit=50&payload.order=order-${Math.floor(config.payloadJobs / 2)}`;
    const time = async () => {
      const times = [];
      for (let r = 0; r < config.payloadReps + 5; r++) {
        const t0 = now();
        const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${secret}` } });
        const body = await res.json();
        if (res.status !== 200 || body.items?.length !== 1) throw new Error(`${path}: ${res.status}, not one match`);
        if (r >= 5) times.push(now() - t0);
      }
      return { p50: percentile(times, 50), max: Math.max(...times) };
    };
    try {
      const bare = await time();
      await createIndex();
      return { path, bare, indexed: await time() };
    } finally {
      await server.close();
    }
  } finally {
    await overseer.close();
  }
}

export async function runPayloadFilter(log) {
  const out = { jobs: config.payloadJobs, reps: config.payloadReps, backends: [] };
  const dir = mkdtempSync(join(tmpdir(), "overseer-bench-payload-"));
  try {
    const file = join(dir, "bench.db");
    const sqlite = await measure(file, async () => {
      const { default: Database } = await import("better-sqlite3");
      const db = new Database(file);
      db.exec(`CREATE INDEX jobs_payload_order ON jobs (json_extract(payload, '$."order"'))`);
      db.close();
    });
    out.backends.push({ backend: "SQLite", ...sqlite });
    log(
      `payload filter: SQLite no index p50 ${sqlite.bare.p50.toFixed(1)} ms, indexed ${sqlite.indexed.p50.toFixed(1)} ms`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const admin = new pg.Client({ connectionString: config.pgUrl });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}`);
    const postgres = await measure(pgUrlForSchema(SCHEMA), () =>
      admin.query(`CREATE INDEX jobs_payload_order ON ${SCHEMA}.jobs ((payload::jsonb -> 'order'))`),
    );
    out.backends.push({ backend: "PostgreSQL", ...postgres });
    log(
      `payload filter: PostgreSQL no index p50 ${postgres.bare.p50.toFixed(1)} ms, indexed ${postgres.indexed.p50.toFixed(1)} ms`,
    );
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin.end();
  }
  return out;
}

/** The section of BENCHMARKS.md. */
export function renderPayloadFilter(result) {
  const lines = [PAYLOAD_HEADING, ""];
  if (!result?.ok) {
    lines.push(`Not measured: ${result?.error ?? "skipped (BENCH_PAYLOAD=0)"}.`, "");
    return lines.join("\n");
  }
  const ms = (v) => `${v.toFixed(1)}`;
  const path = result.backends[0]?.path ?? "";
  lines.push(
    `${result.jobs.toLocaleString("en-US")} jobs on each backend, each with a payload of its own; \`${path}\` (one match) over HTTP`,
    `on loopback, ${result.reps} times after 5 warm-ups (ms, server and client together), without an index and then with the`,
    `expression index docs/operations.md describes for the field. Goal: under ${BUDGET_MS} ms.`,
    "",
    `| Backend | no index p50 | no index max | indexed p50 | indexed max | indexed max under ${BUDGET_MS} ms |`,
    "| --- | ---: | ---: | ---: | ---: | :---: |",
  );
  for (const b of result.backends) {
    lines.push(
      `| ${b.backend} | ${ms(b.bare.p50)} | ${ms(b.bare.max)} | ${ms(b.indexed.p50)} | ${ms(b.indexed.max)} | ${b.indexed.max < BUDGET_MS ? "yes" : "no"} |`,
    );
  }
  lines.push("");
  return lines.join("\n");
}
