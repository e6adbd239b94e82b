// The build behind `npm start` and `npm test`: only what changed since the last build. Hashes
// of the files each part is built from are kept in dist/.build-stamp.json: tsc runs only when
// a source or tsconfig changed, and then incrementally (its build info in dist/, so removing
// dist/ starts over); the dashboard is rebuilt only when a file it is built from changed. A source file deleted since the last build would leave its output
// behind, so that starts from a clean dist/ too. `npm run build` stays a full clean build.
//   node scripts/build-changed.mjs
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Files under `dir` (relative to `root`), sorted, skipping node_modules. */
export function listFiles(root, dir) {
  const out = [];
  const walk = (at) => {
    for (const entry of readdirSync(join(root, at), { withFileTypes: true })) {
      if (entry.name === "node_modules") continue;
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(path);
    }
  };
  if (existsSync(join(root, dir))) walk(dir);
  return out.sort();
}

/** One hash of these files' paths and contents. */
export function hashFiles(root, paths) {
  const hash = createHash("sha256");
  for (const path of paths) {
    hash.update(`${path}\0`);
    hash.update(existsSync(join(root, path)) ? readFileSync(join(root, path)) : "(missing)");
    hash.update("\0");
  }
  return hash.digest("hex");
}

/**
 * What to do, from the last build's stamp (null when there is none) and the tree now:
 * `clean` empties dist/ first, `compile` runs tsc, `dashboard` rebuilds the dashboard. A part
 * whose output is missing is built whatever the stamp says.
 */
export function planBuild(stamp, now) {
  const removed = stamp === null ? [] : stamp.sources.filter((s) => !now.sources.includes(s));
  const clean = removed.length > 0;
  const fresh = clean || stamp === null;
  const compile = fresh || stamp.compiled !== now.compiled || !now.compiledBuilt;
  const dashboard = fresh || stamp.dashboard !== now.dashboard || !now.dashboardBuilt;
  return { clean, compile, dashboard, removed };
}

function run(command, args, root) {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", shell: process.platform === "win32" });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function main() {
  const root = resolve(fileURLToPath(new URL(".", import.meta.url)), "..");
  const dist = join(root, "dist");
  const stampPath = join(dist, ".build-stamp.json");
  const bin = (name) => join(root, "node_modules", ".bin", name);
  let stamp = null;
  try {
    stamp = JSON.parse(readFileSync(stampPath, "utf8"));
  } catch {
    stamp = null; // no build yet, or one by `npm run build`: build everything
  }
  const sources = listFiles(root, "src").filter((f) => f.endsWith(".ts"));
  const dashboardInputs = [...listFiles(root, "dashboard"), "package.json", "package-lock.json"];
  const compilerInputs = [...sources, "tsconfig.json", "tsconfig.build.json", "package-lock.json"];
  const now = {
    sources,
    compiled: hashFiles(root, compilerInputs),
    compiledBuilt: existsSync(join(dist, "cli", "main.js")) && existsSync(join(dist, ".tsbuildinfo")),
    dashboard: hashFiles(root, dashboardInputs),
    dashboardBuilt: existsSync(join(dist, "dashboard", "index.html")),
  };
  const plan = planBuild(stamp, now);
  if (plan.clean) {
    process.stdout.write(`build: ${plan.removed.join(", ")} removed since the last build; building from scratch\n`);
    rmSync(dist, { recursive: true, force: true });
  }
  // Without a stamp, dist/ may hold a full build's output without tsc's build info: tsc would
  // then emit everything anyway, so nothing is lost by keeping it.
  if (plan.compile) {
    run(bin("tsc"), ["-p", "tsconfig.build.json", "--incremental", "--tsBuildInfoFile", join(dist, ".tsbuildinfo")], root);
    chmodSync(join(dist, "cli", "main.js"), 0o755);
  }
  if (plan.dashboard) run(bin("vite"), ["build", "--config", "dashboard/vite.config.ts"], root);
  writeFileSync(stampPath, `${JSON.stringify({ sources, compiled: now.compiled, dashboard: now.dashboard })}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
