/**
 * /api/v1/alerts and /api/v1/heartbeats over real HTTP: raising a manual alert (and bumping it
 * by its dedup key), listing open first with filters and cursor paging, the detail with its
 * escalation timeline, acknowledge / escalate / close as the token with If-Match, refusals as
 * 404 / 409 with details.status, a second action at the same moment as 429 BUSY, and a heartbeat
 * going late, raising its alert, and a ping closing it.
 */
import { describe, expect, it } from "vitest";
import type { EscalationPolicy } from "../core/alert.js";
import { newId } from "../core/ids.js";
import { testApi } from "../test-support/http.js";

const POLICY: EscalationPolicy = {
  name: "default",
  steps: [
    { delayMs: 0, notify: ["ops-tg"] },
    { delayMs: 300_000, notify: ["ops-hook"] },
  ],
  repeat: 0,
  repeatDelayMs: 0,
  ackTimeoutMs: null,
};

type Item = { id: string; status: string };

describe("alerts over HTTP", () => {
  it("raises manual alerts, bumps by dedup key, lists open first with filters and pages", async () => {
    const api = await testApi();
    const { operator, viewer } = api.tokens;
    const raised = await api.request("POST", "/api/v1/alerts", {
      token: operator,
      body: { summary: "disk almost full on db-1", details: { free: "3%" }, dedupKey: "disk:db-1" },
    });
    expect(raised.status).toBe(201);
    expect(raised.body.created).toBe(true);
    expect(raised.body.alert).toMatchObject({
      source: "manual",
      summary: "disk almost full on db-1",
      details: { free: "3%" },
      dedupKey: "disk:db-1",
      status: "triggered",
      count: 1,
      policy: null,
    });
    const bumped = await api.request("POST", "/api/v1/alerts", {
      token: operator,
      body: { summary: "disk almost full on db-1", details: { free: "2%" }, dedupKey: "disk:db-1" },
    });
    expect(bumped.status).toBe(200);
    expect(bumped.body).toMatchObject({ created: false, alert: { id: raised.body.alert.id, count: 2 } });

    const older = (await api.request("POST", "/api/v1/alerts", { token: operator, body: { summary: "older" } })).body
      .alert;
    const closed = await api.request("POST", `/api/v1/alerts/${older.id}/close`, { token: operator, body: {} });
    expect(closed.status).toBe(200);
    const newest = (await api.request("POST", "/api/v1/alerts", { token: operator, body: { summary: "newest" } })).body
      .alert;

    const list = await api.request("GET", "/api/v1/alerts", { token: viewer });
    expect(list.status).toBe(200);
    expect(list.body.items.map((a: Item) => [a.id, a.status])).toEqual([
      [newest.id, "triggered"],
      [raised.body.alert.id, "triggered"],
      [older.id, "closed"],
    ]);
    const open = await api.request("GET", "/api/v1/alerts?status=open", { token: viewer });
    expect(open.body.items.map((a: Item) => a.id)).toEqual([newest.id, raised.body.alert.id]);
    const onlyClosed = await api.request("GET", "/api/v1/alerts?status=closed&source=manual", { token: viewer });
    expect(onlyClosed.body.items.map((a: Item) => a.id)).toEqual([older.id]);
    const none = await api.request("GET", "/api/v1/alerts?source=heartbeat", { token: viewer });
    expect(none.body.items).toEqual([]);

    const page1 = await api.request("GET", "/api/v1/alerts?limit=2", { token: viewer });
    expect(page1.body.items).toHaveLength(2);
    const page2 = await api.request("GET", `/api/v1/alerts?limit=2&cursor=${page1.body.nextCursor}`, {
      token: viewer,
    });
    expect(page2.body).toEqual({ items: [expect.objectContaining({ id: older.id })], nextCursor: null, total: 3 });

    const badStatus = await api.request("GET", "/api/v1/alerts?status=resolved", { token: viewer });
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.error).toMatchObject({ code: "INVALID_STATE_FILTER", details: { field: "status" } });
    const badSource = await api.request("GET", "/api/v1/alerts?source=nope", { token: viewer });
    expect(badSource.status).toBe(400);
    const badCursor = await api.request("GET", "/api/v1/alerts?cursor=xyz", { token: viewer });
    expect(badCursor.status).toBe(400);
    const noSummary = await api.request("POST", "/api/v1/alerts", { token: operator, body: { details: 1 } });
    expect(noSummary.status).toBe(400);
    const aPolicy = await api.request("POST", "/api/v1/alerts", {
      token: operator,
      body: { summary: "x", policy: "default" },
    });
    expect(aPolicy.status).toBe(400);
    // An unknown policy name (this server's config has none).
    expect(aPolicy.body.error).toMatchObject({ code: "INVALID_ARGUMENT", details: { field: "policy" } });
  });

  it("shows an alert with its timeline; ack, escalate and close as the token, with If-Match", async () => {
    const api = await testApi();
    const { operator, viewer } = api.tokens;
    const { alert } = await api.overseer.store.raiseAlert({
      id: newId(),
      source: "job.dead",
      summary: "payments: job died",
      details: { queue: "payments" },
      dedupKey: null,
      policy: POLICY,
    });

    const detail = await api.request("GET", `/api/v1/alerts/${alert.id}`, { token: viewer });
    expect(detail.status).toBe(200);
    expect(detail.headers.get("etag")).toBe(`"${alert.version}"`);
    expect(detail.body.alert).toMatchObject({ id: alert.id, policy: { name: "default" } });
    expect(detail.body.notifications).toEqual([
      expect.objectContaining({ alertId: alert.id, step: 0, round: 0, target: "ops-tg", status: "planned" }),
    ]);

    const stale = await api.request("POST", `/api/v1/alerts/${alert.id}/ack`, {
      token: operator,
      headers: { "if-match": `"${alert.version + 5}"` },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe("VERSION_CONFLICT");

    const acked = await api.request("POST", `/api/v1/alerts/${alert.id}/ack`, {
      token: operator,
      headers: { "if-match": `"${alert.version}"` },
    });
    expect(acked.status).toBe(200);
    expect(acked.body.alert).toMatchObject({ status: "acknowledged", acknowledgedBy: "test-operator" });
    expect(acked.headers.get("etag")).toBe(`"${acked.body.alert.version}"`);
    const again = await api.request("POST", `/api/v1/alerts/${alert.id}/ack`, { token: operator });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: "ALERT_INVALID_TRANSITION", details: { status: "acknowledged" } });

    const escalated = await api.request("POST", `/api/v1/alerts/${alert.id}/escalate`, {
      token: api.tokens.admin,
      body: { version: acked.body.alert.version },
    });
    expect(escalated.status).toBe(200);
    expect(escalated.body.alert.status).toBe("triggered");
    expect(escalated.body.notifications).toEqual([
      expect.objectContaining({ step: 1, round: 0, target: "ops-hook", status: "planned" }),
    ]);
    const timeline = await api.request("GET", `/api/v1/alerts/${alert.id}`, { token: viewer });
    expect(timeline.body.notifications.map((n: { target: string }) => n.target)).toEqual(["ops-tg", "ops-hook"]);

    const closed = await api.request("POST", `/api/v1/alerts/${alert.id}/close`, {
      token: operator,
      body: { reason: "  fixed the consumer " },
    });
    expect(closed.status).toBe(200);
    expect(closed.body.alert).toMatchObject({
      status: "closed",
      closedBy: "test-operator",
      closeReason: "fixed the consumer",
    });
    for (const action of ["ack", "escalate", "close"]) {
      const refused = await api.request("POST", `/api/v1/alerts/${alert.id}/${action}`, { token: operator });
      expect(refused.status, action).toBe(409);
      expect(refused.body.error).toMatchObject({ code: "ALERT_INVALID_TRANSITION", details: { status: "closed" } });
    }

    for (const [method, path] of [
      ["GET", "/api/v1/alerts/nope"],
      ["POST", "/api/v1/alerts/nope/ack"],
      ["POST", "/api/v1/alerts/nope/escalate"],
      ["POST", "/api/v1/alerts/nope/close"],
    ] as const) {
      const missing = await api.request(method, path, { token: operator });
      expect(missing.status, path).toBe(404);
      expect(missing.body.error).toMatchObject({ code: "ALERT_NOT_FOUND", details: { id: "nope" } });
    }
    const extra = await api.request("POST", `/api/v1/alerts/${alert.id}/close`, { token: operator, body: { x: 1 } });
    expect(extra.status).toBe(400);
  });

  it("two actions on one alert at the same moment: the first applies, the second is 429 BUSY", async () => {
    const api = await testApi();
    const { alert } = await api.overseer.raiseAlert({ summary: "busy" });
    const store = api.overseer.store;
    const original = store.acknowledgeAlert.bind(store);
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    store.acknowledgeAlert = async (...args) => {
      entered();
      await released;
      return original(...args);
    };
    const first = api.request("POST", `/api/v1/alerts/${alert.id}/ack`, { token: api.tokens.operator });
    await inside;
    const second = await api.request("POST", `/api/v1/alerts/${alert.id}/close`, { token: api.tokens.admin });
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).toBe("1");
    expect(second.body.error).toMatchObject({ code: "BUSY", details: { alert: alert.id, retryAfter: 1 } });
    release();
    expect((await first).body.alert.status).toBe("acknowledged");
    const closed = await api.request("POST", `/api/v1/alerts/${alert.id}/close`, { token: api.tokens.admin });
    expect(closed.status).toBe(200);
  });
});

describe("heartbeats over HTTP", () => {
  it("lists heartbeats; a late one raises an alert and the next ping closes it; unknown names are 404", async () => {
    const api = await testApi();
    const { operator, viewer } = api.tokens;
    // A 1 s interval on the real clock: the store's checks below run past it.
    await api.overseer.syncHeartbeats([{ name: "nightly-backup", intervalMs: 1_000, policy: null }]);
    const list = await api.request("GET", "/api/v1/heartbeats", { token: viewer });
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([
      expect.objectContaining({ name: "nightly-backup", intervalMs: 1_000, state: "ok", lastPingAt: null }),
    ]);

    const ping = await api.request("POST", "/api/v1/heartbeats/nightly-backup", { token: operator });
    expect(ping.status).toBe(200);
    expect(ping.body).toMatchObject({ heartbeat: { state: "ok", alertId: null }, closedAlert: null });
    expect(ping.body.heartbeat.lastPingAt).not.toBeNull();

    await new Promise((resolve) => setTimeout(resolve, 1_050));
    const [late] = await api.overseer.store.checkHeartbeats();
    expect(late?.raised.alert).toMatchObject({ source: "heartbeat", dedupKey: "heartbeat:nightly-backup" });
    const lateList = await api.request("GET", "/api/v1/heartbeats", { token: viewer });
    expect(lateList.body.items[0]).toMatchObject({ state: "late", alertId: late?.raised.alert.id });
    const alerts = await api.request("GET", "/api/v1/alerts?source=heartbeat&status=open", { token: viewer });
    expect(alerts.body.items.map((a: Item) => a.id)).toEqual([late?.raised.alert.id]);

    const recovered = await api.request("POST", "/api/v1/heartbeats/nightly-backup", { token: operator, body: {} });
    expect(recovered.status).toBe(200);
    expect(recovered.body.heartbeat.state).toBe("ok");
    expect(recovered.body.closedAlert).toMatchObject({
      id: late?.raised.alert.id,
      status: "closed",
      closedBy: "heartbeat",
    });

    const missing = await api.request("POST", "/api/v1/heartbeats/nope", { token: operator });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: "HEARTBEAT_NOT_FOUND", details: { name: "nope" } });
    const bad = await api.request("POST", "/api/v1/heartbeats/bad%20name", { token: operator });
    expect(bad.status).toBe(400);
    const asViewer = await api.request("POST", "/api/v1/heartbeats/nightly-backup", { token: viewer });
    expect(asViewer.status).toBe(403);
  });
});
