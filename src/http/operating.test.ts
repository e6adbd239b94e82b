/** Queues, workers, stats, health, the OpenAPI document and CORS, over real HTTP. */
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../core/errors.js";
import { testApi } from "../test-support/http.js";
import { deferred, waitFor } from "../test-support/wait.js";
import { minuteBuckets, percentiles, windowStats } from "./stats.js";

describe("queues", () => {
  it("lists depth by state, the oldest waiting age and paused; pause and resume check the version", async () => {
    const api = await testApi();
    await api.overseer.enqueue("t", {}, { queue: "mail" });
    await api.overseer.enqueue("t", {}, { queue: "mail", delay: "1h" });
    const token = api.tokens.operator;
    const list = await api.request("GET", "/api/v1/queues", { token });
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    const mail = list.body.items[0];
    expect(mail).toMatchObject({ name: "mail", paused: false, version: 0, counts: { queued: 1, scheduled: 1 } });
    expect(mail.oldestWaitingAgeMs).toBeGreaterThanOrEqual(0);

    const paused = await api.request("POST", "/api/v1/queues/mail/pause", { token, headers: { "if-match": '"0"' } });
    expect(paused.body).toMatchObject({ name: "mail", paused: true, version: 1 });
    const stale = await api.request("POST", "/api/v1/queues/mail/resume", { token, body: { version: 0 } });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe("VERSION_CONFLICT");
    expect((await api.overseer.listQueues())[0]?.paused).toBe(true);
    const resumed = await api.request("POST", "/api/v1/queues/mail/resume", { token, body: { version: 1 } });
    expect(resumed.body).toMatchObject({ paused: false, version: 2 });
    const bad = await api.request("POST", "/api/v1/queues/bad%20name/pause", { token });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual({ field: "queue" });
  });
});

describe("circuit breakers", () => {
  it("a queue shows its open breaker, and an operator resets it once", async () => {
    const api = await testApi();
    await api.overseer.enqueue("t", {}, { queue: "calls" });
    const trip = { attempts: 8, failures: 6, windowMs: 60_000, divertTo: "sms" };
    await api.overseer.store.tripBreaker("calls", trip, 30_000);
    const token = api.tokens.operator;
    const [calls] = (await api.request("GET", "/api/v1/queues", { token: api.tokens.viewer })).body.items;
    expect(calls).toMatchObject({ name: "calls", paused: false, breaker: { state: "open", probeJobId: null, trip } });
    expect(Date.parse(calls.breaker.probeAt) - Date.parse(calls.breaker.openedAt)).toBe(30_000);

    const reset = await api.request("POST", "/api/v1/queues/calls/breaker/reset", { token });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ name: "calls", breaker: null, counts: { queued: 1 } });
    const closed = (await api.overseer.readEvents({ limit: 100 })).find((e) => e.kind === "queue.breaker_closed");
    expect(closed?.data).toEqual({ queue: "calls", reason: "reset", by: "test-operator" });

    const again = await api.request("POST", "/api/v1/queues/calls/breaker/reset", { token });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: "BREAKER_NOT_OPEN", details: { queue: "calls" } });
    const bad = await api.request("POST", "/api/v1/queues/bad%20name/breaker/reset", { token });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual({ field: "queue" });
    const body = await api.request("POST", "/api/v1/queues/calls/breaker/reset", { token, body: { force: true } });
    expect(body.status).toBe(400);
    expect(body.body.error.code).toBe("INVALID_ARGUMENT");
  });
});

describe("workers and stats", () => {
  it("shows a worker's heartbeat age and running jobs, and stats over the last minutes", async () => {
    const api = await testApi();
    const o = api.overseer;
    const held = deferred();
    o.defineTask("hold", async () => held.promise);
    o.defineTask("quick", async () => "done");
    const worker = o.worker({ concurrency: 2 });
    await worker.start();
    const quick = await o.enqueue("quick");
    const hold = await o.enqueue("hold");
    await waitFor("the quick job to succeed", async () => (await o.getJob(quick.id))?.state === "succeeded");
    await waitFor("the held job to run", async () => (await o.getJob(hold.id))?.state === "running");

    const workers = await api.request("GET", "/api/v1/workers", { token: api.tokens.viewer });
    expect(workers.status).toBe(200);
    expect(workers.body.items).toHaveLength(1);
    expect(workers.body.items[0]).toMatchObject({ id: worker.id, status: "active", runningJobs: [hold.id] });
    expect(workers.body.items[0].heartbeatAgeMs).toBeGreaterThanOrEqual(0);

    const stats = await api.request("GET", "/api/v1/stats?minutes=10", { token: api.tokens.viewer });
    expect(stats.status).toBe(200);
    expect(stats.body.counts).toMatchObject({ running: 1, succeeded: 1 });
    expect(stats.body.queues.default).toMatchObject({ running: 1, succeeded: 1 });
    // A new database: the window that has data began with its first event, seconds ago, and the
    // rate divides by that, not by the 10 minutes asked for.
    const covered = stats.body.window.coveredMs;
    expect(covered).toBeGreaterThanOrEqual(1_000);
    expect(covered).toBeLessThan(10 * 60_000);
    expect(stats.body.window).toMatchObject({
      minutes: 10,
      finished: { succeeded: 1, dead: 0, cancelled: 0 },
      throughputPerMinute: { succeeded: Math.round((1 / (covered / 60_000)) * 100) / 100 },
      waitMs: { count: 1 },
      runMs: { count: 1 },
      truncated: false,
    });
    const buckets = stats.body.window.perMinute;
    expect(buckets).toHaveLength(10);
    expect(buckets.at(-1)).toMatchObject({ succeeded: 1, dead: 0, cancelled: 0 });
    expect(buckets.at(-1).runMsP95).toBeGreaterThanOrEqual(0);
    expect(buckets[0]).toEqual({
      start: expect.any(String),
      succeeded: 0,
      dead: 0,
      cancelled: 0,
      runMsP50: null,
      runMsP95: null,
    });
    expect((await api.request("GET", "/api/v1/stats?minutes=61", { token: api.tokens.viewer })).status).toBe(400);
    held.resolve();
    await worker.stop();
  });

  it("shows one worker with its jobs' tasks, and quiets, resumes and stops it; 404 and 409 as documented", async () => {
    const api = await testApi();
    const o = api.overseer;
    const held = deferred();
    o.defineTask("hold", async () => held.promise);
    const worker = o.worker({ concurrency: 4, prefetch: 0, heartbeatMs: 100, leaseMs: 3_000 });
    await worker.start();
    const hold = await o.enqueue("hold");
    await waitFor("the job to run", async () => (await o.getJob(hold.id))?.state === "running");

    const one = await api.request("GET", `/api/v1/workers/${worker.id}`, { token: api.tokens.viewer });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id: worker.id,
      status: "active",
      command: null,
      busy: 1,
      utilization: 0.25,
      runningJobs: [hold.id],
      jobs: [{ id: hold.id, task: "hold", queue: "default", workerId: worker.id, held: false }],
    });
    expect((await api.request("GET", "/api/v1/workers", { token: api.tokens.viewer })).body.items[0].jobs).toEqual(
      one.body.jobs,
    );
    const missing = await api.request("GET", "/api/v1/workers/nope", { token: api.tokens.viewer });
    expect([missing.status, missing.body.error.code]).toEqual([404, "WORKER_NOT_FOUND"]);
    const viewer = await api.request("POST", `/api/v1/workers/${worker.id}/quiet`, { token: api.tokens.viewer });
    expect(viewer.status).toBe(403);

    const quiet = await api.request("POST", `/api/v1/workers/${worker.id}/quiet`, { token: api.tokens.operator });
    expect(quiet.status).toBe(200);
    expect(quiet.body).toMatchObject({ id: worker.id, command: "quiet" });
    await waitFor("the worker to be quiet", async () => (await o.getWorker(worker.id))?.status === "quiet");
    const resumed = await api.request("POST", `/api/v1/workers/${worker.id}/resume`, { token: api.tokens.operator });
    expect(resumed.body).toMatchObject({ command: null });
    await waitFor("the worker to be active", async () => (await o.getWorker(worker.id))?.status === "active");

    const stop = await api.request("POST", `/api/v1/workers/${worker.id}/stop`, { token: api.tokens.operator });
    expect(stop.body).toMatchObject({ command: "stop" });
    const late = await api.request("POST", `/api/v1/workers/${worker.id}/quiet`, { token: api.tokens.operator });
    expect([late.status, late.body.error.code]).toEqual([409, "WORKER_INVALID_TRANSITION"]);
    held.resolve();
    await worker.commandedStop;
    const stopped = await api.request("GET", `/api/v1/workers/${worker.id}`, { token: api.tokens.viewer });
    expect(stopped.body).toMatchObject({ status: "stopped", processed: 1, failed: 0, busy: 0, jobs: [] });
    const again = await api.request("POST", `/api/v1/workers/${worker.id}/stop`, { token: api.tokens.operator });
    expect([again.status, again.body.error.code]).toEqual([409, "WORKER_INVALID_TRANSITION"]);
    const events = (await o.readEvents()).filter((e) => e.kind.endsWith("_requested"));
    expect(events.map((e) => [e.kind, e.data])).toEqual([
      ["worker.quiet_requested", { by: "test-operator" }],
      ["worker.resume_requested", { by: "test-operator" }],
      ["worker.stop_requested", { by: "test-operator" }],
    ]);
  });

  it("computes percentiles by nearest rank, and throughput per minute", () => {
    expect(percentiles([])).toEqual({ count: 0, p50: null, p95: null, p99: null, max: null });
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentiles(hundred)).toEqual({ count: 100, p50: 50, p95: 95, p99: 99, max: 100 });
    const at = (s: number) => Date.UTC(2030, 0, 1, 0, 0, s);
    const job = { runAt: at(0), startedAt: at(2), finishedAt: at(5) } as const;
    const stats = windowStats(
      [
        { ...job, state: "succeeded" },
        { ...job, state: "dead" },
        { ...job, state: "cancelled", startedAt: null },
      ],
      2,
      false,
    );
    expect(stats.finished).toEqual({ succeeded: 1, dead: 1, cancelled: 1 });
    expect(stats.throughputPerMinute).toEqual({ succeeded: 0.5, dead: 0.5, cancelled: 0.5 });
    // Half a minute of data in a two-minute window: the rates divide by the half minute.
    const young = windowStats([{ ...job, state: "succeeded" }], 2, false, 30_000);
    expect(young).toMatchObject({ coveredMs: 30_000, throughputPerMinute: { succeeded: 2 } });
    expect(stats.waitMs).toMatchObject({ count: 2, p50: 2_000 });
    expect(stats.runMs).toMatchObject({ count: 2, p99: 3_000 });
  });

  it("cuts the window into whole minutes, oldest first, empty ones included", () => {
    const now = Date.UTC(2030, 0, 1, 12, 5, 30);
    const at = (m: number, s: number) => Date.UTC(2030, 0, 1, 12, m, s);
    const finished = (state: "succeeded" | "dead", m: number, s: number, runS: number) => ({
      state,
      runAt: at(m, s - runS),
      startedAt: at(m, s - runS),
      finishedAt: at(m, s),
    });
    const buckets = minuteBuckets(
      [
        finished("succeeded", 5, 10, 1),
        finished("succeeded", 5, 20, 3),
        finished("dead", 3, 59, 2),
        { state: "cancelled", runAt: at(3, 0), startedAt: null, finishedAt: at(4, 0) },
        finished("succeeded", 1, 0, 1), // before the first bucket (12:03)
      ],
      3,
      now,
    );
    expect(buckets.map((b) => b.start)).toEqual([at(3, 0), at(4, 0), at(5, 0)].map((t) => new Date(t).toISOString()));
    expect(buckets.map((b) => [b.succeeded, b.dead, b.cancelled])).toEqual([
      [0, 1, 0],
      [0, 0, 1],
      [2, 0, 0],
    ]);
    expect(buckets[2]).toMatchObject({ runMsP50: 1_000, runMsP95: 3_000 });
    expect(buckets[1]).toMatchObject({ runMsP50: null, runMsP95: null });
  });
});

describe("health", () => {
  it("/healthz and /readyz need no token; /readyz fails with 503 and the envelope when the store does not answer", async () => {
    const api = await testApi();
    expect((await api.request("GET", "/healthz")).body).toEqual({ status: "ok" });
    expect((await api.request("GET", "/readyz")).body).toEqual({ status: "ready" });
    await api.overseer.store.close();
    const down = await api.request("GET", "/readyz");
    expect(down.status).toBe(503);
    expect(down.body.error.code).toBe("DATABASE_UNAVAILABLE");
    expect((await api.request("GET", "/healthz")).status).toBe(200);
  });
});

describe("the OpenAPI document", () => {
  it("is OpenAPI 3.1, generated from the routes' schemas, with the envelope and bearer auth", async () => {
    const api = await testApi();
    const res = await api.request("GET", "/api/v1/openapi.json", { token: api.tokens.viewer });
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components.securitySchemes.bearer).toEqual({ type: "http", scheme: "bearer" });
    const paths = Object.keys(doc.paths);
    // Not API routes: the document itself, and the dashboard's files (HTML and assets, no schema);
    // nor the MCP endpoint's GET, which only ever answers 405 (contract/mcp.ts).
    const routes = api.server.routes.filter(
      (r) => r.url !== "/api/v1/openapi.json" && r.url !== "/*" && !(r.method === "GET" && r.url === "/api/v1/mcp"),
    );
    for (const r of routes) {
      const path = r.url.replace(/:(\w+)/g, "{$1}");
      expect(paths, `${r.method} ${r.url} is documented`).toContain(path);
      expect(doc.paths[path][r.method.toLowerCase()]).toBeDefined();
    }
    expect(doc.paths["/api/v1/jobs/{id}/discard"].post.description).toContain("scope admin");
    expect(doc.paths["/healthz"].get.security).toEqual([]);
    expect(doc.components.schemas.Job.properties.version.type).toBe("integer");
    expect(doc.components.schemas.ErrorEnvelope.properties.error.properties.code.enum).toEqual(
      Object.keys(ERROR_CODES),
    );
    expect(doc.paths["/api/v1/jobs"].get.responses["400"]).toBeDefined();
  });
});

describe("CORS", () => {
  it("is off by default: no CORS headers, whatever the origin", async () => {
    const api = await testApi();
    const res = await api.request("GET", "/api/v1/queues", {
      token: api.tokens.viewer,
      headers: { origin: "https://evil.example" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await api.request("OPTIONS", "/api/v1/queues", {
      headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("allows only the listed origins when configured", async () => {
    const api = await testApi({ corsOrigins: ["https://dash.example"] });
    const allowed = await api.request("OPTIONS", "/api/v1/queues", {
      headers: { origin: "https://dash.example", "access-control-request-method": "GET" },
    });
    expect(allowed.status).toBeLessThan(300);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://dash.example");
    const other = await api.request("GET", "/api/v1/queues", {
      token: api.tokens.viewer,
      headers: { origin: "https://evil.example" },
    });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("puts its headers on refusals too, so a page on an allowed origin can read why (401, 403)", async () => {
    const api = await testApi({ corsOrigins: ["https://dash.example"] });
    const origin = { origin: "https://dash.example" };
    const unauthenticated = await api.request("POST", "/api/v1/stream-tokens", { headers: origin });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get("access-control-allow-origin")).toBe("https://dash.example");
    const expired = await api.request("GET", "/api/v1/events?access_token=ovss_x.1.y", { headers: origin });
    expect(expired.status).toBe(401);
    expect(expired.headers.get("access-control-allow-origin")).toBe("https://dash.example");
    const forbidden = await api.request("GET", "/api/v1/queues", { token: api.tokens.metrics, headers: origin });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get("access-control-allow-origin")).toBe("https://dash.example");
  });
});
