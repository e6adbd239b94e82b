/**
 * The on-call part of the store conformance suite (see suite.ts, which calls it with its
 * `test`): overrides stored with their audit events, cancelled but kept, refused when they make
 * no sense; and escalation paging whoever is on call when each step comes due (a handoff or an
 * override between two steps changes who), with steps outside their time window paging nobody.
 * Time is the suite's manual clock, which starts on Tuesday 1 January 2030, 00:00 UTC.
 */
import { describe, expect } from "vitest";
import type { EscalationPolicy } from "../../core/alert.js";
import type { Rotation } from "../../core/oncall.js";
import type { TimeWindow } from "../../core/time-window.js";
import { newAlert } from "./alerts.js";
import type { ConformanceTest } from "./runs.js";
import { type Ctx, rejectsWith } from "./suite.js";

const HOUR = 3_600_000;
const MIN = 60_000;
const iso = (ms: number): string => new Date(ms).toISOString();

/** Daily at midnight UTC from the suite's start: alice, then bob. */
const ROTATION: Rotation = {
  name: "primary",
  people: ["alice", "bob"],
  timezone: "UTC",
  start: "2030-01-01T00:00",
  shiftMs: 24 * HOUR,
};

/** 09:00 to 17:00 UTC on weekdays. */
const OFFICE: TimeWindow = {
  name: "office",
  timezone: "UTC",
  ranges: [{ days: ["mon", "tue", "wed", "thu", "fri"], from: 9 * 60, to: 17 * 60 }],
};

/** Texts the rotation at once, calls it 30 min later, and pages the office line only in office hours. */
const PAGING: EscalationPolicy = {
  name: "after-hours",
  steps: [
    { delayMs: 0, notify: ["rotation:primary:sms"] },
    { delayMs: 30 * MIN, notify: ["rotation:primary:voice", "office-line"] },
    { delayMs: 30 * MIN, notify: ["office-line"], window: { window: OFFICE, outside: false } },
  ],
  repeat: 0,
  repeatDelayMs: 0,
  ackTimeoutMs: null,
  oncall: {
    rotations: { primary: ROTATION },
    people: { alice: ["person:alice:sms"], bob: ["person:bob:sms"], carol: ["person:carol:sms"] },
  },
};

async function oncallEvents(ctx: Ctx): Promise<Array<{ kind: string; data: Record<string, unknown> }>> {
  return (await ctx.store.readEvents())
    .filter((e) => e.kind.startsWith("oncall."))
    .map((e) => ({ kind: e.kind, data: e.data as Record<string, unknown> }));
}

async function escalations(ctx: Ctx): Promise<Array<Record<string, unknown>>> {
  return (await ctx.store.readEvents()).filter((e) => e.kind === "alert.escalated").map((e) => e.data);
}

export function runOncallConformance(test: ConformanceTest): void {
  describe("on-call overrides", () => {
    test("an override is stored with who made it and why, and appends oncall.override_created", async (ctx) => {
      const t0 = ctx.clock.now;
      const created = await ctx.store.createOncallOverride({
        rotation: "primary",
        person: "carol",
        startsAt: t0 + HOUR,
        endsAt: t0 + 5 * HOUR,
        reason: "alice is at the dentist",
        by: "ops",
      });
      expect(created).toEqual({
        id: expect.any(Number),
        rotation: "primary",
        person: "carol",
        startsAt: iso(t0 + HOUR),
        endsAt: iso(t0 + 5 * HOUR),
        reason: "alice is at the dentist",
        createdBy: "ops",
        createdAt: iso(t0),
        cancelledBy: null,
        cancelledAt: null,
      });
      expect(await oncallEvents(ctx)).toEqual([{ kind: "oncall.override_created", data: { ...created } }]);
      expect(await ctx.store.currentOncallOverrides(["primary"])).toEqual([created]);
      expect(await ctx.store.currentOncallOverrides(["secondary"])).toEqual([]);
      expect(await ctx.store.currentOncallOverrides([])).toEqual([]);
    });

    test("a cancelled override stays in the history, is no longer current, and cannot be cancelled twice", async (ctx) => {
      const t0 = ctx.clock.now;
      const first = await ctx.store.createOncallOverride({
        rotation: "primary",
        person: "carol",
        startsAt: t0,
        endsAt: t0 + HOUR,
        reason: null,
        by: "ops",
      });
      const second = await ctx.store.createOncallOverride({
        rotation: "secondary",
        person: "bob",
        startsAt: t0,
        endsAt: t0 + 2 * HOUR,
        reason: null,
        by: "ana",
      });
      ctx.clock.advance(MIN);
      const cancelled = await ctx.store.cancelOncallOverride(first.id, "ana");
      expect(cancelled).toEqual({ ...first, cancelledBy: "ana", cancelledAt: iso(t0 + MIN) });
      expect(await ctx.store.currentOncallOverrides(["primary", "secondary"])).toEqual([second]);
      expect(await ctx.store.listOncallOverrides({ limit: 10 })).toEqual([second, cancelled]);
      expect(await ctx.store.listOncallOverrides({ rotation: "primary", limit: 10 })).toEqual([cancelled]);
      expect(await ctx.store.listOncallOverrides({ beforeId: second.id, limit: 10 })).toEqual([cancelled]);
      expect(await ctx.store.listOncallOverrides({ limit: 1 })).toEqual([second]);
      expect((await oncallEvents(ctx)).map((e) => e.kind)).toEqual([
        "oncall.override_created",
        "oncall.override_created",
        "oncall.override_cancelled",
      ]);
      const twice = await rejectsWith(() => ctx.store.cancelOncallOverride(first.id, "ana"), "OVERRIDE_ENDED");
      expect(twice.message).toContain("cancelled already, by ana");
      await rejectsWith(() => ctx.store.cancelOncallOverride(99_999, "ana"), "OVERRIDE_NOT_FOUND");
      ctx.clock.advance(2 * HOUR);
      const ended = await rejectsWith(() => ctx.store.cancelOncallOverride(second.id, "ana"), "OVERRIDE_ENDED");
      expect(ended.message).toBe(`on-call override ${second.id} ended at ${iso(t0 + 2 * HOUR)}`);
      expect(await ctx.store.currentOncallOverrides(["primary", "secondary"])).toEqual([]);
    });

    test("an override that ends before it starts, in the past or after a year is refused, and nothing is stored", async (ctx) => {
      const t0 = ctx.clock.now;
      const base = { rotation: "primary", person: "carol", reason: null, by: "ops" };
      for (const [startsAt, endsAt, message] of [
        [t0 + HOUR, t0 + HOUR, "an override must end after it starts"],
        [t0 - 2 * HOUR, t0 - HOUR, "an override must end in the future"],
        [t0, t0 + 367 * 24 * HOUR, "an override may last at most 366 days"],
      ] as const) {
        const err = await rejectsWith(
          () => ctx.store.createOncallOverride({ ...base, startsAt, endsAt }),
          "INVALID_ARGUMENT",
        );
        expect(err.message).toBe(message);
      }
      expect(await ctx.store.listOncallOverrides({ limit: 10 })).toEqual([]);
      expect(await oncallEvents(ctx)).toEqual([]);
    });
  });

  describe("escalation through a rotation", () => {
    test("each step pages whoever is on call when it comes due: a handoff and an override between steps change who", async (ctx) => {
      // 23:00 on Tuesday: alice's shift, an hour before bob's.
      ctx.clock.set(Date.UTC(2030, 0, 1, 23));
      const raised = await ctx.store.raiseAlert(newAlert({ policy: PAGING, dedupKey: "oncall:1" }));
      expect(raised.notifications.map((n) => n.target)).toEqual(["person:alice:sms"]);

      // 23:40: the handoff to bob has not happened; an override puts carol on call from 23:45.
      ctx.clock.set(Date.UTC(2030, 0, 1, 23, 40));
      const swap = await ctx.store.createOncallOverride({
        rotation: "primary",
        person: "carol",
        startsAt: Date.UTC(2030, 0, 1, 23, 45),
        endsAt: Date.UTC(2030, 0, 2, 0, 15),
        reason: "alice handed over early",
        by: "alice",
      });
      ctx.clock.set(Date.UTC(2030, 0, 1, 23, 50));
      const second = await ctx.store.claimDueEscalations(10);
      expect(second.flatMap((e) => e.notifications.map((n) => `${n.step}:${n.target}`))).toEqual([
        "1:person:carol:voice",
        "1:office-line",
      ]);

      // 00:20: the override has ended and bob's shift has begun; the third step is outside office hours.
      ctx.clock.set(Date.UTC(2030, 0, 2, 0, 20));
      const third = await ctx.store.claimDueEscalations(10);
      expect(third).toHaveLength(1);
      expect(third[0]?.notifications).toEqual([]);
      expect(await ctx.store.getAlert(raised.alert.id)).toMatchObject({ nextEscalationAt: null });

      expect(await escalations(ctx)).toEqual([
        {
          alertId: raised.alert.id,
          step: 0,
          round: 0,
          targets: ["person:alice:sms"],
          by: "escalator",
          onCall: [{ rotation: "primary", person: "alice", overrideId: null }],
        },
        {
          alertId: raised.alert.id,
          step: 1,
          round: 0,
          targets: ["person:carol:voice", "office-line"],
          by: "escalator",
          onCall: [{ rotation: "primary", person: "carol", overrideId: swap.id }],
        },
        {
          alertId: raised.alert.id,
          step: 2,
          round: 0,
          targets: [],
          by: "escalator",
          skipped: "only during office",
        },
      ]);
    });

    test("a step outside its window pages nobody, but a person's escalate now pages the next step whatever its window", async (ctx) => {
      ctx.clock.set(Date.UTC(2030, 0, 1, 23)); // Tuesday 23:00: outside office hours
      const office = { window: OFFICE, outside: false };
      const policy: EscalationPolicy = {
        name: "office-only",
        steps: [
          { delayMs: 0, notify: ["office-line"], window: office },
          { delayMs: 30 * MIN, notify: ["office-line", "manager"], window: office },
        ],
        repeat: 0,
        repeatDelayMs: 0,
        ackTimeoutMs: null,
      };
      const raised = await ctx.store.raiseAlert(newAlert({ policy, dedupKey: "oncall:3" }));
      expect(raised.notifications).toEqual([]);
      const now = await ctx.store.escalateAlertNow(raised.alert.id, "ana");
      expect(now.notifications.map((n) => n.target)).toEqual(["office-line", "manager"]);
      expect(now.notice?.targets).toEqual(["office-line", "manager"]);
      expect((await escalations(ctx)).map((e) => [e.step, e.targets, e.skipped])).toEqual([
        [0, [], "only during office"],
        [1, ["office-line", "manager"], undefined],
      ]);
    });

    test("a step in its time window pages as usual, and the rotation's next person after the handoff", async (ctx) => {
      // Wednesday 08:40 UTC: bob's shift; the third step comes due at 09:40, in office hours.
      ctx.clock.set(Date.UTC(2030, 0, 2, 8, 40));
      const raised = await ctx.store.raiseAlert(newAlert({ policy: PAGING, dedupKey: "oncall:2" }));
      expect(raised.notifications.map((n) => n.target)).toEqual(["person:bob:sms"]);
      ctx.clock.advance(30 * MIN);
      await ctx.store.claimDueEscalations(10);
      ctx.clock.advance(30 * MIN);
      const third = await ctx.store.claimDueEscalations(10);
      expect(third.flatMap((e) => e.notifications.map((n) => n.target))).toEqual(["office-line"]);
    });
  });
}
