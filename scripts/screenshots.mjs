#!/usr/bin/env node
// Refreshes docs/screenshots/*.png: starts the built `overseer start --demo` on a temp SQLite
// file (the demo producer fills the jobs, an approval waits; a run of the example's pretend agent
// and an alert are added through the API), opens each page in Debian's Chromium, saves it, then
// stops everything and removes the folder. Run it with `npm run screenshots` (which builds first).
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { launchChromium } from "../src/test-support/chromium.mjs";

const root = resolve(import.meta.dirname, "..");
const BIN = join(root, "dist/cli/main.js");
const OUT = join(root, "docs/screenshots");
const WIDE = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

if (!existsSync(BIN)) throw new Error("dist/cli/main.js is missing: run `npm run build` first");
mkdirSync(OUT, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), "overseer-screenshots-"));
let server;
let browser;

/** Polls `read` until it gives a value other than undefined, for at most `ms`. */
async function until(what, read, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`gave up waiting for ${what}`);
}

try {
  // The example's run profile, with an alert policy beside it; its agent sits next to the config.
  const example = JSON.parse(readFileSync(join(root, "examples/agent-runs/overseer.config.json"), "utf8"));
  copyFileSync(join(root, "examples/agent-runs/demo-agent.mjs"), join(dir, "demo-agent.mjs"));
  const config = {
    ...example,
    alerts: {
      channels: { log: { type: "console" } },
      policies: { ops: { steps: [{ delay: "0s", notify: ["log"] }], repeat: 0 } },
    },
  };
  writeFileSync(join(dir, "overseer.config.json"), JSON.stringify(config));

  server = spawn(
    process.execPath,
    [
      BIN,
      "--database",
      join(dir, "demo.db"),
      "--config",
      join(dir, "overseer.config.json"),
      "start",
      "--demo",
      "--port",
      "0",
      "--no-summary",
    ],
    { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
  );
  let printed = "";
  server.stdout.on("data", (d) => (printed += d));
  server.stderr.on("data", (d) => (printed += d));
  const url = await until("the server's address", () => /HTTP API on (\S+)\/api\/v1/.exec(printed)?.[1], 15_000);
  const admin = await until("the admin token", () => /admin token "admin": (\S+)/.exec(printed)?.[1], 15_000);
  const api = async (method, path, body) => {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };

  const { run } = await api("POST", "/api/v1/runs", { profile: "demo-agent", params: { turns: 8 } });
  await api("POST", "/api/v1/alerts", { summary: "disk almost full on db-1", policy: "ops" });
  await api("POST", "/api/v1/alerts", { summary: "certificate expires in 3 days", policy: "ops" });
  const failed = await until(
    "a job that failed",
    async () => (await api("GET", "/api/v1/jobs?state=dead&limit=1")).items[0],
    90_000,
  );
  await until("an approval waiting", async () => (await api("GET", "/api/v1/approvals?state=pending")).items[0]);
  await until("the run's third turn", async () => {
    const { run: now } = await api("GET", `/api/v1/runs/${run.id}`);
    return now.currentTurn >= 3 || now.state === "completed" ? now : undefined;
  });

  browser = await launchChromium();
  const page = await browser.newPage({ viewport: WIDE });
  await page.goto(`${url}/`);
  await page.locator("#token").fill(admin);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor();

  const shoot = async (name, path) => {
    await page.goto(`${url}${path}`);
    await page.locator("main h1").first().waitFor();
    await until(`${path} to load`, async () =>
      (await page.locator("main .muted", { hasText: /^Loading/ }).count()) === 0 ? true : undefined,
    );
    // The overview's charts and the live parts settle within a moment of the data arriving.
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(OUT, `${name}.png`) });
    console.log(`docs/screenshots/${name}.png`);
  };
  await shoot("overview", "/");
  await shoot("jobs", "/jobs?state=dead");
  await shoot("job-detail", `/jobs/${failed.id}`);
  await shoot("run", `/runs/${run.id}`);
  await shoot("approvals", "/approvals");
  await shoot("alerts", "/alerts");
  await shoot("workers", "/workers");
  await shoot("metrics", "/stats");
  await page.setViewportSize(PHONE);
  await shoot("phone-jobs", "/jobs");
  await page.setViewportSize(WIDE);
  await page.emulateMedia({ colorScheme: "dark" });
  await shoot("dark-overview", "/");
} finally {
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once("close", r));
    server.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (server.exitCode === null && server.signalCode === null) server.kill("SIGKILL");
  }
  rmSync(dir, { recursive: true, force: true });
}
