/**
 * The alerts part of the store conformance suite (see suite.ts, which calls it with its
 * `test`): a raise stores a triggered alert and plans its first step at once; a second raise of
 * an open key bumps it and pages nobody; steps come due exactly at their delay, loop `repeat`
 * times and stop; an acknowledgement stops escalation and its timeout re-triggers; "escalate now"
 * skips ahead; a close is final; each due step is applied once; listing is open first. Only the
 * `Store` interface is used; time is the suite's manual clock. Races between separate store
 * objects on one database run per backend (alerts.*.test.ts) with `raceToRaise` and
 * `raceForEscalations` below, since the suite opens one store per test.
 */
import { describe, expect } from "vitest";
import type { AlertSource, EscalationPolicy, NewAlert } from "../../core/alert.js";
import type { AlertEscalation, Store } from "../store.js";
import type { ConformanceTest } from "./runs.js";
import { type Ctx, rejectsWith } from "./suite.js";

const iso = (ms: number): string => new Date(ms).toISOString();
const MIN = 60_000;

/** steps: ops-tg at once, ops-hook 5 min later; once more after 10 min; ack timeout 30 min. */
export const POLICY: EscalationPolicy = {
  name: "default",
  steps: [
    { delayMs: 0, notify: ["ops-tg"] },
    { delayMs: 5 * MIN, notify: ["ops-hook", "ana"] },
  ],
  repeat: 1,
  repeatDelayMs: 10 * MIN,
  ackTimeoutMs: 30 * MIN,
};

let sequence = 0;
/** Ids that sort in raise order, as the ULIDs the engine gives them do. */
export function newAlert(overrides: Partial<NewAlert> = {}): NewAlert {
  sequence++;
  return {
    id: `01ALRT${String(sequence).padStart(8, "0")}`,
    source: "job.dead" as AlertSource,
    summary: "payments: job died",
    details: { queue: "payments" },
    dedupKey: "job.dead:payments",
    policy: POLICY,
    ...overrides,
  };
}

async function alertEvents(ctx: Ctx): Promise<Array<{ kind: string; data: Record<string, unknown> }>> {
  return (await ctx.store.readEvents())
    .filter((e) => e.kind.startsWith("alert."))
    .map((e) => ({ kind: e.kind, data: e.data as Record<string, unknown> }));
}

/** The targets each escalation notified, as `step/round:target` strings. */
function notified(escalations: readonly AlertEscalation[]): string[] {
  return escalations.flatMap((e) => e.notifications.map((n) => `${n.step}/${n.round}:${n.target}`));
}

/** Every store raises the same key at the same moment; returns how many created an alert. */
export async function raceToRaise(stores: readonly Store[], key: string): Promise<{ created: number; ids: string[] }> {
  const results = await Promise.all(stores.map((s) => s.raiseAlert(newAlert({ dedupKey: key }))));
  return { created: results.filter((r) => r.created).length, ids: [...new Set(results.map((r) => r.alert.id))] };
}

/** Every store claims due escalations at the same moment; every notification any of them recorded. */
export async function raceForEscalations(stores: readonly Store[]): Promise<AlertEscalation[]> {
  return (await Promise.all(stores.map((s) => s.claimDueEscalations(1_000)))).flat();
}

export function runAlertConformance(test: ConformanceTest): void {
  describe("alerts", () => {
    test("raiseAlert stores a triggered alert and plans its first step at once", async (ctx) => {
      const t0 = ctx.clock.now;
      const input = newAlert();
      const { alert, created, notifications } = await ctx.store.raiseAlert(input);
      const stored = {
        id: input.id,
        source: "job.dead",
        summary: "payments: job died",
        details: { queue: "payments" },
        dedupKey: "job.dead:payments",
        status: "triggered",
        count: 1,
        policy: POLICY,
        escalation: { step: 0, round: 0 },
        nextEscalationAt: iso(t0 + 5 * MIN),
        acknowledgedBy: null,
        acknowledgedAt: null,
        closedBy: null,
        closedAt: null,
        closeReason: null,
        createdAt: iso(t0),
        updatedAt: iso(t0),
        version: 1,
      };
      expect(created).toBe(true);
      expect(alert).toEqual(stored);
      expect(await ctx.store.getAlert(input.id)).toEqual(stored);
      expect(await ctx.store.getAlert("no-such-alert")).toBeNull();
      expect(notifications).toEqual([
        {
          id: expect.any(Number),
          alertId: input.id,
          step: 0,
          round: 0,
          target: "ops-tg",
          at: iso(t0),
          status: "planned",
          error: null,
          receipt: null,
          fallbackFor: null,
          updatedAt: iso(t0),
        },
      ]);
      expect(await ctx.store.listAlertNotifications(input.id)).toEqual(notifications);
      expect(await alertEvents(ctx)).toEqual([
        {
          kind: "alert.raised",
          data: {
            alertId: input.id,
            source: "job.dead",
            summary: "payments: job died",
            dedupKey: "job.dead:payments",
            policy: "default",
          },
        },
        {
          kind: "alert.escalated",
          data: { alertId: input.id, step: 0, round: 0, targets: ["ops-tg"], by: "escalator" },
        },
      ]);
      expect(await ctx.store.nextEscalationAt()).toBe(t0 + 5 * MIN);
    });

    test("a first step with a delay is not notified at the raise; an alert without a policy pages nobody", async (ctx) => {
      const t0 = ctx.clock.now;
      const delayed = { ...POLICY, steps: [{ delayMs: 2 * MIN, notify: ["ops-tg"] }] };
      const first = await ctx.store.raiseAlert(newAlert({ policy: delayed, dedupKey: "a" }));
      expect(first.notifications).toEqual([]);
      expect(first.alert).toMatchObject({ escalation: { step: -1, round: 0 }, nextEscalationAt: iso(t0 + 2 * MIN) });
      const quiet = await ctx.store.raiseAlert(newAlert({ policy: null, dedupKey: null, source: "manual" }));
      expect(quiet.alert).toMatchObject({ policy: null, nextEscalationAt: null, escalation: { step: -1, round: 0 } });
      expect(quiet.notifications).toEqual([]);
      ctx.clock.set(t0 + 2 * MIN - 1);
      expect(await ctx.store.claimDueEscalations()).toEqual([]);
      ctx.clock.set(t0 + 2 * MIN);
      expect(notified(await ctx.store.claimDueEscalations())).toEqual(["0/0:ops-tg"]);
    });

    test("a second raise of an open key bumps the count, takes the new details and pages nobody", async (ctx) => {
      const first = await ctx.store.raiseAlert(newAlert());
      ctx.clock.advance(1_000);
      const second = await ctx.store.raiseAlert(newAlert({ details: { queue: "payments", job: "j2" } }));
      expect(second.created).toBe(false);
      expect(second.notifications).toEqual([]);
      expect(second.alert).toMatchObject({
        id: first.alert.id,
        count: 2,
        details: { queue: "payments", job: "j2" },
        updatedAt: iso(ctx.clock.now),
        version: 2,
        nextEscalationAt: first.alert.nextEscalationAt,
      });
      expect(await ctx.store.listAlertNotifications(first.alert.id)).toHaveLength(1);
      expect((await alertEvents(ctx)).map((e) => e.kind)).toEqual(["alert.raised", "alert.escalated", "alert.bumped"]);
      expect((await alertEvents(ctx)).at(-1)?.data).toEqual({
        alertId: first.alert.id,
        dedupKey: "job.dead:payments",
        count: 2,
      });
      // An acknowledged alert is open too; alerts without a key never dedup.
      await ctx.store.acknowledgeAlert(first.alert.id, "ana");
      expect((await ctx.store.raiseAlert(newAlert())).alert).toMatchObject({ id: first.alert.id, count: 3 });
      const a = await ctx.store.raiseAlert(newAlert({ dedupKey: null }));
      const b = await ctx.store.raiseAlert(newAlert({ dedupKey: null }));
      expect(a.created && b.created).toBe(true);
    });

    test("after a close, a raise of the same key opens a new alert", async (ctx) => {
      const first = await ctx.store.raiseAlert(newAlert());
      await ctx.store.closeAlert(first.alert.id, "ana", "fixed");
      const again = await ctx.store.raiseAlert(newAlert());
      expect(again.created).toBe(true);
      expect(again.alert.id).not.toBe(first.alert.id);
      expect(again.notifications.map((n) => n.target)).toEqual(["ops-tg"]);
    });

    test("two raises of one key at the same moment create one alert with count 2", async (ctx) => {
      const race = await raceToRaise([ctx.store, ctx.store], "k");
      expect(race.created).toBe(1);
      expect(race.ids).toHaveLength(1);
      expect(await ctx.store.getAlert(race.ids[0] as string)).toMatchObject({ count: 2 });
      expect(await ctx.store.listAlerts()).toHaveLength(1);
      expect(await ctx.store.listAlertNotifications(race.ids[0] as string)).toHaveLength(1);
    });

    test("steps come due exactly at their delay, loop repeat times, then stop", async (ctx) => {
      const t0 = ctx.clock.now;
      const { alert } = await ctx.store.raiseAlert(newAlert());
      const at = async (ms: number): Promise<string[]> => {
        ctx.clock.set(t0 + ms);
        return notified(await ctx.store.claimDueEscalations());
      };
      expect(await at(5 * MIN - 1)).toEqual([]);
      expect(await at(5 * MIN)).toEqual(["1/0:ops-hook", "1/0:ana"]);
      expect(await ctx.store.nextEscalationAt()).toBe(t0 + 15 * MIN);
      expect(await at(15 * MIN - 1)).toEqual([]);
      expect(await at(15 * MIN)).toEqual(["0/1:ops-tg"]);
      expect(await at(20 * MIN)).toEqual(["1/1:ops-hook", "1/1:ana"]);
      expect(await ctx.store.getAlert(alert.id)).toMatchObject({
        status: "triggered",
        escalation: { step: 1, round: 1 },
        nextEscalationAt: null,
      });
      expect(await ctx.store.nextEscalationAt()).toBeNull();
      expect(await at(10 * 60 * MIN)).toEqual([]);
      const timeline = await ctx.store.listAlertNotifications(alert.id);
      expect(timeline.map((n) => [n.step, n.round, n.target, n.at])).toEqual([
        [0, 0, "ops-tg", iso(t0)],
        [1, 0, "ops-hook", iso(t0 + 5 * MIN)],
        [1, 0, "ana", iso(t0 + 5 * MIN)],
        [0, 1, "ops-tg", iso(t0 + 15 * MIN)],
        [1, 1, "ops-hook", iso(t0 + 20 * MIN)],
        [1, 1, "ana", iso(t0 + 20 * MIN)],
      ]);
      const escalated = (await alertEvents(ctx)).filter((e) => e.kind === "alert.escalated");
      expect(escalated.map((e) => [e.data.step, e.data.round])).toEqual([
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ]);
    });

    test("a late watchdog applies one step per call, each timed from when it ran", async (ctx) => {
      const t0 = ctx.clock.now;
      await ctx.store.raiseAlert(newAlert());
      ctx.clock.set(t0 + 60 * MIN);
      expect(notified(await ctx.store.claimDueEscalations())).toEqual(["1/0:ops-hook", "1/0:ana"]);
      expect(await ctx.store.nextEscalationAt()).toBe(t0 + 70 * MIN);
      expect(await ctx.store.claimDueEscalations()).toEqual([]);
    });

    test("an acknowledgement stops escalation; acknowledging again is ALERT_INVALID_TRANSITION", async (ctx) => {
      const t0 = ctx.clock.now;
      const noTimeout = { ...POLICY, ackTimeoutMs: null };
      const { alert } = await ctx.store.raiseAlert(newAlert({ policy: noTimeout }));
      ctx.clock.set(t0 + MIN);
      const acked = await ctx.store.acknowledgeAlert(alert.id, "ana", 1);
      expect(acked).toMatchObject({
        status: "acknowledged",
        acknowledgedBy: "ana",
        acknowledgedAt: iso(t0 + MIN),
        nextEscalationAt: null,
        version: 2,
      });
      ctx.clock.set(t0 + 24 * 60 * MIN);
      expect(await ctx.store.claimDueEscalations()).toEqual([]);
      expect(await ctx.store.nextEscalationAt()).toBeNull();
      const err = await rejectsWith(() => ctx.store.acknowledgeAlert(alert.id, "bo"), "ALERT_INVALID_TRANSITION");
      expect(err.details).toEqual({ id: alert.id, status: "acknowledged" });
      expect((await alertEvents(ctx)).at(-1)).toEqual({
        kind: "alert.acknowledged",
        data: { alertId: alert.id, by: "ana" },
      });
    });

    test("an acknowledged alert not closed within the ack timeout re-triggers from the first step", async (ctx) => {
      const t0 = ctx.clock.now;
      const { alert } = await ctx.store.raiseAlert(newAlert());
      ctx.clock.set(t0 + 6 * MIN);
      await ctx.store.claimDueEscalations();
      ctx.clock.set(t0 + 7 * MIN);
      const acked = await ctx.store.acknowledgeAlert(alert.id, "ana");
      expect(acked.nextEscalationAt).toBe(iso(t0 + 37 * MIN));
      ctx.clock.set(t0 + 37 * MIN - 1);
      expect(await ctx.store.claimDueEscalations()).toEqual([]);
      ctx.clock.set(t0 + 37 * MIN);
      const [again, ...rest] = await ctx.store.claimDueEscalations();
      expect(rest).toEqual([]);
      expect(again?.retriggered).toBe(true);
      expect(notified(again ? [again] : [])).toEqual(["0/0:ops-tg"]);
      expect(again?.alert).toMatchObject({
        status: "triggered",
        acknowledgedBy: null,
        escalation: { step: 0, round: 0 },
        nextEscalationAt: iso(t0 + 42 * MIN),
      });
      expect((await alertEvents(ctx)).slice(-2)).toEqual([
        { kind: "alert.retriggered", data: { alertId: alert.id, acknowledgedBy: "ana" } },
        {
          kind: "alert.escalated",
          data: { alertId: alert.id, step: 0, round: 0, targets: ["ops-tg"], by: "escalator" },
        },
      ]);
    });

    test("escalate now skips ahead at once; on an acknowledged alert it triggers it again", async (ctx) => {
      const t0 = ctx.clock.now;
      const { alert } = await ctx.store.raiseAlert(newAlert());
      ctx.clock.set(t0 + MIN);
      const ahead = await ctx.store.escalateAlertNow(alert.id, "bo");
      expect(notified([ahead])).toEqual(["1/0:ops-hook", "1/0:ana"]);
      expect(ahead.alert).toMatchObject({ escalation: { step: 1, round: 0 }, nextEscalationAt: iso(t0 + 11 * MIN) });
      expect((await alertEvents(ctx)).at(-1)?.data).toMatchObject({ step: 1, round: 0, by: "bo" });
      // The skipped delay is not applied again: nothing is due before the repeat delay.
      ctx.clock.set(t0 + 5 * MIN);
      expect(await ctx.store.claimDueEscalations()).toEqual([]);
      await ctx.store.acknowledgeAlert(alert.id, "ana");
      const reopened = await ctx.store.escalateAlertNow(alert.id, "bo");
      expect(reopened.alert).toMatchObject({
        status: "triggered",
        acknowledgedBy: null,
        escalation: { step: 0, round: 1 },
      });
      expect(notified([reopened])).toEqual(["0/1:ops-tg"]);
      // With no step left, the last step is notified again.
      const last = await ctx.store.escalateAlertNow(alert.id, "bo");
      expect(notified([last])).toEqual(["1/1:ops-hook", "1/1:ana"]);
      const again = await ctx.store.escalateAlertNow(alert.id, "bo");
      expect(notified([again])).toEqual(["1/1:ops-hook", "1/1:ana"]);
      expect(again.alert.nextEscalationAt).toBeNull();
    });

    test("a close is final: later actions are ALERT_INVALID_TRANSITION and nothing more is due", async (ctx) => {
      const t0 = ctx.clock.now;
      const { alert } = await ctx.store.raiseAlert(newAlert());
      ctx.clock.set(t0 + MIN);
      const closed = await ctx.store.closeAlert(alert.id, "ana", "fixed the card processor");
      expect(closed).toMatchObject({
        status: "closed",
        closedBy: "ana",
        closedAt: iso(t0 + MIN),
        closeReason: "fixed the card processor",
        nextEscalationAt: null,
        version: 2,
      });
      for (const action of [
        () => ctx.store.closeAlert(alert.id, "bo"),
        () => ctx.store.acknowledgeAlert(alert.id, "bo"),
        () => ctx.store.escalateAlertNow(alert.id, "bo"),
      ]) {
        const err = await rejectsWith(action, "ALERT_INVALID_TRANSITION");
        expect(err.details).toEqual({ id: alert.id, status: "closed" });
      }
      ctx.clock.set(t0 + 60 * MIN);
      expect(await ctx.store.claimDueEscalations()).toEqual([]);
      expect(await ctx.store.getAlert(alert.id)).toEqual(closed);
      expect((await alertEvents(ctx)).at(-1)).toEqual({
        kind: "alert.closed",
        data: { alertId: alert.id, by: "ana", reason: "fixed the card processor" },
      });
    });

    test("unknown ids are ALERT_NOT_FOUND; a stale expectedVersion is VERSION_CONFLICT and changes nothing", async (ctx) => {
      await rejectsWith(() => ctx.store.acknowledgeAlert("nope", "ana"), "ALERT_NOT_FOUND");
      await rejectsWith(() => ctx.store.closeAlert("nope", "ana"), "ALERT_NOT_FOUND");
      await rejectsWith(() => ctx.store.escalateAlertNow("nope", "ana"), "ALERT_NOT_FOUND");
      await rejectsWith(() => ctx.store.recordNotification(999_999, "sent"), "ALERT_NOT_FOUND");
      const { alert } = await ctx.store.raiseAlert(newAlert());
      await ctx.store.raiseAlert(newAlert());
      const err = await rejectsWith(() => ctx.store.acknowledgeAlert(alert.id, "ana", 1), "VERSION_CONFLICT");
      expect(err.details).toMatchObject({ id: alert.id, expectedVersion: 1, version: 2 });
      expect(await ctx.store.getAlert(alert.id)).toMatchObject({ status: "triggered", version: 2 });
      await rejectsWith(() => ctx.store.closeAlert(alert.id, "ana", null, 1), "VERSION_CONFLICT");
    });

    test("raiseAlert refuses a bad source, summary or key with INVALID_ARGUMENT", async (ctx) => {
      const bad = [
        newAlert({ source: "nope" as AlertSource }),
        newAlert({ summary: "" }),
        newAlert({ summary: "x".repeat(301) }),
        newAlert({ dedupKey: "" }),
      ];
      for (const input of bad) await rejectsWith(() => ctx.store.raiseAlert(input), "INVALID_ARGUMENT");
      expect(await ctx.store.listAlerts()).toEqual([]);
    });

    test("recordNotification marks a planned notification sent or failed", async (ctx) => {
      const t0 = ctx.clock.now;
      const { alert, notifications } = await ctx.store.raiseAlert(newAlert());
      const [planned] = notifications;
      ctx.clock.set(t0 + 1_000);
      const sent = await ctx.store.recordNotification(planned?.id as number, "sent");
      expect(sent).toEqual({ ...planned, status: "sent", error: null, updatedAt: iso(t0 + 1_000) });
      ctx.clock.set(t0 + 5 * MIN);
      const [step] = await ctx.store.claimDueEscalations();
      const failed = await ctx.store.recordNotification(step?.notifications[0]?.id as number, "failed", "HTTP 502");
      expect(failed).toMatchObject({ status: "failed", error: "HTTP 502", target: "ops-hook" });
      expect((await ctx.store.listAlertNotifications(alert.id)).map((n) => n.status)).toEqual([
        "sent",
        "failed",
        "planned",
      ]);
    });

    test("planFallback plans a failed notification's step for its fallback, once, and only while the alert is open", async (ctx) => {
      const t0 = ctx.clock.now;
      const { alert, notifications } = await ctx.store.raiseAlert(newAlert());
      const [failed] = notifications;
      await ctx.store.recordNotification(failed?.id as number, "failed", "telegram: 403 Forbidden");
      ctx.clock.set(t0 + 1_000);
      const fallback = await ctx.store.planFallback(failed?.id as number, "ops-console");
      expect(fallback).toEqual({
        id: expect.any(Number),
        alertId: alert.id,
        step: failed?.step,
        round: failed?.round,
        target: "ops-console",
        at: iso(t0 + 1_000),
        status: "planned",
        error: null,
        receipt: null,
        fallbackFor: failed?.id,
        updatedAt: iso(t0 + 1_000),
      });
      // A second call (a retried send job) plans nothing more.
      expect(await ctx.store.planFallback(failed?.id as number, "ops-console")).toEqual(fallback);
      expect(
        (await ctx.store.listAlertNotifications(alert.id)).map((n) => [n.target, n.status, n.fallbackFor]),
      ).toEqual([
        [failed?.target, "failed", null],
        ["ops-console", "planned", failed?.id],
      ]);
      expect(await ctx.store.listPlannedNotifications(10)).toEqual([fallback]);
      const events = (await alertEvents(ctx)).filter((e) => e.kind === "alert.fallback").map((e) => e.data);
      expect(events).toEqual([
        {
          alertId: alert.id,
          notificationId: failed?.id,
          target: failed?.target,
          fallback: "ops-console",
          fallbackId: fallback?.id,
        },
      ]);

      // Closed since: nobody needs paging any more.
      const other = await ctx.store.raiseAlert(newAlert({ dedupKey: "other" }));
      await ctx.store.closeAlert(other.alert.id, "ana");
      expect(await ctx.store.planFallback(other.notifications[0]?.id as number, "ops-console")).toBeNull();
      await rejectsWith(() => ctx.store.planFallback(999_999, "ops-console"), "ALERT_NOT_FOUND");
    });

    test("recordNotification keeps a sent message's receipt; planned and failed ones have none", async (ctx) => {
      const t0 = ctx.clock.now;
      const { alert, notifications } = await ctx.store.raiseAlert(newAlert());
      expect(notifications[0]?.receipt).toBeNull();
      const group = await ctx.store.recordNotification(notifications[0]?.id as number, "sent", null, {
        chatId: "-1001234567890",
        messageId: 41,
      });
      expect(group.receipt).toEqual({ chatId: "-1001234567890", messageId: 41 });
      ctx.clock.set(t0 + 5 * MIN);
      const [step] = await ctx.store.claimDueEscalations();
      const [hook, ana] = step?.notifications ?? [];
      expect(hook?.receipt).toBeNull();
      // A receipt on a failure is not kept: nothing was delivered.
      const failed = await ctx.store.recordNotification(hook?.id as number, "failed", "HTTP 502", {
        chatId: 1,
        messageId: 2,
      });
      expect(failed).toMatchObject({ status: "failed", receipt: null });
      await ctx.store.recordNotification(ana?.id as number, "sent", undefined, { chatId: 12345, messageId: 7 });
      await rejectsWith(
        () => ctx.store.recordNotification(ana?.id as number, "sent", null, { chatId: 1, messageId: 1.5 }),
        "INVALID_ARGUMENT",
      );
      expect((await ctx.store.listAlertNotifications(alert.id)).map((n) => [n.target, n.status, n.receipt])).toEqual([
        ["ops-tg", "sent", { chatId: "-1001234567890", messageId: 41 }],
        ["ops-hook", "failed", null],
        ["ana", "sent", { chatId: 12345, messageId: 7 }],
      ]);
    });

    test("listPlannedNotifications: planned ones of open alerts only, oldest first, up to the limit", async (ctx) => {
      const first = await ctx.store.raiseAlert(newAlert({ dedupKey: "a" }));
      const second = await ctx.store.raiseAlert(newAlert({ dedupKey: "b" }));
      const closed = await ctx.store.raiseAlert(newAlert({ dedupKey: "c" }));
      const sent = await ctx.store.raiseAlert(newAlert({ dedupKey: "d" }));
      await ctx.store.closeAlert(closed.alert.id, "ana");
      await ctx.store.recordNotification(sent.notifications[0]?.id as number, "sent");
      const planned = await ctx.store.listPlannedNotifications(10);
      expect(planned.map((n) => n.alertId)).toEqual([first.alert.id, second.alert.id]);
      expect(planned[0]).toEqual(first.notifications[0]);
      expect((await ctx.store.listPlannedNotifications(1)).map((n) => n.alertId)).toEqual([first.alert.id]);
    });

    test("concurrent watchdog calls apply each due step exactly once", async (ctx) => {
      const t0 = ctx.clock.now;
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push((await ctx.store.raiseAlert(newAlert({ dedupKey: `k${i}` }))).alert.id);
      ctx.clock.set(t0 + 5 * MIN);
      const claimed = await raceForEscalations([ctx.store, ctx.store, ctx.store]);
      expect(claimed.map((c) => c.alert.id).sort()).toEqual([...ids].sort());
      expect(notified(claimed)).toHaveLength(20);
      for (const id of ids) expect(await ctx.store.listAlertNotifications(id)).toHaveLength(3);
      expect(await raceForEscalations([ctx.store, ctx.store])).toEqual([]);
    });

    test("listAlerts: open first, each part newest first; filters by status and source; keyset pages", async (ctx) => {
      const raised: string[] = [];
      for (const [i, source] of (["job.dead", "heartbeat", "manual", "job.dead", "queue.depth"] as const).entries()) {
        ctx.clock.advance(1_000);
        raised.push((await ctx.store.raiseAlert(newAlert({ source, dedupKey: `k${i}` }))).alert.id);
      }
      const [a, b, c, d, e] = raised as [string, string, string, string, string];
      await ctx.store.closeAlert(b, "ana");
      await ctx.store.closeAlert(d, "ana");
      await ctx.store.acknowledgeAlert(c, "ana");
      const ids = async (filter = {}) => (await ctx.store.listAlerts(filter)).map((x) => x.id);
      expect(await ids()).toEqual([e, c, a, d, b]);
      expect(await ids({ statuses: ["closed"] })).toEqual([d, b]);
      expect(await ids({ statuses: ["acknowledged"] })).toEqual([c]);
      expect(await ids({ statuses: ["triggered", "acknowledged"] })).toEqual([e, c, a]);
      expect(await ids({ source: "job.dead" })).toEqual([a, d]);
      expect(await ids({ limit: 2 })).toEqual([e, c]);
      expect(await ids({ limit: 2, afterId: c })).toEqual([a, d]);
      expect(await ids({ limit: 2, afterId: d })).toEqual([b]);
      expect(await ids({ afterId: "unknown" })).toEqual([]);
    });
  });
}
