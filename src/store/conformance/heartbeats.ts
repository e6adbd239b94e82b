/**
 * The heartbeats part of the store conformance suite (see suite.ts, which calls it with its
 * `test`): a sync adds, updates and removes heartbeats; an unpinged heartbeat turns late exactly
 * an interval after its sync (not a millisecond before) and raises one alert; a ping closes that
 * alert and starts the interval again; a second check raises nothing. Only the `Store` interface
 * is used; time is the suite's manual clock. The race between separate store objects on one
 * database runs per backend (heartbeats.*.test.ts) with `raceToCheckHeartbeats` below.
 */
import { describe, expect } from "vitest";
import type { EscalationPolicy } from "../../core/alert.js";
import type { HeartbeatDefinition } from "../../core/heartbeat.js";
import type { LateHeartbeat, Store } from "../store.js";
import type { ConformanceTest } from "./runs.js";
import { rejectsWith } from "./suite.js";

const iso = (ms: number): string => new Date(ms).toISOString();
const MIN = 60_000;
const HOUR = 60 * MIN;

const POLICY: EscalationPolicy = {
  name: "default",
  steps: [{ delayMs: 0, notify: ["ops-tg"] }],
  repeat: 0,
  repeatDelayMs: 0,
  ackTimeoutMs: null,
};

export const BACKUP: HeartbeatDefinition = { name: "nightly-backup", intervalMs: 26 * HOUR, policy: POLICY };
const SYNC: HeartbeatDefinition = { name: "sync", intervalMs: 5 * MIN, policy: null };

/** Every store checks heartbeats at the same moment; every late heartbeat any of them found. */
export async function raceToCheckHeartbeats(stores: readonly Store[]): Promise<LateHeartbeat[]> {
  return (await Promise.all(stores.map((s) => s.checkHeartbeats(1_000)))).flat();
}

export function runHeartbeatConformance(test: ConformanceTest): void {
  describe("heartbeats", () => {
    test("syncHeartbeats adds, updates and removes, and is idempotent", async (ctx) => {
      const t0 = ctx.clock.now;
      expect(await ctx.store.syncHeartbeats([BACKUP, SYNC])).toEqual({
        added: ["nightly-backup", "sync"],
        updated: [],
        removed: [],
      });
      expect(await ctx.store.syncHeartbeats([BACKUP, SYNC])).toEqual({ added: [], updated: [], removed: [] });
      expect(await ctx.store.listHeartbeats()).toEqual([
        {
          name: "nightly-backup",
          intervalMs: 26 * HOUR,
          policyName: "default",
          state: "ok",
          lastPingAt: null,
          dueAt: iso(t0 + 26 * HOUR),
          alertId: null,
          createdAt: iso(t0),
          updatedAt: iso(t0),
        },
        expect.objectContaining({ name: "sync", policyName: null, dueAt: iso(t0 + 5 * MIN) }),
      ]);
      ctx.clock.advance(MIN);
      expect(await ctx.store.syncHeartbeats([{ ...SYNC, intervalMs: 10 * MIN }])).toEqual({
        added: [],
        updated: ["sync"],
        removed: ["nightly-backup"],
      });
      // The due time counts from the first sync (never pinged), with the new interval.
      expect(await ctx.store.listHeartbeats()).toEqual([
        expect.objectContaining({ name: "sync", intervalMs: 10 * MIN, dueAt: iso(t0 + 10 * MIN) }),
      ]);
      await rejectsWith(() => ctx.store.syncHeartbeats([{ ...SYNC, intervalMs: 0 }]), "INVALID_ARGUMENT");
      await rejectsWith(() => ctx.store.syncHeartbeats([SYNC, SYNC]), "INVALID_ARGUMENT");
    });

    test("a heartbeat never pinged turns late exactly an interval after its sync, raising one alert", async (ctx) => {
      const t0 = ctx.clock.now;
      await ctx.store.syncHeartbeats([SYNC]);
      expect(await ctx.store.nextHeartbeatDue()).toBe(t0 + 5 * MIN);
      ctx.clock.set(t0 + 5 * MIN - 1);
      expect(await ctx.store.checkHeartbeats()).toEqual([]);
      ctx.clock.set(t0 + 5 * MIN);
      const [late, ...more] = await ctx.store.checkHeartbeats();
      expect(more).toEqual([]);
      expect(late?.raised.created).toBe(true);
      expect(late?.raised.alert).toMatchObject({
        source: "heartbeat",
        dedupKey: "heartbeat:sync",
        status: "triggered",
        policy: null,
        details: { heartbeat: "sync", intervalMs: 5 * MIN, lastPingAt: null, dueAt: iso(t0 + 5 * MIN) },
      });
      expect(late?.heartbeat).toMatchObject({ state: "late", alertId: late?.raised.alert.id });
      // Late heartbeats are not due again: nothing more is raised, and the watchdog can sleep.
      expect(await ctx.store.nextHeartbeatDue()).toBeNull();
      ctx.clock.advance(HOUR);
      expect(await ctx.store.checkHeartbeats()).toEqual([]);
      expect(await ctx.store.listAlerts({ source: "heartbeat" })).toHaveLength(1);
    });

    test("a late heartbeat's alert is paged by its policy", async (ctx) => {
      await ctx.store.syncHeartbeats([BACKUP]);
      ctx.clock.advance(26 * HOUR);
      const [late] = await ctx.store.checkHeartbeats();
      expect(late?.raised.alert.policy).toEqual(POLICY);
      expect(late?.raised.notifications.map((n) => n.target)).toEqual(["ops-tg"]);
    });

    test("a ping of a late heartbeat closes its alert and starts the interval again", async (ctx) => {
      const t0 = ctx.clock.now;
      await ctx.store.syncHeartbeats([SYNC]);
      ctx.clock.set(t0 + 2 * MIN);
      const early = await ctx.store.pingHeartbeat("sync");
      expect(early).toEqual({
        heartbeat: expect.objectContaining({ state: "ok", lastPingAt: iso(t0 + 2 * MIN), dueAt: iso(t0 + 7 * MIN) }),
        closedAlert: null,
      });
      ctx.clock.set(t0 + 7 * MIN - 1);
      expect(await ctx.store.checkHeartbeats()).toEqual([]);
      ctx.clock.set(t0 + 7 * MIN);
      const [late] = await ctx.store.checkHeartbeats();
      const alertId = late?.raised.alert.id as string;
      ctx.clock.set(t0 + 9 * MIN);
      const { heartbeat, closedAlert } = await ctx.store.pingHeartbeat("sync");
      expect(heartbeat).toMatchObject({ state: "ok", alertId: null, dueAt: iso(t0 + 14 * MIN) });
      expect(closedAlert).toMatchObject({ id: alertId, status: "closed", closedBy: "heartbeat" });
      expect(await ctx.store.getAlert(alertId)).toMatchObject({ status: "closed", closedAt: iso(t0 + 9 * MIN) });
      // Late again later: a new alert, since the first is closed.
      ctx.clock.set(t0 + 14 * MIN);
      const [again] = await ctx.store.checkHeartbeats();
      expect(again?.raised.created).toBe(true);
      expect(again?.raised.alert.id).not.toBe(alertId);
    });

    test("a ping after a person closed the alert recovers the heartbeat and leaves the alert", async (ctx) => {
      await ctx.store.syncHeartbeats([SYNC]);
      ctx.clock.advance(5 * MIN);
      const [late] = await ctx.store.checkHeartbeats();
      const alertId = late?.raised.alert.id as string;
      await ctx.store.closeAlert(alertId, "ana", "known outage");
      const { heartbeat, closedAlert } = await ctx.store.pingHeartbeat("sync");
      expect(heartbeat.state).toBe("ok");
      expect(closedAlert).toBeNull();
      expect(await ctx.store.getAlert(alertId)).toMatchObject({ closedBy: "ana", closeReason: "known outage" });
    });

    test("removing a late heartbeat from the config closes its alert", async (ctx) => {
      await ctx.store.syncHeartbeats([SYNC]);
      ctx.clock.advance(5 * MIN);
      const [late] = await ctx.store.checkHeartbeats();
      expect(await ctx.store.syncHeartbeats([])).toMatchObject({ removed: ["sync"] });
      expect(await ctx.store.getAlert(late?.raised.alert.id as string)).toMatchObject({
        status: "closed",
        closedBy: "heartbeat",
      });
      await rejectsWith(() => ctx.store.pingHeartbeat("sync"), "HEARTBEAT_NOT_FOUND");
    });

    test("pingHeartbeat refuses an unknown name with HEARTBEAT_NOT_FOUND", async (ctx) => {
      const err = await rejectsWith(() => ctx.store.pingHeartbeat("nope"), "HEARTBEAT_NOT_FOUND");
      expect(err.details).toEqual({ name: "nope" });
      await rejectsWith(() => ctx.store.pingHeartbeat("bad name!"), "INVALID_ARGUMENT");
    });
  });
}
