/**
 * GET /api/v1/attention, the bulk actions on alerts (acknowledge with one note, close with one
 * reason) and approvals (one decision and reason for every pending request a filter matches),
 * the listings' totals and time ranges, and the schedules' recent runs, over real HTTP on the
 * test backend: what each answers, what each skips, and the 400s bad input gets.
 */
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { parseConfig } from "../config/config.js";
import { buildNewJob } from "../core/job-options.js";
import type { Overseer } from "../sdk/overseer.js";
import { pendingApproval } from "../test-support/approvals.js";
import { testApi } from "../test-support/http.js";

const { alerts: ALERTS } = parseConfig(
  {
    alerts: {
      channels: {
        "ops-hook": { type: "webhook", url: "http://127.0.0.1:9/hook", secret: "env:OVERSEER_TEST_HOOK_SECRET" },
      },
      // One step at once and nothing after: an alert raised with it has nobody left to page.
      policies: { once: { steps: [{ delay: "0m", notify: ["ops-hook"] }] } },
    },
  },
  "test",
);

/** A job of `task` in `queue` that died on its one attempt. */
async function deadJob(overseer: Overseer, task: string, queue = "default"): Promise<string> {
  const job = await overseer.enqueue(task, {}, { queue, maxAttempts: 1 });
  const [claimed] = await overseer.store.claim({
    workerId: "w",
    limit: 1,
    tasks: [task],
    queues: [queue],
    leaseMs: 60_000,
  });
  if (!claimed || claimed.job.id !== job.id) throw new Error(`expected to claim job ${job.id}`);
  const error = { message: "refused", code: "X", type: "Error", retryable: false };
  await overseer.store.finish([{ lease: claimed.lease, outcome: "dead", error, reason: "permanent_error" }]);
  return job.id;
}

describe("GET /api/v1/attention", () => {
  it("counts what needs a person and lists the first of each, oldest approval first", async () => {
    vi.stubEnv("OVERSEER_TEST_HOOK_SECRET", "hook-secret");
    onTestFinished(() => {
      vi.unstubAllEnvs();
    });
    const api = await testApi({ alerts: ALERTS });
    const { operator, viewer } = api.tokens;
    const empty = await api.request("GET", "/api/v1/attention", { token: viewer });
    expect(empty.status).toBe(200);
    expect(empty.body.counts).toEqual({
      total: 0,
      approvals: 0,
      alerts: 0,
      acknowledgedAlerts: 0,
      exhaustedAlerts: 0,
      failedRuns: 0,
      stalledRuns: 0,
      lostWorkers: 0,
      deadJobs: 0,
      pausedQueues: 0,
    });

    const approvals = [];
    for (let i = 0; i < 7; i++) approvals.push(await pendingApproval(api.overseer, { title: `deploy ${i}` }));
    const raise = async (body: Record<string, unknown>) => {
      const res = await api.request("POST", "/api/v1/alerts", { token: operator, body });
      expect(res.status, res.text).toBe(201);
      return res.body.alert;
    };
    const quiet = await raise({ summary: "disk" });
    const exhausted = await raise({ summary: "paged once", policy: "once" });
    const acked = await raise({ summary: "seen" });
    await api.request("POST", `/api/v1/alerts/${acked.id}/ack`, { token: operator, body: {} });
    await deadJob(api.overseer, "charge", "payments");
    await deadJob(api.overseer, "charge", "payments");
    await deadJob(api.overseer, "mail");
    await api.request("POST", "/api/v1/queues/payments/pause", { token: operator, body: {} });

    const res = await api.request("GET", "/api/v1/attention", { token: viewer });
    expect(res.status).toBe(200);
    expect(res.body.counts).toEqual({
      total: 7 + 2 + 3 + 1,
      approvals: 7,
      alerts: 2,
      acknowledgedAlerts: 1,
      exhaustedAlerts: 1,
      failedRuns: 0,
      stalledRuns: 0,
      lostWorkers: 0,
      deadJobs: 3,
      pausedQueues: 1,
    });
    // The five oldest requests, each with its deadline.
    expect(res.body.approvals.map((a: { id: string }) => a.id)).toEqual(approvals.slice(0, 5).map((a) => a.id));
    expect(res.body.approvals[0].expiresAt).toBe(approvals[0]?.expiresAt);
    expect(res.body.alerts.map((a: { id: string }) => a.id)).toEqual([exhausted.id, quiet.id]);
    expect(res.body.exhaustedAlerts.map((a: { id: string }) => a.id)).toEqual([exhausted.id]);
    expect(res.body.deadJobs).toMatchObject({
      total: 3,
      capped: false,
      sampled: 3,
      groups: [
        { task: "charge", queue: "payments", count: 2 },
        { task: "mail", queue: "default", count: 1 },
      ],
    });
    expect(res.body.pausedQueues).toEqual([{ name: "payments", pausedAt: expect.any(String) }]);
    expect(Date.parse(res.body.at)).not.toBeNaN();

    const anonymous = await api.request("GET", "/api/v1/attention");
    expect(anonymous.status).toBe(401);
  });
});

describe("bulk actions on alerts", () => {
  it("acknowledges the triggered alerts a filter matches with one note, then closes the open ones", async () => {
    const api = await testApi();
    const { operator, viewer } = api.tokens;
    const ids: string[] = [];
    for (const summary of ["a", "b", "c"]) {
      ids.push((await api.request("POST", "/api/v1/alerts", { token: operator, body: { summary } })).body.alert.id);
    }
    const acked = await api.request("POST", "/api/v1/alerts/acknowledge", {
      token: operator,
      body: { source: "manual", note: "  on it: failover running ", limit: 2 },
    });
    expect(acked.status).toBe(200);
    expect(acked.body).toEqual({ matched: 2, changed: 2, skipped: [] });
    const list = await api.request("GET", "/api/v1/alerts?status=acknowledged", { token: viewer });
    expect(list.body.total).toBe(2);
    expect(list.body.items.map((a: { acknowledgedBy: string }) => a.acknowledgedBy)).toEqual([
      "test-operator",
      "test-operator",
    ]);
    // The note is on each alert's acknowledged event.
    for (const a of list.body.items) {
      const detail = await api.request("GET", `/api/v1/alerts/${a.id}`, { token: viewer });
      expect(detail.body.events.map((e: { kind: string }) => e.kind)).toEqual(["alert.raised", "alert.acknowledged"]);
      expect(detail.body.events[1].data).toMatchObject({ by: "test-operator", note: "on it: failover running" });
    }

    const closed = await api.request("POST", "/api/v1/alerts/close", {
      token: operator,
      body: { reason: "fixed by failover" },
    });
    expect(closed.body).toEqual({ matched: 3, changed: 3, skipped: [] });
    const all = await api.request("GET", "/api/v1/alerts?status=closed", { token: viewer });
    expect(all.body.total).toBe(3);
    expect(all.body.items.map((a: { closeReason: string }) => a.closeReason)).toEqual(
      Array(3).fill("fixed by failover"),
    );
    const again = await api.request("POST", "/api/v1/alerts/close", { token: operator, body: {} });
    expect(again.body).toEqual({ matched: 0, changed: 0, skipped: [] });
  });

  it("refuses a status the action does not apply to, a bad time, a limit past 500, and a viewer", async () => {
    const api = await testApi();
    const { operator, viewer } = api.tokens;
    const closedStatus = await api.request("POST", "/api/v1/alerts/acknowledge", {
      token: operator,
      body: { status: "closed" },
    });
    expect(closedStatus.status).toBe(400);
    expect(closedStatus.body.error).toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "this action applies only to triggered alerts; not closed",
      details: { field: "status" },
    });
    const unknown = await api.request("POST", "/api/v1/alerts/close", { token: operator, body: { status: "gone" } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe("INVALID_STATE_FILTER");
    const badTime = await api.request("POST", "/api/v1/alerts/close", {
      token: operator,
      body: { createdAfter: "yesterday" },
    });
    expect(badTime.status).toBe(400);
    const tooMany = await api.request("POST", "/api/v1/alerts/close", { token: operator, body: { limit: 501 } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.message).toContain("limit");
    const extra = await api.request("POST", "/api/v1/alerts/acknowledge", { token: operator, body: { reason: "x" } });
    expect(extra.status).toBe(400);
    const forbidden = await api.request("POST", "/api/v1/alerts/close", { token: viewer, body: {} });
    expect(forbidden.status).toBe(403);
  });

  it("filters the listing by time range and counts every page", async () => {
    const api = await testApi();
    const { operator, viewer } = api.tokens;
    for (const summary of ["a", "b", "c"])
      await api.request("POST", "/api/v1/alerts", { token: operator, body: { summary } });
    const page = await api.request("GET", "/api/v1/alerts?limit=1", { token: viewer });
    expect(page.body).toMatchObject({ total: 3, items: [expect.anything()] });
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const none = await api.request("GET", `/api/v1/alerts?createdAfter=${future}`, { token: viewer });
    expect(none.body).toEqual({ items: [], nextCursor: null, total: 0 });
    const before = await api.request("GET", `/api/v1/alerts?createdBefore=${future}`, { token: viewer });
    expect(before.body.total).toBe(3);
    const bad = await api.request("GET", "/api/v1/alerts?createdAfter=soon", { token: viewer });
    expect(bad.status).toBe(400);
  });
});

describe("bulk approval decisions", () => {
  it("decides every pending request a filter matches with one reason, skipping those the token may not decide", async () => {
    const api = await testApi();
    const { operator, viewer } = api.tokens;
    const mine = [await pendingApproval(api.overseer), await pendingApproval(api.overseer)];
    const other = await pendingApproval(api.overseer, { title: "drop the old table" });
    mine.push(other);
    const adminOnly = await pendingApproval(api.overseer, { approvers: ["test-admin"] });

    const listed = await api.request("GET", "/api/v1/approvals?state=pending&kind=approval&limit=1", { token: viewer });
    expect(listed.body.total).toBe(4);
    expect(listed.body.items).toHaveLength(1);
    const questions = await api.request("GET", "/api/v1/approvals?kind=question", { token: viewer });
    expect(questions.body).toEqual({ items: [], nextCursor: null, total: 0 });
    const future = encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString());
    const later = await api.request("GET", `/api/v1/approvals?createdAfter=${future}`, { token: viewer });
    expect(later.body.total).toBe(0);
    const earlier = await api.request("GET", `/api/v1/approvals?state=pending&createdBefore=${future}`, {
      token: viewer,
    });
    expect(earlier.body.total).toBe(4);

    const res = await api.request("POST", "/api/v1/approvals/decide", {
      token: operator,
      body: { kind: "approval", decision: "approve", reason: "release train 42", channel: "dashboard" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      matched: 4,
      changed: 3,
      settled: 3,
      skipped: [{ id: adminOnly.id, code: "APPROVAL_FORBIDDEN" }],
    });
    for (const a of mine) {
      const after = (await api.request("GET", `/api/v1/approvals/${a.id}`, { token: viewer })).body.approval;
      expect(after).toMatchObject({
        state: "approved",
        decisions: [{ by: "test-operator", reason: "release train 42" }],
      });
    }
    const still = await api.request("GET", "/api/v1/approvals?state=pending", { token: viewer });
    expect(still.body).toMatchObject({ total: 1, items: [{ id: adminOnly.id }] });
  });

  it("refuses a missing or unknown decision, a bad time, a limit past 500, questions, and a viewer", async () => {
    const api = await testApi();
    const { operator, viewer } = api.tokens;
    const missing = await api.request("POST", "/api/v1/approvals/decide", { token: operator, body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain("decision");
    const unknown = await api.request("POST", "/api/v1/approvals/decide", {
      token: operator,
      body: { decision: "maybe" },
    });
    expect(unknown.status).toBe(400);
    const badTime = await api.request("POST", "/api/v1/approvals/decide", {
      token: operator,
      body: { decision: "deny", createdBefore: "later" },
    });
    expect(badTime.status).toBe(400);
    const tooMany = await api.request("POST", "/api/v1/approvals/decide", {
      token: operator,
      body: { decision: "deny", limit: 10_000 },
    });
    expect(tooMany.status).toBe(400);
    // A question needs its own answer: one reason for many is not one.
    const questions = await api.request("POST", "/api/v1/approvals/decide", {
      token: operator,
      body: { decision: "approve", kind: "question", reason: "yes" },
    });
    expect(questions.status).toBe(400);
    expect(questions.body.error).toMatchObject({ code: "INVALID_ARGUMENT", details: { field: "kind" } });
    const forbidden = await api.request("POST", "/api/v1/approvals/decide", {
      token: viewer,
      body: { decision: "deny" },
    });
    expect(forbidden.status).toBe(403);
  });
});

describe("schedules' recent runs", () => {
  it("lists the jobs a schedule's latest ticks enqueued, newest first, with their state", async () => {
    const api = await testApi();
    await api.overseer.syncSchedules({ nightly: { cron: "0 2 * * *", task: "cleanup" } });
    // Ticks from the schedule's activation on fire: a second and two seconds after now.
    const now = Date.now();
    const ticks = [now + 1_000, now + 2_000];
    const jobs: string[] = [];
    for (const tick of ticks) {
      const fired = await api.overseer.store.fireScheduleTick(
        "nightly",
        tick,
        buildNewJob("cleanup", {}, {}, undefined),
      );
      if (fired.job) jobs.push(fired.job.id);
    }
    expect(jobs).toHaveLength(2);
    const list = await api.request("GET", "/api/v1/schedules", { token: api.tokens.viewer });
    expect(list.body.items[0].recentRuns).toEqual([
      { tick: new Date(ticks[1] as number).toISOString(), jobId: jobs[1], state: "queued" },
      { tick: new Date(ticks[0] as number).toISOString(), jobId: jobs[0], state: "queued" },
    ]);
  });
});
