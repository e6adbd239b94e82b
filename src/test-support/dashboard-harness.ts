/**
 * The dashboard's end-to-end harness: Debian's Chromium, driven by playwright-core, against a real
 * `overseer start` (the built binary, a temp SQLite file, a free port). Call `dashboardHarness()`
 * at the top of a test file: it starts the server and the browser before the tests, fails each
 * test whose page logged an unexpected console error or broke the server's Content-Security-Policy
 * (and each whose pages were served without one), and stops both and removes the folder after.
 * Without Chromium every test fails, saying how to install it: it never skips.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { CHROMIUM_PATH, launchChromium } from "./chromium.mjs";
import { BIN } from "./cli.js";
import { waitFor } from "./wait.js";

/** Where screenshots go (git-ignored); made before the tests run. */
export const SHOTS = resolve(import.meta.dirname, "../../test-output/screenshots");

export interface DashboardHarnessOptions {
  /** The temp folder's name prefix. */
  prefix: string;
  /** Writes what the server needs (tasks, a config file) into its folder before it starts. */
  prepare?: (dir: string) => void;
  /** `overseer` arguments before `start` (a config file), given the folder. */
  globalArgs?: (dir: string) => string[];
  /** `start` arguments (a tasks folder), given the folder. */
  startArgs?: (dir: string) => string[];
  /** The HTTP statuses the tests provoke on purpose: Chromium logs each answer as a console error, not counted. */
  expectedHttpStatuses: number[];
  viewport: { width: number; height: number };
  /** `shot` takes the whole page, not only the viewport. */
  fullPageShots?: boolean;
}

export interface DashboardHarness {
  /** The server's folder (its database and whatever `prepare` wrote). */
  readonly dir: string;
  /** The server's address, without a trailing slash. */
  readonly url: string;
  /** The admin token the server printed. */
  readonly admin: string;
  /** A viewer token named "watcher". */
  readonly viewer: string;
  /** The one browser page all the tests share. */
  readonly page: Page;
  /** Calls the API with the admin token (or `token`); throws on a status other than 2xx. */
  request(method: string, path: string, body?: unknown, token?: string): Promise<any>;
  /** The text of the first element `selector` matches, waiting for it. */
  text(selector: string): Promise<string>;
  /** Polls until `read` gives what `ok` wants; the last value in the failure. */
  eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs?: number): Promise<T>;
  /** Saves a screenshot of the page to SHOTS as NAME.png. */
  shot(name: string): Promise<void>;
  /** axe-core's violations on the page as it stands, one line each (rule, impact, count, first elements). */
  accessibilityViolations(impacts?: ReadonlyArray<"minor" | "moderate" | "serious" | "critical">): Promise<string[]>;
  /**
   * Opens the dashboard, signs out first if a session is open, and signs in with `token`; waits
   * for the overview unless `expectFailure`, in which case it does not wait for the answer.
   */
  signIn(token: string, options?: { expectFailure?: boolean }): Promise<void>;
}

export function dashboardHarness(options: DashboardHarnessOptions): DashboardHarness {
  const expectedHttpErrors = new RegExp(
    `Failed to load resource: the server responded with a status of (${options.expectedHttpStatuses.join("|")})`,
  );
  let dir = "";
  let server: ChildProcess | null = null;
  let browser: Browser | null = null;
  let page: Page;
  let url = "";
  let admin = "";
  let viewer = "";
  const consoleErrors: string[] = [];
  /** What the page did that the server's Content-Security-Policy refused, as the browser reported it. */
  const cspViolations: string[] = [];
  /** The Content-Security-Policy of each document the page loaded during the test. */
  const documentPolicies: Array<string | undefined> = [];
  /** Set when Chromium is missing: every test then fails with it (a failed beforeAll would only skip them). */
  let missingChromium: Error | null = null;

  beforeEach(() => {
    if (missingChromium) throw missingChromium;
  });

  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) {
      missingChromium = new Error(
        `Chromium is not installed at ${CHROMIUM_PATH}: the dashboard's end-to-end tests need it. ` +
          "Install it with `apt-get update && apt-get install -y chromium` (.ci/run does), or set OVERSEER_CHROMIUM.",
      );
      return;
    }
    if (!existsSync(BIN)) throw new Error("dist/cli/main.js is missing: run `npm run build` first (npm test does)");
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), options.prefix));
    options.prepare?.(dir);
    const db = join(dir, "e2e.db");
    const child = spawn(
      process.execPath,
      [
        BIN,
        "--database",
        db,
        ...(options.globalArgs?.(dir) ?? []),
        "start",
        ...(options.startArgs?.(dir) ?? []),
        "--port",
        "0",
        "--no-summary",
        "--no-retention",
      ],
      { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
    );
    server = child;
    let out = "";
    child.stdout?.on("data", (d) => (out += d));
    child.stderr?.on("data", (d) => (out += d));
    await waitFor(
      "overseer start to print its URL and token",
      () => /admin token "admin": (\S+)/.test(out) && /HTTP API on (\S+)\/api\/v1/.test(out),
      { timeoutMs: 15_000 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; it printed:\n${out}`);
    });
    url = /HTTP API on (\S+)\/api\/v1/.exec(out)?.[1] ?? "";
    admin = /admin token "admin": (\S+)/.exec(out)?.[1] ?? "";
    const made = await promisify(execFile)(process.execPath, [
      BIN,
      "--database",
      db,
      "tokens",
      "create",
      "--scope",
      "viewer",
      "--name",
      "watcher",
    ]);
    viewer = made.stdout.trim();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: options.viewport });
    page.on("console", (message) => {
      if (message.type() === "error" && !expectedHttpErrors.test(message.text())) consoleErrors.push(message.text());
    });
    page.on("pageerror", (err) => consoleErrors.push(`uncaught: ${err.message}`));
    page.on("response", (response) => {
      if (response.request().resourceType() === "document")
        documentPolicies.push(response.headers()["content-security-policy"]);
    });
    await page.exposeFunction("__overseerCspViolation", (text: string) => cspViolations.push(text));
    // In the page, before its own scripts: every refusal is reported back here.
    await page.addInitScript({
      content: `document.addEventListener("securitypolicyviolation", (e) =>
        window.__overseerCspViolation(e.violatedDirective + " refused " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber));`,
    });
  }, 60_000);

  afterEach(() => {
    // First: a refusal also shows in the console, and this message says more.
    expect(cspViolations, "the page broke no rule of the Content-Security-Policy").toEqual([]);
    expect(consoleErrors, "the browser's console stayed free of errors").toEqual([]);
    for (const policy of documentPolicies.splice(0))
      expect(policy, "every page was served with the Content-Security-Policy").toContain("script-src 'self'");
  });

  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server?.once("close", r));
      server.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (server.exitCode === null && server.signalCode === null) server.kill("SIGKILL");
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  return {
    get dir() {
      return dir;
    },
    get url() {
      return url;
    },
    get admin() {
      return admin;
    },
    get viewer() {
      return viewer;
    },
    get page() {
      return page;
    },
    async request(method, path, body, token = admin) {
      const res = await fetch(url + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = await res.json();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    },
    async text(selector) {
      return (await page.locator(selector).first().textContent({ timeout: 10_000 })) ?? "";
    },
    async eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let last: T | undefined;
      while (Date.now() < deadline) {
        last = await read();
        if (ok(last)) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`${what}: still ${JSON.stringify(last)}`);
    },
    async accessibilityViolations(impacts) {
      return accessibilityViolations(page, impacts);
    },
    async shot(name) {
      await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: options.fullPageShots ?? false });
    },
    async signIn(token, { expectFailure = false } = {}) {
      await page.goto(`${url}/`);
      // The app renders after its script loads: wait for whichever form it shows, never guess.
      const form = page.locator("#token");
      const signOut = page.getByRole("button", { name: "Sign out" });
      await form.or(signOut).first().waitFor();
      if (await signOut.isVisible()) await signOut.click();
      await form.fill(token);
      await page.getByRole("button", { name: "Sign in" }).click();
      if (!expectFailure) await page.getByRole("heading", { name: "Overview" }).waitFor();
    },
  };
}

/**
 * Until the page has no "Loading…" note left in its main part: a page may load several parts at
 * once (On call: rotations and history), and its heading shows before they arrive.
 */
export async function pageLoaded(page: Page, what: string): Promise<void> {
  const loading = page.locator("main .muted", { hasText: /^Loading/ });
  await waitFor(`${what} loaded`, async () => (await loading.count()) === 0);
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/**
 * axe-core's violations on a page, one line each; only those of the given impacts, if named.
 * The script is evaluated over the devtools protocol, so the page's Content-Security-Policy
 * (which refuses inline scripts) does not apply.
 */
export async function accessibilityViolations(
  page: Page,
  impacts?: ReadonlyArray<"minor" | "moderate" | "serious" | "critical">,
): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const all = await page.evaluate(async () => {
    type Result = {
      violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: unknown[] }> }>;
    };
    const axe = (globalThis as unknown as { axe: { run(): Promise<Result> } }).axe;
    return (await axe.run()).violations.map((v) => ({
      impact: v.impact,
      line: `${v.id} (${v.impact}): ${v.help} (${v.nodes.length}: ${v.nodes
        .slice(0, 3)
        .map((n) => n.target.join(" "))
        .join(", ")})`,
    }));
  });
  return all.filter((v) => !impacts || impacts.includes(v.impact as never)).map((v) => v.line);
}
