/**
 * /metrics beyond jobs: approvals, alerts and their notifications, re-queues, idempotency hits,
 * concurrency keys and workers' slots, each driven for real (a request decided, an alert sent
 * through a channel that answers and one that refuses, an enqueue repeated and a re-queue pass
 * run by another process, the CLI; a key at its limit) on the test backend, then scraped over HTTP.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../config/config.js";
import { pendingApproval } from "../test-support/approvals.js";
import { cliSandbox } from "../test-support/cli.js";
import { type TestApi, testApi } from "../test-support/http.js";
import { parseFamilies, seriesValue } from "../test-support/prometheus-text.js";
import { testDatabase } from "../test-support/test-backend.js";
import { deferred, waitFor } from "../test-support/wait.js";
import { startWebhookReceiver, type WebhookReceiver } from "../test-support/webhook-receiver.js";
import { MAX_KEY_SERIES } from "./metrics.js";

const SECRET = "metrics-hook-secret";
const cli = cliSandbox("overseer-metrics-cli-");
const receivers: WebhookReceiver[] = [];

afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
  delete process.env.METRICS_HOOK_SECRET;
});

/** Scrapes until `ready` holds for the text, every event counted first; returns that scrape. */
async function scrapeWhen(api: TestApi, what: string, ready: (text: string) => boolean): Promise<string> {
  let last = "";
  try {
    return await waitFor(
      what,
      async () => {
        api.server.events.poke();
        await api.server.metrics.settled();
        const res = await api.request("GET", "/metrics", { token: api.tokens.metrics });
        expect(res.status).toBe(200);
        last = res.text;
        return ready(res.text) ? res.text : null;
      },
      { timeoutMs: 15_000, intervalMs: 50 },
    );
  } catch (err) {
    // What it showed instead, Control-plane families only.
    const shown = last.split("\n").filter((l) => /^overseer_(alert|approval|concurrency|worker|idempotency)/.test(l));
    throw new Error(`${(err as Error).message}; the last scrape had:\n${shown.join("\n")}`);
  }
}

describe("/metrics on approvals", () => {
  it("shows the pending requests, counts the settled ones by outcome and times each decision", async () => {
    let now = Date.parse("2030-01-01T09:00:00.000Z");
    const api = await testApi({
      open: async (o) => (await testDatabase("overseer-metrics-")).open({ ...o, clock: () => now }),
    });
    const approved = await pendingApproval(api.overseer);
    const denied = await pendingApproval(api.overseer);
    const timedOut = await pendingApproval(api.overseer, { timeout: "1m" });
    const cancelled = await pendingApproval(api.overseer);
    await pendingApproval(api.overseer); // still pending at the scrape
    const alice = { name: "alice", scope: "operator" } as const;

    now += 30_000;
    await api.overseer.decideApproval(denied.id, { decision: "deny", reason: "not today" }, alice);
    await api.overseer.cancel(cancelled.jobId as string);
    now += 60_000;
    await api.overseer.decideApproval(approved.id, { decision: "approve" }, alice);
    expect((await api.overseer.store.expireApprovals()).map((a) => a.id)).toEqual([timedOut.id]);

    const text = await scrapeWhen(
      api,
      "four requests counted",
      (t) => seriesValue(t, 'overseer_approvals_settled_total{outcome="timed_out"}') === 1,
    );
    expect(seriesValue(text, "overseer_approvals_pending")).toBe(1);
    expect(seriesValue(text, 'overseer_approvals_settled_total{outcome="approved"}')).toBe(1);
    expect(seriesValue(text, 'overseer_approvals_settled_total{outcome="denied"}')).toBe(1);
    expect(seriesValue(text, 'overseer_approvals_settled_total{outcome="cancelled"}')).toBe(1);
    // Seconds from the request to the outcome, on the store's clock.
    expect(seriesValue(text, 'overseer_approval_decision_seconds_sum{outcome="approved"}')).toBe(90);
    expect(seriesValue(text, 'overseer_approval_decision_seconds_bucket{le="60",outcome="approved"}')).toBe(0);
    expect(seriesValue(text, 'overseer_approval_decision_seconds_bucket{le="300",outcome="approved"}')).toBe(1);
    expect(seriesValue(text, 'overseer_approval_decision_seconds_sum{outcome="denied"}')).toBe(30);
    expect(seriesValue(text, 'overseer_approval_decision_seconds_sum{outcome="timed_out"}')).toBe(90);
    expect(seriesValue(text, 'overseer_approval_decision_seconds_count{outcome="cancelled"}')).toBeNull();
  });
});

describe("/metrics on alerts", () => {
  it("shows open alerts by status, counts escalations by trigger and sends by channel and status", async () => {
    const ok = await startWebhookReceiver(SECRET);
    const refusing = await startWebhookReceiver(SECRET);
    receivers.push(ok, refusing);
    refusing.status = 410; // refused for good: no retry
    process.env.METRICS_HOOK_SECRET = SECRET;
    const hook = (url: string) => ({
      type: "webhook",
      url,
      secret: "env:METRICS_HOOK_SECRET",
      timeout: "2s",
      bundle: { window: 0 },
    });
    const { alerts } = parseConfig(
      {
        alerts: {
          channels: { ops: hook(ok.url), pager: hook(refusing.url) },
          policies: { both: { steps: [{ delay: "0s", notify: ["ops", "pager"] }] } },
        },
      },
      "test",
    );
    const api = await testApi({
      open: async (o) => (await testDatabase("overseer-metrics-")).open({ ...o, alerts }),
    });
    const worker = api.overseer.worker({ maintenanceMs: 50, pollMs: 50 });
    await worker.start();
    const first = await api.overseer.raiseAlert({ summary: "disk full", policy: "both" });
    await api.overseer.raiseAlert({ summary: "queue stuck", policy: "both" });
    await api.overseer.acknowledgeAlert(first.alert.id, "alice");
    // A person escalates the acknowledged one: its last step again, triggered again.
    await api.overseer.escalateAlert(first.alert.id, "bob");
    await api.overseer.acknowledgeAlert(first.alert.id, "alice");

    const text = await scrapeWhen(
      api,
      "six sends recorded",
      (t) =>
        seriesValue(t, 'overseer_alert_notifications_total{channel="ops",status="sent"}') === 3 &&
        seriesValue(t, 'overseer_alert_notifications_total{channel="pager",status="failed"}') === 3,
    );
    await worker.stop();
    expect(ok.accepted).toHaveLength(3);
    expect(seriesValue(text, 'overseer_alerts_open{status="triggered"}')).toBe(1);
    expect(seriesValue(text, 'overseer_alerts_open{status="acknowledged"}')).toBe(1);
    expect(seriesValue(text, 'overseer_alert_escalations_total{trigger="policy"}')).toBe(2);
    expect(seriesValue(text, 'overseer_alert_escalations_total{trigger="manual"}')).toBe(1);
    expect(seriesValue(text, 'overseer_alert_notifications_total{channel="ops",status="failed"}')).toBeNull();
    expect(seriesValue(text, 'overseer_alert_notifications_total{channel="pager",status="sent"}')).toBeNull();
  });
});

describe("/metrics on jobs beyond their outcomes", () => {
  it("counts idempotency hits and re-queues made by another process on the database", async () => {
    const db = await testDatabase("overseer-metrics-");
    const api = await testApi({ open: (o) => db.open(o) });
    // Other processes on the same database: the CLI's enqueues and its re-queue pass.
    const cliEnqueue = async (key: string, queue = "default") => {
      const res = await cli.run(["--database", db.database, "enqueue", "mail", "--key", key, "--queue", queue]);
      expect(res.code, res.stderr).toBe(0);
      return res.stdout;
    };
    const first = await api.overseer.enqueue("mail", { to: "a" }, { idempotencyKey: "welcome-a" });
    expect(await cliEnqueue("welcome-a")).toMatch(/^exists \(idempotency key\)/);
    expect(await cliEnqueue("welcome-a")).toMatch(/^exists \(idempotency key\)/);
    await cliEnqueue("welcome-b", "bulk");
    expect(
      (await api.overseer.enqueueWithResult("mail", {}, { idempotencyKey: "welcome-b", queue: "bulk" })).job.queue,
    ).toBe("bulk");
    expect((await api.overseer.readEvents({ jobId: first.id })).map((e) => e.kind)).toEqual([
      "job.enqueued",
      "job.deduplicated",
      "job.deduplicated",
    ]);

    api.overseer.defineTask("flaky", async () => {
      throw new Error("the provider is down");
    });
    const dead = await api.overseer.enqueue("flaky", {}, { maxAttempts: 1, queue: "calls" });
    const worker = api.overseer.worker({ queues: ["calls"], pollMs: 20 });
    await worker.start();
    await waitFor("the job to die", async () => (await api.overseer.getJob(dead.id))?.state === "dead");
    await worker.stop();
    const pass = await cli.run(["--database", db.database, "--json", "requeue", "--dead", "--max-age", "1h"]);
    expect(pass.code, pass.stderr).toBe(0);
    expect(JSON.parse(pass.stdout)).toMatchObject({ requeued: 1 });

    const text = await scrapeWhen(
      api,
      "the re-queue counted",
      (t) => seriesValue(t, 'overseer_jobs_requeued_total{task="flaky",queue="calls"}') === 1,
    );
    expect(seriesValue(text, 'overseer_idempotency_hits_total{task="mail",queue="default"}')).toBe(2);
    expect(seriesValue(text, 'overseer_idempotency_hits_total{task="mail",queue="bulk"}')).toBe(1);
    // A repeat enqueue is not a new job.
    expect(seriesValue(text, 'overseer_jobs_enqueued_total{task="mail",queue="default"}')).toBe(1);
  });

  it("shows each concurrency key's running, waiting and limit, the jobs a full key holds back, and workers' busy slots", async () => {
    const api = await testApi();
    const release = deferred();
    api.overseer.defineTask("call", async () => release.promise);
    for (let i = 0; i < 3; i++) {
      await api.overseer.enqueue("call", { i }, { concurrency: { key: "business-7", limit: 1 } });
    }
    await api.overseer.enqueue("call", { i: 3 }, { concurrency: { key: "business-9", limit: 2 } });
    const worker = api.overseer.worker({ concurrency: 4, pollMs: 20, name: "caller" });
    await worker.start();
    try {
      const [record] = (await api.overseer.listWorkers()).filter((w) => w.name === "caller");
      expect(record).toBeDefined();
      const labels = `{worker="${record?.id}",name="caller"}`;
      const text = await scrapeWhen(
        api,
        "two calls running",
        // The gauges come from several queries, each its own snapshot: a scrape racing the
        // second claim can see it in one and not the other, so wait for the settled state.
        (t) =>
          seriesValue(t, 'overseer_concurrency_key_running{key="business-9"}') === 1 &&
          seriesValue(t, 'overseer_concurrency_key_running{key="business-7"}') === 1 &&
          seriesValue(t, "overseer_concurrency_limited_jobs") === 2 &&
          seriesValue(t, `overseer_worker_busy_slots${labels}`) === 2,
      );
      expect(seriesValue(text, 'overseer_concurrency_key_waiting{key="business-7"}')).toBe(2);
      expect(seriesValue(text, 'overseer_concurrency_key_limit{key="business-7"}')).toBe(1);
      expect(seriesValue(text, 'overseer_concurrency_key_waiting{key="business-9"}')).toBe(0);
      expect(seriesValue(text, 'overseer_concurrency_key_limit{key="business-9"}')).toBe(2);
      expect(seriesValue(text, "overseer_concurrency_keys")).toBe(2);
      // business-7's two queued calls wait for its one slot; business-9 has a free one.
      expect(seriesValue(text, "overseer_concurrency_limited_jobs")).toBe(2);
      expect(seriesValue(text, `overseer_worker_slots${labels}`)).toBe(4);
      expect(seriesValue(text, `overseer_worker_utilization_ratio${labels}`)).toBe(0.5);
    } finally {
      release.resolve();
      await worker.stop();
    }
    // A stopped worker is no longer shown; its slots are not anyone's.
    const after = await scrapeWhen(api, "the worker gone", (t) => !t.includes('name="caller"'));
    expect(seriesValue(after, "overseer_concurrency_limited_jobs")).toBe(0);
  });

  it(`exports the per-key gauges for the ${MAX_KEY_SERIES} busiest keys only, and counts them all`, async () => {
    const api = await testApi();
    const keys = MAX_KEY_SERIES + 5;
    const key = (i: number) => `business-${String(i).padStart(3, "0")}`;
    await api.overseer.enqueueMany(
      Array.from({ length: keys }, (_, i) => ({
        task: "call",
        payload: { i },
        options: { concurrency: { key: key(i), limit: 1 } },
      })),
    );
    // The busiest: a second queued job on the last key puts it first.
    await api.overseer.enqueue("call", {}, { concurrency: { key: key(keys - 1), limit: 1 } });
    const text = await scrapeWhen(api, "every key", (t) => seriesValue(t, "overseer_concurrency_keys") === keys);
    const waiting = parseFamilies(text).get("overseer_concurrency_key_waiting")?.samples ?? [];
    expect(waiting).toHaveLength(MAX_KEY_SERIES);
    expect(seriesValue(text, `overseer_concurrency_key_waiting{key="${key(keys - 1)}"}`)).toBe(2);
    // Then by name: the first keys by name are in, the last ones (but the busiest) left out.
    expect(seriesValue(text, `overseer_concurrency_key_waiting{key="${key(0)}"}`)).toBe(1);
    expect(seriesValue(text, `overseer_concurrency_key_waiting{key="${key(MAX_KEY_SERIES - 2)}"}`)).toBe(1);
    expect(seriesValue(text, `overseer_concurrency_key_waiting{key="${key(MAX_KEY_SERIES - 1)}"}`)).toBeNull();
    expect(seriesValue(text, `overseer_concurrency_key_limit{key="${key(MAX_KEY_SERIES - 1)}"}`)).toBeNull();
    expect(seriesValue(text, "overseer_concurrency_limited_jobs")).toBe(0);
  });
});
