// The example page, run as the README says (`node serve.mjs`), in Debian's Chromium, against a
// real Overseer HTTP server on loopback whose stream tokens live 1 s instead of 60, behind a
// proxy that can cut and hold connections: the page's stream outlives its token, the connection
// is cut after the token expired, events are enqueued before, during and after, and every one
// of them reaches the page exactly once, in order. Also: a 410 (retention deleted what it missed)
// and a revoked API token are shown for what they are; the snippet in docs/http-api.md does the
// same as the page; and a bare EventSource, for contrast, gives up and misses what follows.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createOverseer } from "overseer";
import { createToken, startHttpServer } from "overseer/http";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it, onTestFinished } from "vitest";
import { CHROMIUM_PATH, launchChromium } from "../../src/test-support/chromium.mjs";
import { cuttingProxy } from "../../src/test-support/cutting-proxy.js";
import { waitFor } from "../../src/test-support/wait.js";

let serve: ChildProcess | null = null;
let pageUrl = "";
let browser: Browser | null = null;

beforeAll(async () => {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}: apt-get install -y chromium, or set OVERSEER_CHROMIUM`,
    );
  }
  const child = spawn(process.execPath, [join(import.meta.dirname, "serve.mjs")], {
    env: { ...process.env, PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  serve = child;
  let out = "";
  child.stdout?.on("data", (d) => (out += d));
  child.stderr?.on("data", (d) => (out += d));
  await waitFor("serve.mjs to print its address", () => /on (http:\/\/\S+\/)/.test(out), { timeoutMs: 10_000 });
  pageUrl = /on (http:\/\/\S+\/)/.exec(out)?.[1] ?? "";
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  serve?.kill();
});

/** A fresh database and a server whose stream tokens live `ttlMs`, behind a proxy that can cut. */
async function server(ttlMs: number) {
  const dir = mkdtempSync(join(tmpdir(), "overseer-browser-events-"));
  const overseer = await createOverseer({ database: join(dir, "events.db") });
  const { secret } = await createToken(overseer.store, "browser", "viewer");
  const http = await startHttpServer({
    overseer,
    port: 0,
    corsOrigins: [new URL(pageUrl).origin],
    streamTokenTtlMs: ttlMs,
  });
  onTestFinished(async () => {
    await http.close();
    await overseer.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const proxy = await cuttingProxy(http.url);
  /** `n` jobs, each one event (job.enqueued): no worker runs here. */
  const enqueue = (n: number, batch: string) =>
    overseer.enqueueMany(Array.from({ length: n }, (_, i) => ({ task: "noop", payload: { batch, i } })));
  const logSeqs = async () => (await overseer.readEvents({ afterSeq: 0, limit: 1_000 })).map((e) => e.seq);
  /** The status of a stream request with this token, asked directly (not through the proxy). */
  const streamStatus = async (token: string) => {
    const res = await fetch(`${http.url}/api/v1/events?access_token=${token}`, {
      headers: { accept: "application/json" },
    });
    return res.status;
  };
  return { overseer, secret, proxy, enqueue, logSeqs, streamStatus };
}

/** The example's page in a context of its own; console errors but the `expected` go to `consoleErrors`. */
async function openPage(consoleErrors: string[], expected: RegExp): Promise<Page> {
  if (!browser) throw new Error("no browser");
  const context = await browser.newContext();
  onTestFinished(() => context.close());
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error" && !expected.test(m.text())) consoleErrors.push(m.text());
  });
  page.on("pageerror", (err) => consoleErrors.push(`uncaught: ${err.message}`));
  await page.goto(pageUrl);
  return page;
}

const tokenOf = (request: string) => /access_token=([^&\s]+)/.exec(request)?.[1] ?? "";

it("the page loses nothing when its stream drops after the stream token expired", async () => {
  const s = await server(1_000);
  const consoleErrors: string[] = [];
  // Chromium reports the cut stream itself; nothing else may show up.
  const page = await openPage(consoleErrors, /net::ERR_INCOMPLETE_CHUNKED_ENCODING/);
  const count = async () => Number(await page.locator("#count").textContent());
  const status = () => page.locator("#status").textContent();
  const until = (what: string, ok: () => Promise<boolean>) => waitFor(what, ok, { timeoutMs: 15_000, intervalMs: 50 });

  await follow(page, s);
  const startSeq = (await s.logSeqs()).at(-1) ?? 0;

  await s.enqueue(10, "before");
  await until("the first batch on the page", async () => (await count()) === 10);
  const [first] = s.proxy.requests().filter((r) => r.startsWith("GET /api/v1/events"));
  const firstToken = tokenOf(first ?? "");
  expect(firstToken).toMatch(/^ovss_/);
  await until("the page's stream token to expire", async () => (await s.streamStatus(firstToken)) === 401);

  // The open stream outlives its token: these arrive on it.
  await s.enqueue(10, "after expiry");
  await until("the second batch on the page", async () => (await count()) === 20);
  const lastBeforeCut = (await s.logSeqs()).at(-1);

  // The connection drops; its reconnect is held until these are in the log.
  s.proxy.hold(true);
  s.proxy.cut();
  await until("the page to notice", async () => (await status()) === "reconnecting");
  await s.enqueue(10, "while disconnected");
  s.proxy.hold(false);
  await until("the missed batch on the page", async () => (await count()) === 30);
  expect(await status()).toBe("live");
  await s.enqueue(10, "after the reconnect");
  await until("the last batch on the page", async () => (await count()) === 40);

  const expected = (await s.logSeqs()).filter((seq) => seq > startSeq);
  expect(expected).toHaveLength(40);
  // On the page (newest first) and on the wire: each event once, in order, none missing.
  const shown = await page.locator("#events li").evaluateAll((items) => items.map((i) => Number(i.dataset.seq)));
  expect(shown.reverse()).toEqual(expected);
  expect(s.proxy.deliveredIds()).toEqual(expected);
  // The reconnect used a fresh token and resumed after the last event the page had.
  const streams = s.proxy.requests().filter((r) => r.startsWith("GET /api/v1/events"));
  expect(streams).toHaveLength(2);
  expect(streams[1]).toContain(`&since=${lastBeforeCut}`);
  expect(tokenOf(streams[1] ?? "")).not.toBe(firstToken);
  expect(consoleErrors).toEqual([]);
});

/** Fills the page's form with the proxy's address and the token, follows, and waits until live. */
async function follow(page: Page, s: Awaited<ReturnType<typeof server>>): Promise<void> {
  await page.locator("input[name=url]").fill(s.proxy.url);
  await page.locator("input[name=token]").fill(s.secret);
  await page.getByRole("button", { name: "Follow" }).click();
  await waitFor("the stream to go live", async () => (await page.locator("#status").textContent()) === "live", {
    timeoutMs: 15_000,
    intervalMs: 50,
  });
}

it("says so when retention deleted what it missed (410), and goes on from now", async () => {
  const s = await server(60_000);
  const consoleErrors: string[] = [];
  // The 410 is answered twice: to EventSource, then to the fetch that asks why it failed.
  const page = await openPage(consoleErrors, /net::ERR_INCOMPLETE_CHUNKED_ENCODING|status of 410/);
  const count = async () => Number(await page.locator("#count").textContent());
  await follow(page, s);
  await s.enqueue(5, "before");
  await waitFor("the first batch", async () => (await count()) === 5, { timeoutMs: 15_000, intervalMs: 50 });
  s.proxy.hold(true);
  s.proxy.cut();
  await s.enqueue(5, "while disconnected");
  // Retention keeps the newest two: the page's position, and what came after it, are gone.
  await s.overseer.store.prune({ jobs: {}, events: { maxCount: 2 } });
  s.proxy.hold(false);
  await page.locator("#events li.gap").waitFor({ timeout: 15_000 });
  await waitFor("the stream to be live again", async () => (await page.locator("#status").textContent()) === "live", {
    timeoutMs: 15_000,
  });
  await s.enqueue(3, "after");
  await waitFor("the last batch", async () => (await count()) === 8, { timeoutMs: 15_000, intervalMs: 50 });
  const lines = await page.locator("#events li").evaluateAll((items) => items.map((i) => i.dataset.seq ?? "gap"));
  const last3 = (await s.logSeqs()).slice(-3).map(String);
  expect(lines.slice(0, 4)).toEqual([...last3.reverse(), "gap"]);
  const streams = s.proxy.requests().filter((r) => r.startsWith("GET /api/v1/events"));
  // EventSource's attempt with the old position, the fetch asking why, then one from now.
  expect(streams.slice(1).map((r) => r.replace(/access_token=[^&\s]+/, "access_token=T"))).toEqual([
    expect.stringMatching(/^GET \/api\/v1\/events\?access_token=T&since=\d+$/),
    expect.stringMatching(/^GET \/api\/v1\/events\?since=\d+$/),
    "GET /api/v1/events?access_token=T",
  ]);
  expect(consoleErrors).toEqual([]);
});

it("stops, and says so, once the API token itself is revoked", async () => {
  const s = await server(60_000);
  const consoleErrors: string[] = [];
  const page = await openPage(consoleErrors, /net::ERR_INCOMPLETE_CHUNKED_ENCODING|status of 401/);
  await follow(page, s);
  s.proxy.hold(true);
  s.proxy.cut();
  await s.overseer.store.revokeToken("browser");
  s.proxy.hold(false);
  await waitFor("the page to stop", async () => (await page.locator("#status").textContent()) === "refused", {
    timeoutMs: 15_000,
  });
  // One refused attempt to mint a token, and no stream after it.
  const afterCut = s.proxy.requests().filter((r) => !r.startsWith("OPTIONS"));
  expect(afterCut.filter((r) => r.startsWith("GET /api/v1/events"))).toHaveLength(1);
  expect(afterCut.filter((r) => r === "POST /api/v1/stream-tokens")).toHaveLength(2);
  expect(consoleErrors).toEqual([]);
});

it("the snippet in docs/http-api.md, run as written, loses nothing across the same cut", async () => {
  const docs = readFileSync(new URL("../../docs/http-api.md", import.meta.url), "utf8");
  const section = docs.slice(docs.indexOf("\n### Reconnecting from a browser\n"));
  const snippet = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (!snippet?.includes("new EventSource")) throw new Error("docs/http-api.md: no js block under its heading");
  const s = await server(1_000);
  if (!browser) throw new Error("no browser");
  // The snippet's URLs are relative: it runs on a page of the server's own origin. `bypassCSP`
  // lets it be evaluated whatever Content-Security-Policy that page has.
  const context = await browser.newContext({ bypassCSP: true });
  onTestFinished(() => context.close());
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !/net::ERR_INCOMPLETE_CHUNKED_ENCODING/.test(m.text())) consoleErrors.push(m.text());
  });
  page.on("pageerror", (err) => consoleErrors.push(`uncaught: ${err.message}`));
  await page.goto(`${s.proxy.url}/healthz`);
  const startSeq = (await s.logSeqs()).at(-1) ?? 0;
  await page.evaluate(
    ({ code, apiToken }) => {
      const seqs: number[] = [];
      // Each EventSource the snippet opens, so the test can wait until one is open.
      const sources: EventSource[] = [];
      const Native = window.EventSource;
      window.EventSource = class extends Native {
        constructor(url: string | URL, init?: EventSourceInit) {
          super(url, init);
          sources.push(this);
        }
      };
      Object.assign(window, { seqs, sources });
      // apiToken and handle are what the snippet expects its page to have.
      new Function("apiToken", "handle", code)(apiToken, (event: { seq: number }) => seqs.push(event.seq));
    },
    { code: snippet, apiToken: s.secret },
  );
  const received = () => page.evaluate(() => (window as unknown as { seqs: number[] }).seqs.slice());
  const until = (what: string, n: number) =>
    waitFor(what, async () => (await received()).length === n, { timeoutMs: 15_000, intervalMs: 50 });
  // Open: the server has its position (from now), so what is enqueued next reaches it.
  await waitFor(
    "the snippet's stream to open",
    () => page.evaluate(() => (window as unknown as { sources: EventSource[] }).sources.at(-1)?.readyState === 1),
    { timeoutMs: 15_000, intervalMs: 50 },
  );

  await s.enqueue(10, "before");
  await until("the first batch", 10);
  const [first] = s.proxy.requests().filter((r) => r.startsWith("GET /api/v1/events"));
  await waitFor("the token to expire", async () => (await s.streamStatus(tokenOf(first ?? ""))) === 401, {
    timeoutMs: 15_000,
    intervalMs: 50,
  });
  await s.enqueue(10, "after expiry");
  await until("the second batch", 20);
  s.proxy.hold(true);
  s.proxy.cut();
  await s.enqueue(10, "while disconnected");
  s.proxy.hold(false);
  await until("the missed batch", 30);
  await s.enqueue(10, "after the reconnect");
  await until("the last batch", 40);

  const expected = (await s.logSeqs()).filter((seq) => seq > startSeq);
  expect(await received()).toEqual(expected);
  expect(s.proxy.deliveredIds()).toEqual(expected);
  expect(consoleErrors).toEqual([]);
});

// Why the page does what it does: a bare EventSource, left to reconnect by itself, repeats the
// URL with the expired token after the same cut, is answered 401 and gives up.
it("a bare EventSource gives up after the same cut, and the events after it never arrive", async () => {
  const s = await server(1_000);
  const consoleErrors: string[] = [];
  const page = await openPage(consoleErrors, /net::ERR_INCOMPLETE_CHUNKED_ENCODING|status of 401/);
  await page.evaluate(
    async ({ base, apiToken }) => {
      const res = await fetch(`${base}/api/v1/stream-tokens`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiToken}` },
      });
      const { token } = await res.json();
      const seqs: number[] = [];
      const source = new EventSource(`${base}/api/v1/events?access_token=${token}`);
      source.onmessage = (m) => seqs.push(JSON.parse(m.data).seq);
      Object.assign(window, { bare: { source, seqs } });
      await new Promise((resolve) => {
        source.onopen = resolve;
      });
    },
    { base: s.proxy.url, apiToken: s.secret },
  );
  const bare = () =>
    page.evaluate(() => {
      const { source, seqs } = (window as unknown as { bare: { source: EventSource; seqs: number[] } }).bare;
      return { readyState: source.readyState, count: seqs.length };
    });
  await s.enqueue(10, "before");
  await waitFor("the first batch", async () => (await bare()).count === 10, { timeoutMs: 15_000, intervalMs: 50 });
  const [first] = s.proxy.requests().filter((r) => r.startsWith("GET /api/v1/events"));
  await waitFor("the token to expire", async () => (await s.streamStatus(tokenOf(first ?? ""))) === 401, {
    timeoutMs: 15_000,
    intervalMs: 50,
  });
  s.proxy.cut();
  await s.enqueue(10, "after the cut");
  // EventSource.CLOSED: it tried again (the same URL, 401) and stopped for good.
  await waitFor("EventSource to give up", async () => (await bare()).readyState === 2, { timeoutMs: 15_000 });
  const retried = s.proxy.requests().filter((r) => r.startsWith("GET /api/v1/events"));
  expect(retried).toEqual([first, first]);
  expect((await bare()).count).toBe(10);
  expect(consoleErrors).toEqual([]);
});
