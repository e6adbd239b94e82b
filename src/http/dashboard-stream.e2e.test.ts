/**
 * The dashboard's live view across a dropped event stream, end to end: Debian's Chromium against
 * a real `overseer start`, through a proxy that cuts every connection and then refuses new ones.
 * The top bar says "reconnecting…", then "stream lost", with a Retry button; once the server is
 * reachable again the stream resumes from the last event it had, and the Events page holds every
 * event of the log exactly once. The dashboard reads its stream with fetch and its bearer token,
 * so no short-lived stream token is involved that could have expired in the meantime.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it, onTestFinished } from "vitest";
import { cuttingProxy } from "../test-support/cutting-proxy.js";
import { dashboardHarness, SHOTS } from "../test-support/dashboard-harness.js";

const e2e = dashboardHarness({
  prefix: "overseer-dashboard-stream-e2e-",
  prepare(dir) {
    mkdirSync(join(dir, "tasks"));
    writeFileSync(join(dir, "tasks", "noop.mjs"), "export default async function () {}\n");
  },
  startArgs: (dir) => ["--tasks", join(dir, "tasks")],
  expectedHttpStatuses: [],
  viewport: { width: 1280, height: 900 },
});

/** Every event's seq in the server's log, oldest first (a JSON page; the test keeps it under 1,000). */
async function logSeqs(): Promise<number[]> {
  const res = await fetch(`${e2e.url}/api/v1/events?since=0&limit=1000`, {
    headers: { authorization: `Bearer ${e2e.admin}`, accept: "application/json" },
  });
  expect(res.status).toBe(200);
  const page = (await res.json()) as { items: { seq: number }[] };
  return page.items.map((e) => e.seq);
}

async function enqueue(n: number, batch: string): Promise<void> {
  // Delayed a day: each is one event (job.enqueued) and nothing more happens while the test looks.
  for (let i = 0; i < n; i++)
    await e2e.request("POST", "/api/v1/jobs", { task: "noop", payload: { batch, i }, options: { delay: "1d" } });
}

it("resumes the live view after the stream is cut, with no event missed or shown twice", async () => {
  const proxy = await cuttingProxy(e2e.url);
  // A page of its own, at the proxy's address: Chromium reports the cut stream as a console
  // error (ERR_INCOMPLETE_CHUNKED_ENCODING), which the harness's page would count as a failure.
  // This one fails on any other console error, as the harness's does.
  const browser = e2e.page.context().browser();
  if (!browser) throw new Error("the harness's page has no browser");
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  onTestFinished(() => context.close());
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  const expected = /net::ERR_INCOMPLETE_CHUNKED_ENCODING|the server responded with a status of 503/;
  page.on("console", (m) => {
    if (m.type() === "error" && !expected.test(m.text())) consoleErrors.push(m.text());
  });
  page.on("pageerror", (err) => consoleErrors.push(`uncaught: ${err.message}`));
  const status = page.getByTestId("stream-status");
  const shownSeqs = async () =>
    (await page
      .locator("table[aria-label=events] tbody tr[data-key]")
      .evaluateAll((rows) => rows.map((r) => Number(r.getAttribute("data-key"))))) as number[];

  await page.goto(`${proxy.url}/events`);
  await page.locator("#token").fill(e2e.admin);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Events" }).waitFor();
  await e2e.eventually(
    () => status.textContent(),
    (t) => t === "● live",
    "the stream goes live",
  );

  await enqueue(10, "before");
  const before = await logSeqs();
  await e2e.eventually(shownSeqs, (s) => s[0] === before.at(-1), "the first batch is shown");
  const lastBeforeCut = proxy.deliveredIds().at(-1);
  expect(lastBeforeCut).toBe(before.at(-1));

  // The server becomes unreachable: every connection is cut and new ones are refused.
  proxy.refuse(true);
  proxy.cut();
  await enqueue(10, "while down");
  await e2e.eventually(
    () => status.textContent(),
    // With a Retry button already, for whoever does not want to wait for the next attempt.
    (t) => t === "reconnecting…Retry",
    "the top bar says reconnecting",
  );
  // After three failed attempts in a row it says so, and offers to try at once.
  await e2e.eventually(
    () => status.textContent(),
    (t) => t?.startsWith("stream lost") === true,
    "stream lost",
  );
  await page.screenshot({ path: join(SHOTS, "stream-lost.png") });
  proxy.refuse(false);
  await status.getByRole("button", { name: "Retry" }).click();
  await e2e.eventually(
    () => status.textContent(),
    (t) => t === "● live",
    "the stream is live again",
  );
  await enqueue(10, "after");

  const all = await logSeqs();
  expect(all.length).toBeGreaterThanOrEqual(30);
  // Every event of the log on the page, newest first, each once: none missed across the cut.
  await e2e.eventually(shownSeqs, (s) => s[0] === all.at(-1), "the last batch is shown");
  expect(await shownSeqs()).toEqual([...all].reverse());

  // What the server sent the browser over all its stream connections: each event once, in order,
  // with no gap from the first one the stream carried.
  const delivered = proxy.deliveredIds();
  const first = all.indexOf(delivered[0] ?? -1);
  expect(first).toBeGreaterThanOrEqual(0);
  expect(delivered).toEqual(all.slice(first));
  expect(delivered).toContain(lastBeforeCut);
  // It resumed from the last event it had, and never needed a stream token.
  const streams = proxy.requests().filter((r) => r.startsWith("GET /api/v1/events") && !r.includes("limit="));
  expect(streams).toContain(`GET /api/v1/events?since=${lastBeforeCut}`);
  expect(proxy.requests().filter((r) => r.includes("access_token") || r.includes("stream-tokens"))).toEqual([]);
  expect(consoleErrors, "the browser's console had no other errors").toEqual([]);
});
