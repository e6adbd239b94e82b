/**
 * The retention part of the store conformance suite for runs and alerts (see suite.ts,
 * which calls it with its `test`; jobs and events are in its own "retention" block): finished
 * runs go by finish time and count, with their turns and stored output, and runs that have not
 * finished stay whatever their age; closed alerts go by close time and count, with their
 * notifications, and open ones stay. Every batch reaches the archive before it is deleted, a
 * failing archive keeps it, and a dry run counts only. Only the `Store` interface is used.
 */
import { describe, expect } from "vitest";
import type { EscalationPolicy } from "../../core/alert.js";
import type { NewRun, Run, RunSpec } from "../../core/run.js";
import type { PruneBatch, PruneResult } from "../store.js";
import type { ConformanceTest } from "./runs.js";
import type { Ctx } from "./suite.js";

const HOUR = 3_600_000;
const NOTHING_ELSE = { jobs: { succeeded: 0, dead: 0, cancelled: 0 }, events: 0, lessons: 0 };

const SPEC: RunSpec = {
  command: "agent",
  args: [],
  cwd: "/srv/work",
  env: [],
  maxTurns: 5,
  turnTimeoutMs: 600_000,
  graceMs: 5_000,
  completion: { exitCode: 0 },
  onTurnFailure: "fail",
};

/** One step notifying at once, so a raise records a notification. */
const POLICY: EscalationPolicy = {
  name: "default",
  steps: [{ delayMs: 0, notify: ["ops"] }],
  repeat: 0,
  repeatDelayMs: 0,
  ackTimeoutMs: null,
};

/** Ids that sort in creation order, as the ULIDs the engine gives them do. */
let sequence = 0;
function nextId(prefix: string): string {
  sequence++;
  return `${prefix}${String(sequence).padStart(8, "0")}`;
}

function newRun(): NewRun {
  return { id: nextId("01RETRUN"), profile: "fixer", params: {}, spec: SPEC, createdBy: null };
}

type RunEnd = "completed" | "failed" | "cancelled" | "running" | "paused" | "queued";

/**
 * A run that ends `end` at the clock's now. Started ones ran one turn with some output first
 * (a cancelled one is cancelled while queued, so it has none). Nothing else may be queued.
 */
async function runThat(ctx: Ctx, end: RunEnd): Promise<Run> {
  const created = await ctx.store.createRun(newRun());
  if (end === "queued") return created;
  if (end === "cancelled") return (await ctx.store.controlRun(created.id, { action: "cancel" })).run;
  const claimed = await ctx.store.claimRun("sup-1", 30_000);
  expect(claimed?.run.id).toBe(created.id);
  const lease = claimed?.lease as NonNullable<typeof claimed>["lease"];
  await ctx.store.updateRun(lease, {
    currentTurn: 1,
    turnStarted: { turn: 1, pid: 7, host: "node-a" },
    output: { turn: 1, offset: 0, data: Buffer.from(`output of ${created.id}\n`) },
  });
  if (end === "running") return (await ctx.store.getRun(created.id)) as Run;
  if (end === "paused") return (await ctx.store.controlRun(created.id, { action: "pause", immediate: true })).run;
  const done = await ctx.store.updateRun(lease, {
    turnFinished: { turn: 1, outcome: "exited", exitCode: end === "completed" ? 0 : 1, signal: null },
    ...(end === "failed" ? { error: { code: "RUN_TURN_FAILED" as const, message: "exit 1", retryable: false } } : {}),
    transition: end === "completed" ? "complete" : "fail",
  });
  expect(done?.state).toBe(end);
  return done as Run;
}

/** Whether the run is gone with its turns and output. */
async function runGone(ctx: Ctx, id: string): Promise<boolean> {
  return (
    (await ctx.store.getRun(id)) === null &&
    (await ctx.store.listRunTurns(id)).length === 0 &&
    (await ctx.store.readRunOutput(id, 1, 0)) === null
  );
}

type AlertEnd = "triggered" | "acknowledged" | "closed";

/** An alert raised (with one notification) and brought to `end` at the clock's now. */
async function alertThat(ctx: Ctx, end: AlertEnd): Promise<string> {
  const id = nextId("01RETALRT");
  const { alert } = await ctx.store.raiseAlert({
    id,
    source: "job.dead",
    summary: "payments: job died",
    details: { queue: "payments" },
    dedupKey: `retention:${id}`,
    policy: POLICY,
  });
  if (end === "acknowledged") await ctx.store.acknowledgeAlert(alert.id, "ana");
  if (end === "closed") await ctx.store.closeAlert(alert.id, "ana", "fixed");
  return alert.id;
}

async function alertGone(ctx: Ctx, id: string): Promise<boolean> {
  return (await ctx.store.getAlert(id)) === null && (await ctx.store.listAlertNotifications(id)).length === 0;
}

export function runRetentionConformance(test: ConformanceTest): void {
  describe("retention: runs and alerts", () => {
    test("prune deletes finished runs older than maxAgeMs with their turns and output", async (ctx) => {
      const old = [await runThat(ctx, "completed"), await runThat(ctx, "failed"), await runThat(ctx, "cancelled")];
      ctx.clock.advance(2 * HOUR);
      const recent = await runThat(ctx, "completed");
      const result = await ctx.store.prune({ jobs: {}, runs: { maxAgeMs: HOUR } });
      expect(result).toEqual({ ...NOTHING_ELSE, runs: 3, alerts: 0 });
      for (const run of old) expect(await runGone(ctx, run.id), run.state).toBe(true);
      expect(await ctx.store.getRun(recent.id)).toEqual(recent);
      expect(await ctx.store.listRunTurns(recent.id)).toHaveLength(1);
      expect((await ctx.store.readRunOutput(recent.id, 1, 0))?.data.toString()).toBe(`output of ${recent.id}\n`);
    });

    test("prune deletes a finished run's questions and approvals with it, and keeps a waiting run's", async (ctx) => {
      const asked = (id: string) => ({
        id,
        step: "before-first-turn",
        title: "Start?",
        details: null,
        risk: "medium" as const,
        approvers: [],
        quorum: 1,
        requestedBy: null,
        onTimeout: "deny" as const,
        timeoutMs: 10 * HOUR,
      });
      const denied = await ctx.store.createRun({ ...newRun(), approval: asked(nextId("01RETASK")) });
      const waiting = await ctx.store.createRun({ ...newRun(), approval: asked(nextId("01RETASK")) });
      const [request] = await ctx.store.listApprovals({ runId: denied.id });
      await ctx.store.decideApproval(
        request?.id ?? "",
        { decision: "deny", reason: null, channel: "api" },
        {
          name: "ana",
          identities: [],
          mayOperate: true,
        },
      );
      ctx.clock.advance(2 * HOUR);
      expect(await ctx.store.prune({ jobs: {}, runs: { maxAgeMs: HOUR } })).toEqual({
        ...NOTHING_ELSE,
        runs: 1,
        alerts: 0,
      });
      expect(await ctx.store.getRun(denied.id)).toBeNull();
      expect(await ctx.store.listApprovals({ runId: denied.id })).toEqual([]);
      expect(await ctx.store.listApprovals({ runId: waiting.id })).toHaveLength(1);
    });

    test("prune keeps runs that have not finished, whatever their age and the count rule", async (ctx) => {
      const running = await runThat(ctx, "running");
      const paused = await runThat(ctx, "paused");
      const queued = await runThat(ctx, "queued");
      ctx.clock.advance(365 * 24 * HOUR);
      const result = await ctx.store.prune({ jobs: {}, runs: { maxAgeMs: 0, maxCount: 0 } });
      expect(result.runs).toBe(0);
      for (const run of [running, paused, queued]) expect(await ctx.store.getRun(run.id)).toEqual(run);
      expect(await ctx.store.listRunTurns(running.id)).toHaveLength(1);
      expect((await ctx.store.readRunOutput(paused.id, 1, 0))?.size).toBeGreaterThan(0);
    });

    test("prune keeps the newest maxCount finished runs, whatever their state", async (ctx) => {
      const finished: Run[] = [];
      for (const end of ["failed", "completed", "cancelled", "completed"] as const) {
        finished.push(await runThat(ctx, end));
        ctx.clock.advance(1_000);
      }
      const running = await runThat(ctx, "running");
      const result = await ctx.store.prune({ jobs: {}, runs: { maxCount: 2 } });
      expect(result.runs).toBe(2);
      expect(await runGone(ctx, finished[0]?.id as string)).toBe(true);
      expect(await runGone(ctx, finished[1]?.id as string)).toBe(true);
      for (const run of [...finished.slice(2), running]) expect(await ctx.store.getRun(run.id)).toEqual(run);
      // Age and count together: either rule is enough to go.
      ctx.clock.advance(HOUR);
      const both = await ctx.store.prune({ jobs: {}, runs: { maxAgeMs: 10 * HOUR, maxCount: 1 } });
      expect(both.runs).toBe(1);
      expect(await ctx.store.getRun(finished[2]?.id as string)).toBeNull();
      expect(await ctx.store.getRun(finished[3]?.id as string)).not.toBeNull();
    });

    test("archive receives runs with their turns before they are deleted", async (ctx) => {
      const completed = await runThat(ctx, "completed");
      const cancelled = await runThat(ctx, "cancelled");
      const turns = await ctx.store.listRunTurns(completed.id);
      const batches: PruneBatch[] = [];
      const presentAtArchive: boolean[] = [];
      const result = await ctx.store.prune(
        { jobs: {}, runs: { maxCount: 0 } },
        {
          archive: async (batch) => {
            batches.push(batch);
            for (const { run } of batch.runs) presentAtArchive.push((await ctx.store.getRun(run.id)) !== null);
          },
        },
      );
      expect(result.runs).toBe(2);
      expect(presentAtArchive).toEqual([true, true]);
      expect(batches.flatMap((b) => [...b.jobs, ...b.events, ...b.alerts])).toEqual([]);
      expect(batches.flatMap((b) => b.runs)).toEqual([
        { run: completed, turns },
        { run: cancelled, turns: [] },
      ]);
      expect(await runGone(ctx, completed.id)).toBe(true);
    });

    test("a failing archive keeps its runs and alerts", async (ctx) => {
      const run = await runThat(ctx, "completed");
      const alertId = await alertThat(ctx, "closed");
      const alert = await ctx.store.getAlert(alertId);
      const notifications = await ctx.store.listAlertNotifications(alertId);
      for (const policy of [{ runs: { maxCount: 0 } }, { alerts: { maxCount: 0 } }]) {
        // Whether prune then rejects or carries on is the backend's choice; losing the batch is not.
        let result: PruneResult | undefined;
        try {
          result = await ctx.store.prune(
            { jobs: {}, ...policy },
            {
              archive: () => {
                throw new Error("archive bucket is down");
              },
            },
          );
        } catch (err) {
          expect((err as Error).message).toContain("archive bucket is down");
        }
        if (result !== undefined) expect([result.runs, result.alerts]).toEqual([0, 0]);
      }
      expect(await ctx.store.getRun(run.id)).toEqual(run);
      expect(await ctx.store.listRunTurns(run.id)).toHaveLength(1);
      expect((await ctx.store.readRunOutput(run.id, 1, 0))?.size).toBeGreaterThan(0);
      expect(await ctx.store.getAlert(alertId)).toEqual(alert);
      expect(await ctx.store.listAlertNotifications(alertId)).toEqual(notifications);
    });

    test("a dry run counts the runs and alerts prune would delete and deletes nothing", async (ctx) => {
      const runs = [await runThat(ctx, "completed"), await runThat(ctx, "failed"), await runThat(ctx, "running")];
      const alerts = [
        await alertThat(ctx, "closed"),
        await alertThat(ctx, "closed"),
        await alertThat(ctx, "triggered"),
      ];
      ctx.clock.advance(HOUR);
      let archived = 0;
      const result = await ctx.store.prune(
        { jobs: {}, runs: { maxAgeMs: 0 }, alerts: { maxCount: 1 } },
        {
          dryRun: true,
          archive: () => {
            archived++;
          },
        },
      );
      expect(result).toEqual({ ...NOTHING_ELSE, runs: 2, alerts: 1 });
      expect(archived).toBe(0);
      for (const run of runs) expect(await ctx.store.getRun(run.id)).toEqual(run);
      for (const id of alerts) expect(await ctx.store.getAlert(id)).not.toBeNull();
      expect(await ctx.store.listAlertNotifications(alerts[0] as string)).toHaveLength(1);
    });

    test("prune deletes alerts closed before maxAgeMs with their notifications; open ones are kept", async (ctx) => {
      const closedLongAgo = await alertThat(ctx, "closed");
      const triggered = await alertThat(ctx, "triggered");
      const acknowledged = await alertThat(ctx, "acknowledged");
      // Raised long ago but closed recently: age is by close time.
      const raisedLongAgo = await alertThat(ctx, "triggered");
      ctx.clock.advance(2 * HOUR);
      await ctx.store.closeAlert(raisedLongAgo, "ana");
      const result = await ctx.store.prune({ jobs: {}, alerts: { maxAgeMs: HOUR } });
      expect(result).toEqual({ ...NOTHING_ELSE, runs: 0, alerts: 1 });
      expect(await alertGone(ctx, closedLongAgo)).toBe(true);
      for (const id of [triggered, acknowledged, raisedLongAgo]) {
        expect(await ctx.store.getAlert(id)).not.toBeNull();
        expect(await ctx.store.listAlertNotifications(id)).toHaveLength(1);
      }
      // Open alerts stay whatever their age and the count rule.
      ctx.clock.advance(365 * 24 * HOUR);
      const all = await ctx.store.prune({ jobs: {}, alerts: { maxAgeMs: 0, maxCount: 0 } });
      expect(all.alerts).toBe(1);
      expect(await alertGone(ctx, raisedLongAgo)).toBe(true);
      expect((await ctx.store.listAlerts()).map((a) => a.status).sort()).toEqual(["acknowledged", "triggered"]);
    });

    test("prune keeps the newest maxCount closed alerts and archives the rest with their notifications", async (ctx) => {
      const closed: string[] = [];
      for (let i = 0; i < 3; i++) {
        closed.push(await alertThat(ctx, "closed"));
        ctx.clock.advance(1_000);
      }
      const open = await alertThat(ctx, "triggered");
      const expected = await Promise.all(
        closed.slice(0, 2).map(async (id) => ({
          alert: await ctx.store.getAlert(id),
          notifications: await ctx.store.listAlertNotifications(id),
        })),
      );
      const batches: PruneBatch[] = [];
      const presentAtArchive: boolean[] = [];
      const result = await ctx.store.prune(
        { jobs: {}, alerts: { maxCount: 1 } },
        {
          archive: async (batch) => {
            batches.push(batch);
            for (const { alert } of batch.alerts) presentAtArchive.push((await ctx.store.getAlert(alert.id)) !== null);
          },
        },
      );
      expect(result.alerts).toBe(2);
      expect(presentAtArchive).toEqual([true, true]);
      expect(batches.flatMap((b) => b.alerts)).toEqual(expected);
      expect(expected.every((e) => e.notifications.length === 1)).toBe(true);
      expect(await alertGone(ctx, closed[0] as string)).toBe(true);
      expect(await alertGone(ctx, closed[1] as string)).toBe(true);
      expect(await ctx.store.getAlert(closed[2] as string)).not.toBeNull();
      expect(await ctx.store.getAlert(open)).not.toBeNull();
    });

    test("prune pages through more than one batch of alerts closed at the same moment", async (ctx) => {
      const ids: string[] = [];
      for (let i = 0; i < 510; i++) ids.push(await alertThat(ctx, "closed"));
      const sizes: number[] = [];
      const result = await ctx.store.prune(
        { jobs: {}, alerts: { maxCount: 3 } },
        {
          archive: (batch) => {
            sizes.push(batch.alerts.length);
          },
        },
      );
      expect(result.alerts).toBe(507);
      expect(sizes).toEqual([500, 7]);
      // Ties on close time are broken by id: the three with the highest ids stay.
      expect((await ctx.store.listAlerts({ limit: 10 })).map((a) => a.id).sort()).toEqual(ids.slice(-3));
      expect((await ctx.store.prune({ jobs: {}, alerts: { maxCount: 3 } }, { dryRun: true })).alerts).toBe(0);
    });
  });
}
