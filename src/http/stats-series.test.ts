/**
 * GET /api/v1/stats/series over real HTTP, on a store with a manual clock: bucketing per range,
 * rolled-up minutes and live ones added up, percentiles from the histograms, the breakdowns,
 * narrowing to a queue and a task, and bad input refused with its code.
 */
import { describe, expect, it } from "vitest";
import { bucketEstimate, type JobRollupRow, LATENCY_BUCKETS, latencyBucket } from "../core/job-rollup.js";
import { testApi } from "../test-support/http.js";
import { testDatabase } from "../test-support/test-backend.js";

const MIN = 60_000;
/** On a whole hour, so every range's buckets start on T0's boundaries. */
const T0 = Date.UTC(2030, 0, 7, 12, 0, 0);

function histogram(ms: number, n: number): number[] {
  const h = new Array<number>(LATENCY_BUCKETS).fill(0);
  h[latencyBucket(ms)] = n;
  return h;
}

function row(minute: number, queue: string, task: string, succeeded: number, dead = 0): JobRollupRow {
  return {
    minute,
    queue,
    task,
    succeeded,
    dead,
    cancelled: 0,
    retries: dead * 2,
    wait: histogram(200, succeeded + dead),
    run: histogram(5_000, succeeded + dead),
  };
}

async function seriesApi() {
  const clock = { now: T0 };
  const db = await testDatabase("overseer-series-");
  const api = await testApi({ open: (o) => db.open({ ...o, clock: () => clock.now }) });
  return {
    api,
    clock,
    get: (query: string) => api.request("GET", `/api/v1/stats/series${query}`, { token: api.tokens.viewer }),
  };
}

describe("GET /api/v1/stats/series", () => {
  it("buckets each range, adds rolled-up and live minutes, and breaks totals down by queue and task", async () => {
    const { api, clock, get } = await seriesApi();
    const store = api.overseer.store;
    // The first event (the tokens testApi made) is at T0: the data begins there.
    await store.writeJobRollups([
      row(T0 + 10 * MIN, "mail", "send", 4),
      row(T0 + 10 * MIN, "sms", "send", 1, 1),
      row(T0 + 70 * MIN, "mail", "digest", 2),
    ]);
    clock.now = T0 + 90 * MIN + 30_000;
    await api.overseer.rollUpJobs();
    // One job finishes after the watermark: read live from the jobs table.
    await api.overseer.enqueue("send", {}, { queue: "mail" });
    clock.now += 1_000;
    const [claimed] = await store.claim({ workerId: "w", limit: 1, tasks: ["send"], queues: null, leaseMs: 30_000 });
    clock.now += 2_000;
    await store.finish([
      { lease: claimed?.lease as NonNullable<typeof claimed>["lease"], outcome: "succeeded", resultJson: "null" },
    ]);

    const hour = await get("?range=1h");
    expect(hour.status).toBe(200);
    const h = hour.body;
    expect(h).toMatchObject({
      range: "1h",
      bucketMs: MIN,
      from: new Date(T0 + 31 * MIN).toISOString(),
      to: new Date(T0 + 91 * MIN).toISOString(),
      queue: null,
      task: null,
      rolledUpThrough: new Date(T0 + 88 * MIN).toISOString(),
      truncated: false,
    });
    expect(h.buckets).toHaveLength(60);
    const busy = h.buckets.filter((b: { succeeded: number }) => b.succeeded > 0);
    expect(busy.map((b: { start: string; succeeded: number }) => [b.start, b.succeeded])).toEqual([
      [new Date(T0 + 70 * MIN).toISOString(), 2],
      [new Date(T0 + 90 * MIN).toISOString(), 1],
    ]);
    expect(h.buckets[0]).toEqual({
      start: new Date(T0 + 31 * MIN).toISOString(),
      succeeded: 0,
      dead: 0,
      cancelled: 0,
      retries: 0,
      failures: 0,
      waitMs: { p50: null, p95: null },
      runMs: { p50: null, p95: null },
    });
    expect(h.total).toMatchObject({
      succeeded: 3,
      dead: 0,
      failures: 0,
      waitMs: { p50: bucketEstimate(latencyBucket(200)), p95: bucketEstimate(latencyBucket(1_000)) },
      runMs: { p50: bucketEstimate(latencyBucket(5_000)), p95: bucketEstimate(latencyBucket(5_000)) },
      // 3 jobs over the 60 minutes (the data began 90 minutes ago).
      perMinute: 0.05,
    });

    const six = (await get("?range=6h")).body;
    expect(six).toMatchObject({ bucketMs: 5 * MIN, from: new Date(T0 + 95 * MIN - 6 * 60 * MIN).toISOString() });
    expect(six.buckets).toHaveLength(72);
    expect(six.total).toMatchObject({ succeeded: 8, dead: 1, retries: 2, failures: 3 });
    // The data began at T0, 91.5 minutes before now: the rate divides by that, not by 6 hours.
    expect(six.total.perMinute).toBe(Math.round((9 / (90.5 + 3 / 60)) * 100) / 100);
    expect(six.byQueue.map((q: { name: string; succeeded: number }) => [q.name, q.succeeded])).toEqual([
      ["mail", 7],
      ["sms", 1],
    ]);
    expect(
      six.byTask.map((t: { name: string; succeeded: number; dead: number }) => [t.name, t.succeeded, t.dead]),
    ).toEqual([
      ["send", 6, 1],
      ["digest", 2, 0],
    ]);
    expect((await get("?range=24h")).body.buckets).toHaveLength(96);
    expect((await get("?range=7d")).body.buckets).toHaveLength(168);

    const sms = (await get("?range=6h&queue=sms")).body;
    expect(sms).toMatchObject({ queue: "sms", total: { succeeded: 1, dead: 1 } });
    expect(sms.byQueue.map((q: { name: string }) => q.name)).toEqual(["sms"]);
    const digest = (await get("?range=6h&queue=mail&task=digest")).body;
    expect(digest).toMatchObject({ queue: "mail", task: "digest", total: { succeeded: 2 } });
    const client = (await get("?range=6h&task=send")).body;
    expect(client.total.succeeded).toBe(6);
  });

  it("refuses a range, queue or task it does not know how to read, with the field named", async () => {
    const { get } = await seriesApi();
    const range = await get("?range=2h");
    expect(range.status).toBe(400);
    expect(range.body.error).toMatchObject({ code: "INVALID_ARGUMENT", details: { field: "querystring.range" } });
    expect(range.body.error.message).toContain("must be one of 1h, 6h, 24h, 7d");
    const queue = await get("?queue=bad%20name");
    expect(queue.status).toBe(400);
    expect(queue.body.error).toMatchObject({ code: "INVALID_ARGUMENT", details: { field: "queue" } });
    const empty = await get("?queue=");
    expect(empty.status).toBe(400);
    const task = await get("?task=%2Fetc");
    expect(task.status).toBe(400);
    expect(task.body.error).toMatchObject({ code: "INVALID_TASK_NAME", details: { field: "task" } });
    const extra = await get("?minutes=5");
    expect(extra.status).toBe(400);
    expect(extra.body.error.details).toEqual({ field: "querystring.minutes" });
  });
});
