/**
 * The approvals part of the store conformance suite (see suite.ts, which calls it with its
 * `test`): a request parks its job in `awaiting_approval` and gives the attempt back; decisions
 * are applied by the rules of core/approval.ts (quorum, no self-approval, the first settle wins);
 * a settle stores the outcome as the job's step and queues the job; the watchdog times requests
 * out exactly at their expiry and only once; a cancel of a waiting job cancels its request.
 * Only the `Store` interface is used; time is the suite's manual clock.
 */
import { describe, expect } from "vitest";
import type { Decider, NewApproval, OnTimeout } from "../../core/approval.js";
import { buildNewJob } from "../../core/job-options.js";
import type { ClaimedJob, Lease } from "../../core/types.js";
import type { Store } from "../store.js";
import type { ConformanceTest } from "./runs.js";
import { type Ctx, rejectsWith } from "./suite.js";

const iso = (ms: number): string => new Date(ms).toISOString();
const HOUR = 3_600_000;

/** Ids that sort in request order, as the ULIDs the SDK gives them do. */
let sequence = 0;
function request(overrides: Partial<NewApproval> = {}): NewApproval {
  sequence++;
  return {
    id: `01APR${String(sequence).padStart(8, "0")}`,
    step: "approval:deploy#1",
    title: "Deploy api to production",
    details: { service: "api", version: "1.2.3" },
    risk: "high",
    approvers: [],
    quorum: 1,
    requestedBy: null,
    onTimeout: "deny",
    timeoutMs: HOUR,
    ...overrides,
  };
}

const operator = (name: string, identities: string[] = []): Decider => ({ name, identities, mayOperate: true });
const ANA = operator("ana");
const BO = operator("bo");
const approve = (reason: string | null = "ok") => ({ decision: "approve" as const, reason, channel: "api" as const });
const deny = (reason: string | null = "no") => ({ decision: "deny" as const, reason, channel: "dashboard" as const });

/** Enqueues a job and claims it (nothing else may be ready). */
async function running(ctx: Ctx): Promise<ClaimedJob> {
  const job = await ctx.add();
  const claimed = await ctx.claimOne();
  expect(claimed.job.id).toBe(job.id);
  return claimed;
}

/** A running job that asked for approval and is waiting: its job id and request id. */
async function waiting(ctx: Ctx, overrides: Partial<NewApproval> = {}): Promise<{ jobId: string; id: string }> {
  const { job, lease } = await running(ctx);
  const asked = await ctx.store.requestApproval(lease, request(overrides));
  expect(asked?.kind).toBe("parked");
  if (asked?.kind !== "parked") throw new Error("unreachable");
  return { jobId: job.id, id: asked.approval.id };
}

async function eventData(ctx: Ctx, jobId: string, kind: string): Promise<unknown[]> {
  return (await ctx.store.readEvents({ jobId })).filter((e) => e.kind === kind).map((e) => e.data);
}

async function reclaim(ctx: Ctx, jobId: string): Promise<Lease> {
  const { job, lease } = await ctx.claimOne();
  expect(job.id).toBe(jobId);
  return lease;
}

export function runApprovalConformance(test: ConformanceTest): void {
  describe("approvals", () => {
    test("requestApproval stores the request and parks the job in awaiting_approval", async (ctx) => {
      const { job, lease } = await running(ctx);
      const t0 = ctx.clock.now;
      const asked = request({ approvers: ["ana", "group:sre"], quorum: 2, requestedBy: "ci", onTimeout: "escalate" });
      const result = await ctx.store.requestApproval(lease, asked);
      const stored = {
        id: asked.id,
        jobId: job.id,
        runId: null,
        kind: "approval",
        step: "approval:deploy#1",
        title: "Deploy api to production",
        details: { service: "api", version: "1.2.3" },
        risk: "high",
        approvers: ["ana", "group:sre"],
        quorum: 2,
        requestedBy: "ci",
        onTimeout: "escalate",
        execution: null,
        test: false,
        state: "pending",
        decisions: [],
        outcome: null,
        createdAt: iso(t0),
        expiresAt: iso(t0 + HOUR),
        settledAt: null,
        version: 1,
      };
      expect(result).toEqual({ kind: "parked", approval: stored });
      expect(await ctx.store.getApproval(asked.id)).toEqual(stored);
      expect(await ctx.store.getApproval("no-such-request")).toBeNull();

      const parked = await ctx.job(job.id);
      expect(parked).toMatchObject({
        state: "awaiting_approval",
        // The attempt is given back: the run that reads the outcome is the same attempt going on.
        attempts: 0,
        maxAttempts: job.maxAttempts,
        leaseOwner: null,
        leaseExpiresAt: null,
      });
      expect(parked.version).toBeGreaterThan(job.version);
      expect(await ctx.store.listAttempts(job.id)).toMatchObject([
        { number: 1, outcome: "parked", finishedAt: iso(t0) },
      ]);
      expect(await eventData(ctx, job.id, "approval.requested")).toEqual([
        { approvalId: asked.id, title: asked.title, risk: "high", expiresAt: iso(t0 + HOUR), step: asked.step },
      ]);
      expect(await eventData(ctx, job.id, "job.parked")).toEqual([
        { step: asked.step, kind: "approval", until: iso(t0 + HOUR), approvalId: asked.id },
      ]);
      // An escalate request is not the watchdog's (its alert escalates at expiresAt): nothing to wake for.
      expect(await ctx.store.nextApprovalExpiry()).toBeNull();

      // Waiting is not running, is not claimable, and is not finished.
      expect(await ctx.store.countJobs()).toMatchObject({ awaiting_approval: 1, running: 0 });
      ctx.clock.advance(2 * HOUR - 1);
      expect(await ctx.claim()).toEqual([]);
      expect(await ctx.store.recoverExpiredLeases()).toEqual([]);
      expect(await ctx.store.nextScheduledAt()).toBeNull();
      // The old lease is gone with the park.
      expect(await ctx.store.requestApproval(lease, request())).toBeNull();
      await rejectsWith(() => ctx.store.discardJob(job.id), "INVALID_TRANSITION");
      const pruned = await ctx.store.prune({
        jobs: { succeeded: { maxCount: 0 }, dead: { maxCount: 0 }, cancelled: { maxCount: 0 } },
      });
      expect(pruned.jobs).toEqual({ succeeded: 0, dead: 0, cancelled: 0 });
      expect((await ctx.job(job.id)).state).toBe("awaiting_approval");
    });

    test("requestApproval with a stale lease writes nothing and returns null", async (ctx) => {
      const { job, lease } = await running(ctx);
      const before = await ctx.job(job.id);
      expect(await ctx.store.requestApproval({ ...lease, token: lease.token + 1 }, request())).toBeNull();
      expect(await ctx.job(job.id)).toEqual(before);
      expect(await ctx.store.listApprovals()).toEqual([]);
      await ctx.succeed(lease);
      expect(await ctx.store.requestApproval(lease, request())).toBeNull();
      expect(await ctx.store.listApprovals()).toEqual([]);
    });

    test("a request keeps the execution mode it was asked under and whether it is a test item", async (ctx) => {
      const dry = await waiting(ctx, { execution: "dry-run" });
      const testItem = await waiting(ctx, { execution: "enabled", test: true });
      const live = await waiting(ctx, { execution: "enabled" });
      expect(await ctx.store.getApproval(dry.id)).toMatchObject({ execution: "dry-run", test: false });
      expect(await ctx.store.getApproval(testItem.id)).toMatchObject({ execution: "enabled", test: true });
      expect((await ctx.store.listApprovals()).map((a) => [a.execution, a.test])).toEqual([
        ["dry-run", false],
        ["enabled", true],
        ["enabled", false],
      ]);
      expect(await eventData(ctx, testItem.jobId, "approval.requested")).toMatchObject([
        { execution: "enabled", test: true },
      ]);
      // The outcome says what the approved action may do: a test item's never runs.
      const outcomes = [];
      for (const { id } of [dry, testItem, live])
        outcomes.push((await ctx.store.decideApproval(id, approve(), ANA)).outcome);
      expect(outcomes.map((o) => o?.execution)).toEqual(["dry-run", "dry-run", "enabled"]);
    });

    test("an approval settles the request, stores the outcome as the step and queues the job", async (ctx) => {
      const { jobId, id } = await waiting(ctx);
      ctx.clock.advance(5_000);
      const t1 = ctx.clock.now;
      const decided = await ctx.store.decideApproval(id, approve("looks right"), ANA);
      const outcome = {
        approved: true,
        decidedBy: "ana",
        channel: "api",
        reason: "looks right",
        at: iso(t1),
        timedOut: false,
      };
      expect(decided).toMatchObject({
        id,
        state: "approved",
        decisions: [{ decision: "approve", by: "ana", channel: "api", reason: "looks right", at: iso(t1) }],
        outcome,
        settledAt: iso(t1),
        version: 2,
      });
      expect(await ctx.store.getApproval(id)).toEqual(decided);
      expect(await ctx.job(jobId)).toMatchObject({ state: "queued", runAt: iso(t1) });
      expect(await ctx.store.listJobSteps(jobId)).toEqual([
        { name: "approval:deploy#1", kind: "approval", resultJson: JSON.stringify(outcome), createdAt: iso(t1) },
      ]);
      expect(await eventData(ctx, jobId, "approval.decided")).toEqual([
        { approvalId: id, decision: "approve", by: "ana", channel: "api", reason: "looks right" },
      ]);
      expect(await eventData(ctx, jobId, "approval.settled")).toEqual([
        {
          approvalId: id,
          state: "approved",
          approved: true,
          decidedBy: "ana",
          channel: "api",
          timedOut: false,
          reason: "looks right",
          requestedAt: decided.createdAt,
        },
      ]);
      expect(await ctx.store.nextApprovalExpiry()).toBeNull();

      // The job runs again; asking for the same step returns the stored outcome, asking nobody.
      const lease = await reclaim(ctx, jobId);
      const again = await ctx.store.requestApproval(lease, request());
      expect(again).toEqual({
        kind: "settled",
        step: { name: "approval:deploy#1", kind: "approval", resultJson: JSON.stringify(outcome), createdAt: iso(t1) },
      });
      expect((await ctx.job(jobId)).state).toBe("running");
      expect(await ctx.store.listApprovals()).toHaveLength(1);
      expect(await eventData(ctx, jobId, "approval.requested")).toHaveLength(1);
    });

    test("quorum 2 needs two different approvers, and one denial denies", async (ctx) => {
      const first = await waiting(ctx, { quorum: 2 });
      const once = await ctx.store.decideApproval(first.id, approve(), ANA);
      expect(once).toMatchObject({ state: "pending", version: 2, outcome: null });
      expect((await ctx.job(first.jobId)).state).toBe("awaiting_approval");
      const twice = await rejectsWith(
        () => ctx.store.decideApproval(first.id, approve(), ANA),
        "APPROVAL_ALREADY_DECIDED",
      );
      expect(twice.details).toMatchObject({ state: "pending" });
      const settled = await ctx.store.decideApproval(first.id, { ...approve(), channel: "cli" }, BO);
      expect(settled).toMatchObject({
        state: "approved",
        outcome: { approved: true, decidedBy: "ana, bo", channel: "cli" },
        version: 3,
      });
      expect((await ctx.job(first.jobId)).state).toBe("queued");
      await reclaim(ctx, first.jobId);

      const second = await waiting(ctx, { quorum: 2 });
      await ctx.store.decideApproval(second.id, approve(), ANA);
      expect(await ctx.store.decideApproval(second.id, deny("too risky"), BO)).toMatchObject({
        state: "denied",
        outcome: { approved: false, decidedBy: "bo", reason: "too risky" },
      });
      expect((await ctx.job(second.jobId)).state).toBe("queued");
      expect(JSON.parse((await ctx.store.listJobSteps(second.jobId))[0]?.resultJson ?? "null")).toMatchObject({
        approved: false,
      });
    });

    test("the requester and non-approvers may not decide", async (ctx) => {
      const { jobId, id } = await waiting(ctx, { requestedBy: "ana", approvers: ["ana", "group:sre", "telegram:42"] });
      const self = await rejectsWith(() => ctx.store.decideApproval(id, approve(), ANA), "APPROVAL_FORBIDDEN");
      expect(self.details).toMatchObject({ id, state: "pending" });
      await rejectsWith(() => ctx.store.decideApproval(id, deny(), ANA), "APPROVAL_FORBIDDEN");
      await rejectsWith(() => ctx.store.decideApproval(id, approve(), BO), "APPROVAL_FORBIDDEN");
      expect(await ctx.store.getApproval(id)).toMatchObject({ state: "pending", decisions: [], version: 1 });
      expect(await eventData(ctx, jobId, "approval.decided")).toEqual([]);
      const tg = { name: "tg-bot", identities: ["telegram:42"], mayOperate: false };
      expect(await ctx.store.decideApproval(id, { ...approve(), channel: "telegram" }, tg)).toMatchObject({
        state: "approved",
        outcome: { decidedBy: "tg-bot", channel: "telegram" },
      });
    });

    test("the first decision that settles wins; a later one gets APPROVAL_SETTLED with the state", async (ctx) => {
      const { jobId, id } = await waiting(ctx);
      await ctx.store.decideApproval(id, deny(), BO);
      const late = await rejectsWith(() => ctx.store.decideApproval(id, approve(), ANA), "APPROVAL_SETTLED");
      expect(late.details).toMatchObject({ id, state: "denied" });
      expect(late.message).toContain("bo");
      // Even with the version it read before the denial: the state is what the late decider needs.
      await rejectsWith(() => ctx.store.decideApproval(id, approve(), ANA, 1), "APPROVAL_SETTLED");
      expect(await ctx.store.getApproval(id)).toMatchObject({ state: "denied", version: 2 });
      expect(await eventData(ctx, jobId, "approval.settled")).toHaveLength(1);
      expect(await ctx.store.expireApprovals()).toEqual([]);
      ctx.clock.advance(2 * HOUR);
      expect(await ctx.store.expireApprovals()).toEqual([]);
    });

    test("decideApproval checks the version, and names an unknown request", async (ctx) => {
      const { id } = await waiting(ctx, { quorum: 2 });
      const conflict = await rejectsWith(() => ctx.store.decideApproval(id, approve(), ANA, 7), "VERSION_CONFLICT");
      expect(conflict.details).toMatchObject({ id, expectedVersion: 7, version: 1 });
      await ctx.store.decideApproval(id, approve(), ANA, 1);
      await rejectsWith(() => ctx.store.decideApproval(id, approve(), BO, 1), "VERSION_CONFLICT");
      expect(await ctx.store.decideApproval(id, approve(), BO, 2)).toMatchObject({ state: "approved", version: 3 });
      const missing = await rejectsWith(() => ctx.store.decideApproval("nope", approve(), ANA), "APPROVAL_NOT_FOUND");
      expect(missing.details).toEqual({ id: "nope" });
    });

    test("the watchdog times a request out exactly at its expiry, and only once", async (ctx) => {
      const t0 = ctx.clock.now;
      const { jobId, id } = await waiting(ctx, { timeoutMs: 60_000 });
      expect(await ctx.store.nextApprovalExpiry()).toBe(t0 + 60_000);
      ctx.clock.set(t0 + 59_999);
      expect(await ctx.store.expireApprovals()).toEqual([]);
      expect((await ctx.job(jobId)).state).toBe("awaiting_approval");
      ctx.clock.set(t0 + 60_000);
      const [expired, ...more] = await ctx.store.expireApprovals();
      expect(more).toEqual([]);
      const reason = "timed out; onTimeout is deny";
      expect(expired).toMatchObject({
        id,
        state: "timed_out",
        outcome: { approved: false, decidedBy: "watchdog", channel: "watchdog", reason, timedOut: true },
        settledAt: iso(t0 + 60_000),
      });
      expect(await ctx.store.expireApprovals()).toEqual([]);
      expect(await ctx.job(jobId)).toMatchObject({ state: "queued", runAt: iso(t0 + 60_000) });
      expect(await eventData(ctx, jobId, "approval.settled")).toEqual([
        {
          approvalId: id,
          state: "timed_out",
          approved: false,
          decidedBy: "watchdog",
          channel: "watchdog",
          timedOut: true,
          reason,
          requestedAt: expired?.createdAt,
        },
      ]);
      expect(await ctx.store.nextApprovalExpiry()).toBeNull();
      const late = await rejectsWith(() => ctx.store.decideApproval(id, approve(), ANA), "APPROVAL_SETTLED");
      expect(late.details).toMatchObject({ state: "timed_out" });
    });

    test("onTimeout approve and deny settle; escalate stays pending (its alert escalates)", async (ctx) => {
      const cases: Array<[OnTimeout, boolean, string]> = [
        ["approve", true, "timed out; onTimeout is approve"],
        ["deny", false, "timed out; onTimeout is deny"],
      ];
      const escalating = await waiting(ctx, { onTimeout: "escalate", timeoutMs: 500 });
      const ids: string[] = [];
      for (const [onTimeout] of cases) {
        const { id, jobId } = await waiting(ctx, { onTimeout, timeoutMs: 1_000 });
        ids.push(id);
        ctx.clock.advance(1);
        expect((await ctx.job(jobId)).state).toBe("awaiting_approval");
      }
      ctx.clock.advance(1_000);
      const expired = await ctx.store.expireApprovals();
      expect(await ctx.store.getApproval(escalating.id)).toMatchObject({ state: "pending" });
      expect((await ctx.job(escalating.jobId)).state).toBe("awaiting_approval");
      // Not the watchdog's: it does not wake the watchdog either.
      expect(await ctx.store.nextApprovalExpiry()).toBeNull();
      expect(expired.map((a) => a.id)).toEqual(ids);
      for (const [i, [, approved, reason]] of cases.entries()) {
        const settled = await ctx.store.getApproval(ids[i] as string);
        expect(settled).toMatchObject({ state: "timed_out", outcome: { approved, reason, timedOut: true } });
        const steps = await ctx.store.listJobSteps(settled?.jobId as string);
        expect(JSON.parse(steps[0]?.resultJson ?? "null")).toMatchObject({ approved, timedOut: true });
      }
      expect((await ctx.claim()).map((c) => c.job.id)).toHaveLength(2);
    });

    test("expireApprovals settles at most `limit`, soonest first", async (ctx) => {
      const late = await waiting(ctx, { timeoutMs: 2_000 });
      const soon = await waiting(ctx, { timeoutMs: 1_000 });
      ctx.clock.advance(5_000);
      expect((await ctx.store.expireApprovals(1)).map((a) => a.id)).toEqual([soon.id]);
      expect((await ctx.store.expireApprovals(1)).map((a) => a.id)).toEqual([late.id]);
      expect(await ctx.store.expireApprovals(1)).toEqual([]);
    });

    test("cancelling a waiting job cancels it at once, with its request", async (ctx) => {
      const { jobId, id } = await waiting(ctx);
      const t0 = ctx.clock.now;
      const cancelled = await ctx.store.cancelJob(jobId);
      expect(cancelled.effect).toBe("cancelled");
      expect(cancelled.job).toMatchObject({ state: "cancelled", finishedAt: iso(t0) });
      expect(await ctx.store.getApproval(id)).toMatchObject({
        state: "cancelled",
        outcome: null,
        settledAt: iso(t0),
        version: 2,
      });
      expect(await eventData(ctx, jobId, "approval.cancelled")).toEqual([
        { approvalId: id, step: "approval:deploy#1", requestedAt: (await ctx.store.getApproval(id))?.createdAt },
      ]);
      expect(await ctx.kinds(jobId)).toContain("job.cancelled");
      const late = await rejectsWith(() => ctx.store.decideApproval(id, approve(), ANA), "APPROVAL_SETTLED");
      expect(late.details).toMatchObject({ state: "cancelled" });
      expect(await ctx.store.nextApprovalExpiry()).toBeNull();
      ctx.clock.advance(2 * HOUR);
      expect(await ctx.store.expireApprovals()).toEqual([]);
      expect(await ctx.store.listJobSteps(jobId)).toEqual([]);

      // Retried by a person, the job asks again for the same step: a cancelled request binds nothing.
      await ctx.store.retryJob(jobId);
      const lease = await reclaim(ctx, jobId);
      const again = await ctx.store.requestApproval(lease, request());
      expect(again).toMatchObject({ kind: "parked", approval: { state: "pending", step: "approval:deploy#1" } });
      expect(again?.kind === "parked" && again.approval.id).not.toBe(id);
      expect((await ctx.job(jobId)).state).toBe("awaiting_approval");
    });

    test("a job asked to cancel is cancelled when it would wait, and its request with it", async (ctx) => {
      const { job, lease } = await running(ctx);
      expect((await ctx.store.cancelJob(job.id)).effect).toBe("requested");
      const asked = request();
      const result = await ctx.store.requestApproval(lease, asked);
      expect(result).toMatchObject({ kind: "parked", approval: { id: asked.id, state: "cancelled" } });
      expect(await ctx.job(job.id)).toMatchObject({ state: "cancelled", leaseOwner: null });
      expect((await ctx.store.listAttempts(job.id)).map((a) => a.outcome)).toEqual(["cancelled"]);
      expect(await ctx.store.getApproval(asked.id)).toMatchObject({ state: "cancelled" });
      const kinds = await ctx.kinds(job.id);
      expect(kinds).toContain("approval.requested");
      expect(kinds).toContain("approval.cancelled");
      expect(kinds).not.toContain("job.parked");
    });

    test("a decision that queues the job calls onChange listeners", async (ctx) => {
      const { id } = await waiting(ctx);
      // Let the park's own wakeup pass first, so only the decision's can satisfy the listener.
      await new Promise((resolve) => setTimeout(resolve, 200));
      let unsubscribe = (): void => undefined;
      const woke = new Promise<void>((resolve) => {
        unsubscribe = ctx.store.onChange(resolve);
      });
      await ctx.store.decideApproval(id, approve(), ANA);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("onChange was not called within 2 s of a settle")), 2_000);
      });
      try {
        await Promise.race([woke, timeout]);
      } finally {
        clearTimeout(timer);
        unsubscribe();
      }
    });

    test("listApprovals: pending oldest first, then the rest newest first; filters and pages", async (ctx) => {
      const made: Array<{ jobId: string; id: string }> = [];
      for (let i = 0; i < 6; i++) {
        made.push(await waiting(ctx));
        ctx.clock.advance(1_000);
      }
      const [a, b, c, d, e, f] = made as [
        (typeof made)[0],
        (typeof made)[0],
        (typeof made)[0],
        (typeof made)[0],
        (typeof made)[0],
        (typeof made)[0],
      ];
      await ctx.store.decideApproval(b.id, approve(), ANA);
      await ctx.store.decideApproval(d.id, deny(), ANA);
      await ctx.store.cancelJob(e.jobId);
      const ids = async (filter?: Parameters<Ctx["store"]["listApprovals"]>[0]) =>
        (await ctx.store.listApprovals(filter)).map((x) => x.id);

      expect(await ids()).toEqual([a.id, c.id, f.id, e.id, d.id, b.id]);
      expect(await ids({ states: ["pending"] })).toEqual([a.id, c.id, f.id]);
      expect(await ids({ states: ["approved", "denied"] })).toEqual([d.id, b.id]);
      expect(await ids({ states: ["cancelled", "pending"] })).toEqual([a.id, c.id, f.id, e.id]);
      expect(await ids({ jobId: c.jobId })).toEqual([c.id]);
      expect(await ids({ jobId: d.jobId, states: ["pending"] })).toEqual([]);
      expect(await ids({ states: [] })).toHaveLength(6);

      // Pages of 2 by afterId walk the same order, across the pending/settled boundary.
      const pages: string[][] = [];
      let afterId: string | undefined;
      for (let guard = 0; guard < 10; guard++) {
        const page = await ids({ limit: 2, ...(afterId === undefined ? {} : { afterId }) });
        if (page.length === 0) break;
        pages.push(page);
        afterId = page.at(-1);
      }
      expect(pages).toEqual([
        [a.id, c.id],
        [f.id, e.id],
        [d.id, b.id],
      ]);
      expect(await ids({ limit: 1, afterId: c.id, states: ["pending"] })).toEqual([f.id]);
      expect(await ids({ afterId: e.id, states: ["denied"] })).toEqual([d.id]);
      expect(await ids({ afterId: "unknown" })).toEqual([]);
    });

    test("discarding or pruning a finished job deletes its requests", async (ctx) => {
      const first = await waiting(ctx);
      await ctx.store.decideApproval(first.id, approve(), ANA);
      await ctx.succeed(await reclaim(ctx, first.jobId));
      await ctx.store.discardJob(first.jobId);
      expect(await ctx.store.getApproval(first.id)).toBeNull();

      const second = await waiting(ctx);
      await ctx.store.cancelJob(second.jobId);
      ctx.clock.advance(60_000);
      expect((await ctx.store.prune({ jobs: { cancelled: { maxAgeMs: 1_000 } } })).jobs.cancelled).toBe(1);
      expect(await ctx.store.getApproval(second.id)).toBeNull();
      expect(await ctx.store.listApprovals()).toEqual([]);
    });
  });
}

/**
 * The watchdog race the backends' own tests run with separate store instances on one database:
 * `count` requests are made through the first store, all expire, then every store calls
 * `expireApprovals` at the same moment. Returns what each call settled and the `approval.settled`
 * events logged, so a test can show each request was settled exactly once.
 */
export async function raceWatchdogs(
  stores: readonly Store[],
  count: number,
  advance: (ms: number) => void,
): Promise<{ requested: string[]; settledByCall: string[][]; settledEvents: string[] }> {
  const [first] = stores;
  if (first === undefined) throw new Error("raceWatchdogs needs at least one store");
  const requested: string[] = [];
  for (let i = 0; i < count; i++) {
    // A task of its own, so the claim takes this job and not one an earlier race queued.
    const task = `watchdog-race-${++sequence}`;
    await first.enqueue(buildNewJob(task, { i }, {}, undefined));
    const [claimed] = await first.claim({
      workerId: "race",
      limit: 1,
      tasks: [task],
      queues: null,
      leaseMs: 60_000,
    });
    if (claimed === undefined) throw new Error("the job just enqueued was not claimed");
    const asked = await first.requestApproval(claimed.lease, request({ timeoutMs: 1_000 }));
    if (asked?.kind !== "parked") throw new Error("the request did not park its job");
    requested.push(asked.approval.id);
  }
  advance(1_000);
  const settledByCall = (await Promise.all(stores.map((s) => s.expireApprovals(count)))).map((list) =>
    list.map((a) => a.id),
  );
  const events = await first.readEvents({ limit: 100_000 });
  const settledEvents = events.filter((e) => e.kind === "approval.settled").map((e) => String(e.data.approvalId));
  return { requested, settledByCall, settledEvents };
}
