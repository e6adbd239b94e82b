#!/usr/bin/env node
// Lints the OpenAPI document the server serves, as the server serves it: builds the HTTP API
// in-process (from dist/, over a fresh SQLite file), asks it for GET /api/v1/openapi.json,
// writes the answer to a temporary file and runs `redocly lint` on it with redocly.yaml's rules.
// Both variants are linted: /metrics behind a token (the default) and public (--metrics-public).
// Exits non-zero on any error or warning; the temporary folder is removed either way.
//
//   npm run lint:openapi      (builds first; `node scripts/lint-openapi.mjs` after a build)
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const built = (path) => pathToFileURL(join(root, "dist", path)).href;

if (!existsSync(join(root, "dist", "http", "server.js"))) {
  console.error("lint:openapi: dist/ is missing; run `npm run build` first (or `npm run lint:openapi`, which does)");
  process.exit(1);
}

const { createOverseer } = await import(built("sdk/overseer.js"));
const { buildHttpServer } = await import(built("http/server.js"));
const { createToken } = await import(built("auth/tokens.js"));

/** The document a server with these options serves, exactly as a client receives it. */
async function servedDocument(dir, metricsPublic) {
  const overseer = await createOverseer({ database: join(dir, `overseer-${metricsPublic}.db`) });
  try {
    const { secret } = await createToken(overseer.store, "openapi-lint", "viewer");
    const server = await buildHttpServer({ overseer, metricsPublic });
    try {
      const res = await server.app.inject({
        method: "GET",
        url: "/api/v1/openapi.json",
        headers: { authorization: `Bearer ${secret}` },
      });
      if (res.statusCode !== 200) throw new Error(`GET /api/v1/openapi.json answered ${res.statusCode}: ${res.body}`);
      return res.body;
    } finally {
      await server.app.close();
    }
  } finally {
    await overseer.close();
  }
}

/** redocly's report on one file, printed; true when it found nothing. */
function lint(file) {
  const redocly = join(root, "node_modules", ".bin", "redocly");
  const run = spawnSync(redocly, ["lint", file, "--config", join(root, "redocly.yaml"), "--format=json"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  let report;
  try {
    report = JSON.parse(run.stdout);
  } catch {
    // Not a report: redocly itself failed (a bad config, a crash); show what it said.
    console.error(`redocly lint did not report (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
    return false;
  }
  for (const p of report.problems) {
    const where = (p.location ?? []).map((l) => l.pointer ?? "").join(", ");
    console.error(`  ${p.severity} ${p.ruleId}: ${p.message}\n    at ${where}`);
  }
  const { errors, warnings } = report.totals;
  console.log(`${basename(file)}: ${errors} errors, ${warnings} warnings`);
  return errors === 0 && warnings === 0 && run.status === 0;
}

const dir = mkdtempSync(join(tmpdir(), "overseer-openapi-"));
try {
  let clean = true;
  for (const metricsPublic of [false, true]) {
    const file = join(dir, metricsPublic ? "openapi-metrics-public.json" : "openapi.json");
    writeFileSync(file, await servedDocument(dir, metricsPublic));
    if (!lint(file)) clean = false;
  }
  if (!clean) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
