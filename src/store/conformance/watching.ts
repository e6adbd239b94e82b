/**
 * What the store tells those who watch it (/metrics, GET /api/v1/concurrency), in the store
 * conformance suite (see suite.ts, which calls it with its `test`): concurrency keys' usage and
 * the jobs a full key holds back, each worker's busy slots, pending approvals and open alerts
 * counted, and the events that make counters right across processes: `job.deduplicated` for an
 * enqueue answered by its idempotency key, `alert.notification_sent` / `_failed` with each
 * recorded send.
 */
import { describe, expect } from "vitest";
import type { NewApproval } from "../../core/approval.js";
import { newAlert } from "./alerts.js";
import type { ConformanceTest } from "./runs.js";
import type { Ctx } from "./suite.js";

let sequence = 0;
function approvalRequest(): NewApproval {
  sequence++;
  return {
    id: `01WATCH${String(sequence).padStart(8, "0")}`,
    step: "approval:deploy#1",
    title: "Deploy",
    details: null,
    risk: "low",
    approvers: [],
    quorum: 1,
    requestedBy: null,
    onTimeout: "deny",
    timeoutMs: 3_600_000,
  };
}

async function eventsOf(ctx: Ctx, jobId: string): Promise<Array<[string, Record<string, unknown>]>> {
  return (await ctx.store.readEvents({ jobId })).map((e) => [e.kind, e.data]);
}

export function runWatchingConformance(test: ConformanceTest): void {
  describe("what watchers read", () => {
    test("an enqueue its idempotency key answers appends job.deduplicated to the job it returns, and nothing else", async (ctx) => {
      const first = await ctx.add({ idempotencyKey: "welcome-ana", queue: "mail" });
      const again = await ctx.store.enqueue(ctx.newJob({ idempotencyKey: "welcome-ana", queue: "mail" }));
      expect(again).toMatchObject({ created: false, job: { id: first.id } });
      const [many] = await ctx.store.enqueueMany([ctx.newJob({ idempotencyKey: "welcome-ana", queue: "mail" })]);
      expect(many).toMatchObject({ created: false, job: { id: first.id } });
      const repeat = { task: "t", queue: "mail", state: "queued", enqueuedBy: null };
      expect(await eventsOf(ctx, first.id)).toEqual([
        ["job.enqueued", { task: "t", queue: "mail", priority: 0 }],
        ["job.deduplicated", repeat],
        ["job.deduplicated", repeat],
      ]);
      // Only the repeats write: a job without a key, and a new key, append their job.enqueued alone.
      const other = await ctx.add({ idempotencyKey: "welcome-bo" });
      expect(await ctx.kinds(other.id)).toEqual(["job.enqueued"]);
    });

    test("concurrency keys: running, waiting and limit per key, by name or busiest, and the jobs full keys hold back", async (ctx) => {
      const key = (name: string, limit: number) => ({ concurrency: { key: name, limit } });
      // A key whose jobs all finished is no key any more.
      await ctx.addSucceeded(key("k-done", 1));
      for (let i = 0; i < 3; i++) await ctx.add(key("k-b", 1));
      await ctx.add(key("k-a", 2));
      await ctx.add(key("k-a", 2));
      await ctx.add({ ...key("k-c", 4), delay: 60_000 });
      expect(await ctx.store.concurrencyTotals()).toEqual({ keys: 3, limitedJobs: 0 });
      // One claim takes what the keys let it: one of k-b, both of k-a.
      expect(await ctx.claim({ limit: 10 })).toHaveLength(3);
      expect(await ctx.store.listConcurrencyKeys({ limit: 10 })).toEqual([
        { key: "k-a", running: 2, waiting: 0, limit: 2 },
        { key: "k-b", running: 1, waiting: 2, limit: 1 },
        { key: "k-c", running: 0, waiting: 0, limit: 4 },
      ]);
      expect(await ctx.store.listConcurrencyKeys({ limit: 1, afterKey: "k-a" })).toEqual([
        { key: "k-b", running: 1, waiting: 2, limit: 1 },
      ]);
      expect((await ctx.store.listConcurrencyKeys({ limit: 2, busiestFirst: true })).map((k) => k.key)).toEqual([
        "k-a",
        "k-b",
      ]);
      // k-b's two queued jobs wait for its one slot; k-a has no queued job, k-c's is scheduled.
      expect(await ctx.store.concurrencyTotals()).toEqual({ keys: 3, limitedJobs: 2 });
    });

    test("busy slots: the jobs each worker runs, not those it holds ahead of a free slot", async (ctx) => {
      for (let i = 0; i < 4; i++) await ctx.add();
      const held = await ctx.claim({ workerId: "w1", limit: 3, start: 1 });
      await ctx.claim({ workerId: "w2", limit: 1 });
      expect(await ctx.store.busySlots()).toEqual({ w1: 1, w2: 1 });
      await ctx.store.startHeld(held.map((c) => c.lease));
      expect(await ctx.store.busySlots()).toEqual({ w1: 3, w2: 1 });
      await ctx.succeed(held[0]?.lease as never);
      expect(await ctx.store.busySlots()).toEqual({ w1: 2, w2: 1 });
    });

    test("pending approvals and open alerts by status are counted", async (ctx) => {
      expect(await ctx.store.countPendingApprovals()).toBe(0);
      expect(await ctx.store.countOpenAlerts()).toEqual({ triggered: 0, acknowledged: 0 });
      const asked: string[] = [];
      for (let i = 0; i < 2; i++) {
        await ctx.add();
        const { lease } = await ctx.claimOne();
        const parked = await ctx.store.requestApproval(lease, approvalRequest());
        if (parked?.kind === "parked") asked.push(parked.approval.id);
      }
      expect(await ctx.store.countPendingApprovals()).toBe(2);
      const decider = { name: "ana", identities: [], mayOperate: true };
      await ctx.store.decideApproval(asked[0] as string, { decision: "deny", reason: null, channel: "api" }, decider);
      expect(await ctx.store.countPendingApprovals()).toBe(1);

      const a = await ctx.store.raiseAlert(newAlert({ dedupKey: "a" }));
      await ctx.store.raiseAlert(newAlert({ dedupKey: "b" }));
      const c = await ctx.store.raiseAlert(newAlert({ dedupKey: "c" }));
      await ctx.store.acknowledgeAlert(a.alert.id, "ana");
      await ctx.store.closeAlert(c.alert.id, "ana");
      expect(await ctx.store.countOpenAlerts()).toEqual({ triggered: 1, acknowledged: 1 });
    });

    test("a recorded send appends alert.notification_sent or alert.notification_failed with its target", async (ctx) => {
      const { alert, notifications } = await ctx.store.raiseAlert(newAlert());
      const [first] = notifications;
      await ctx.store.recordNotification(first?.id as number, "sent");
      await ctx.store.recordNotification(first?.id as number, "failed", "HTTP 502");
      const events = (await ctx.store.readEvents())
        .filter((e) => e.kind.startsWith("alert.notification_"))
        .map((e) => [e.kind, e.data]);
      expect(events).toEqual([
        ["alert.notification_sent", { alertId: alert.id, notificationId: first?.id, target: "ops-tg" }],
        [
          "alert.notification_failed",
          { alertId: alert.id, notificationId: first?.id, target: "ops-tg", error: "HTTP 502" },
        ],
      ]);
    });
  });
}
