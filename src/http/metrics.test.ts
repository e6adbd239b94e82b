/**
 * /metrics: Prometheus text with the job counters (counted from the event log, so work done by
 * any process counts), the gauges read from the store, stream clients, HTTP requests and the
 * process's own metrics; a metrics or admin token unless the server was told it is public.
 */
import { describe, expect, it, onTestFinished } from "vitest";
import { createToken } from "../auth/tokens.js";
import { testApi } from "../test-support/http.js";
import { seriesValue } from "../test-support/prometheus-text.js";
import { openSse } from "../test-support/sse-client.js";
import { tempDatabase } from "../test-support/temp-database.js";
import { waitFor } from "../test-support/wait.js";
import { channelLabel } from "./metrics.js";
import { startHttpServer } from "./server.js";

describe("/metrics", () => {
  it("counts jobs by task, queue and outcome, with depth, ages, workers, streams and HTTP", async () => {
    const api = await testApi();
    const { PermanentError } = await import("../core/errors.js");
    api.overseer.defineTask("ok", async () => "fine");
    api.overseer.defineTask("bad", async () => {
      throw new PermanentError("no");
    });
    api.overseer.defineTask("flaky", async (_p, ctx) => {
      if (ctx.attempt === 1) throw new Error("once");
    });
    for (let i = 0; i < 3; i++) await api.overseer.enqueue("ok", {}, { queue: "mail" });
    await api.overseer.enqueue("bad");
    await api.overseer.enqueue("flaky", {}, { backoff: { type: "fixed", delay: 1 } });
    await api.overseer.enqueue("later", {}, { queue: "slow" });
    const stream = await openSse(`${api.url}/api/v1/events`, { authorization: `Bearer ${api.tokens.viewer}` });
    expect(stream.status).toBe(200);
    const worker = api.overseer.worker({ concurrency: 2, tasks: undefined });
    await worker.start();
    const scrape = async () => (await api.request("GET", "/metrics", { token: api.tokens.metrics })).text;
    await waitFor(
      "the jobs to be counted",
      async () => {
        api.server.events.poke();
        await api.server.metrics.settled();
        const text = await scrape();
        return (
          seriesValue(text, 'overseer_jobs_finished_total{task="flaky",queue="default",outcome="succeeded"}') === 1
        );
      },
      { timeoutMs: 10_000 },
    );
    await worker.stop();
    await api.overseer.store.tripBreaker(
      "slow",
      { attempts: 4, failures: 4, windowMs: 60_000, divertTo: null },
      60_000,
    );
    const text = await scrape();
    expect(seriesValue(text, 'overseer_jobs_enqueued_total{task="ok",queue="mail"}')).toBe(3);
    expect(seriesValue(text, 'overseer_jobs_finished_total{task="ok",queue="mail",outcome="succeeded"}')).toBe(3);
    expect(seriesValue(text, 'overseer_jobs_finished_total{task="bad",queue="default",outcome="dead"}')).toBe(1);
    expect(seriesValue(text, 'overseer_jobs_dead_lettered_total{task="bad",queue="default"}')).toBe(1);
    expect(seriesValue(text, 'overseer_job_retries_total{task="flaky",queue="default"}')).toBe(1);
    expect(seriesValue(text, 'overseer_job_run_seconds_count{task="ok",queue="mail",outcome="succeeded"}')).toBe(3);
    expect(seriesValue(text, 'overseer_job_wait_seconds_count{task="ok",queue="mail"}')).toBe(3);
    expect(seriesValue(text, 'overseer_jobs{queue="slow",state="queued"}')).toBe(1);
    expect(seriesValue(text, 'overseer_jobs{queue="mail",state="succeeded"}')).toBe(3);
    expect(seriesValue(text, 'overseer_queue_oldest_waiting_seconds{queue="slow"}')).toBeGreaterThanOrEqual(0);
    expect(seriesValue(text, 'overseer_queue_paused{queue="mail"}')).toBe(0);
    expect(seriesValue(text, 'overseer_queue_breaker_open{queue="mail"}')).toBe(0);
    expect(seriesValue(text, 'overseer_queue_breaker_open{queue="slow"}')).toBe(1);
    expect(seriesValue(text, 'overseer_workers{status="stopped"}')).toBe(1);
    expect(seriesValue(text, 'overseer_event_stream_clients{transport="sse"}')).toBe(1);
    expect(
      seriesValue(text, 'overseer_http_requests_total{method="GET",route="/metrics",status="200"}'),
    ).toBeGreaterThan(0);
    // The stream, which takes its response over from Fastify, is counted too.
    expect(seriesValue(text, 'overseer_http_requests_total{method="GET",route="/api/v1/events",status="200"}')).toBe(1);
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).toContain("nodejs_eventloop_lag_seconds");
    expect(text).toContain("# TYPE overseer_job_run_seconds histogram");
  });

  it("labels jobs enqueued before the server started by looking them up", async () => {
    const db = tempDatabase("overseer-http-");
    const overseer = await db.open();
    const job = await overseer.enqueue("early", {}, { queue: "q1" });
    const { secret } = await createToken(overseer.store, "scraper", "metrics");
    const server = await startHttpServer({ overseer, port: 0 });
    onTestFinished(() => server.close());
    await overseer.cancel(job.id);
    await waitFor("counted", async () => {
      server.events.poke();
      await server.metrics.settled();
      const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${secret}` } });
      const text = await res.text();
      return seriesValue(text, 'overseer_jobs_finished_total{task="early",queue="q1",outcome="cancelled"}') === 1;
    });
  });

  it("needs a metrics or admin token unless it is public", async () => {
    const api = await testApi();
    expect((await api.request("GET", "/metrics")).status).toBe(401);
    expect((await api.request("GET", "/metrics", { token: api.tokens.viewer })).status).toBe(403);
    expect((await api.request("GET", "/metrics", { token: api.tokens.operator })).status).toBe(403);
    const ok = await api.request("GET", "/metrics", { token: api.tokens.metrics });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toMatch(/^text\/plain/);
    const open = await testApi({ metricsPublic: true });
    expect((await open.request("GET", "/metrics")).status).toBe(200);
    // Public metrics open nothing else.
    expect((await open.request("GET", "/api/v1/jobs")).status).toBe(401);
  });
});

describe("a notification's channel label", () => {
  it("is the channel's name, a person's contact method, or an address's kind: never a person or a chat", () => {
    expect(channelLabel("ops-hook")).toBe("ops-hook");
    expect(channelLabel("person:ana:email")).toBe("person:email");
    expect(channelLabel("person:ana:telegram")).toBe("person:telegram");
    expect(channelLabel("person:ana")).toBe("person");
    expect(channelLabel("telegram:123456789")).toBe("telegram");
  });
});
