/**
 * The store conformance suite's part on runs that ask people (see suite.ts): a turn's request
 * parks the run `waiting` with no lease, a decision, an answer or a timeout hands it on to any
 * supervisor, a cancel takes its request with it, and a profile's approval before the first turn
 * queues or cancels the run. Only the `Store` interface; time is the suite's manual clock.
 */
import { describe, expect } from "vitest";
import type { Decider } from "../../core/approval.js";
import { runApprovalStep } from "../../core/run.js";
import { askedOn, type ConformanceTest, claim, newRun, run } from "./runs.js";
import { type Ctx, rejectsWith } from "./suite.js";

const LEASE_MS = 30_000;
const ANA: Decider = { name: "ana", identities: [], mayOperate: true };
const answer = (reason: string | null) => ({ decision: "approve" as const, reason, channel: "api" as const });
const iso = (ms: number): string => new Date(ms).toISOString();

/** A run claimed and at the end of turn 1, which asked `asked`; nothing else may be claimable. */
async function asking(ctx: Ctx, asked = askedOn(1)) {
  const created = await ctx.store.createRun(newRun());
  const { lease } = await claim(ctx);
  await ctx.store.updateRun(lease, { currentTurn: 1, turnStarted: { turn: 1, pid: 4242, host: "h1" } });
  const waiting = await ctx.store.updateRun(lease, {
    transition: "ask",
    ask: asked,
    pid: null,
    turnFinished: { turn: 1, outcome: "exited", exitCode: 0, signal: null },
    transitionData: { turn: 1, approvalId: asked.id },
  });
  return { id: created.id, lease, waiting, asked };
}

async function runEvents(ctx: Ctx, runId: string, after = 0) {
  return (await ctx.store.readEvents({ runId })).slice(after).map((e) => [e.kind, e.data] as const);
}

export function runRunApprovalConformance(test: ConformanceTest): void {
  describe("runs: asking people", () => {
    test("a turn that asks parks the run waiting: request stored, lease and process given up, not claimable", async (ctx) => {
      const { id, lease, waiting, asked } = await asking(ctx);
      expect(waiting).toMatchObject({ state: "waiting", workerId: null, pid: null, currentTurn: 1 });
      const [stored] = await ctx.store.listApprovals({ runId: id });
      expect(stored).toMatchObject({
        id: asked.id,
        jobId: null,
        runId: id,
        kind: "question",
        step: "turn-1",
        state: "pending",
        expiresAt: iso(ctx.clock.now + 3_600_000),
      });
      const kinds = (await ctx.store.readEvents({ runId: id })).map((e) => e.kind);
      expect(kinds.slice(-2)).toEqual(["approval.requested", "run.waiting"]);
      expect((await ctx.store.readEvents({ runId: id })).find((e) => e.kind === "run.waiting")?.data).toEqual({
        from: "running",
        to: "waiting",
        turn: 1,
        approvalId: asked.id,
      });
      // Nobody holds it, nobody may take it: not even once the old lease would have expired.
      ctx.clock.advance(2 * LEASE_MS);
      expect(await ctx.store.claimRun("sup-2", LEASE_MS)).toBeNull();
      expect(await ctx.store.heartbeatRun(lease, LEASE_MS)).toBeNull();
      expect(await ctx.store.updateRun(lease, { pid: 1 })).toBeNull();
      // Nor can anyone pause or resume it; only a cancel or an answer moves it.
      for (const action of ["pause", "resume"] as const) {
        await rejectsWith(() => ctx.store.controlRun(id, { action }), "RUN_INVALID_TRANSITION");
      }
    });

    test("the ask transition and its request go together: either alone is refused and changes nothing", async (ctx) => {
      await ctx.store.createRun(newRun());
      const { run: started, lease } = await claim(ctx);
      await rejectsWith(() => ctx.store.updateRun(lease, { transition: "ask" }), "INVALID_ARGUMENT");
      await rejectsWith(() => ctx.store.updateRun(lease, { ask: askedOn(1) }), "INVALID_ARGUMENT");
      expect(await run(ctx, started.id)).toEqual(started);
      expect(await ctx.store.listApprovals({ runId: started.id })).toEqual([]);
    });

    test("an answer hands the run on: any supervisor takes it up at its next turn, with no turn lost", async (ctx) => {
      const { id, asked } = await asking(ctx);
      const before = (await ctx.store.readEvents({ runId: id })).length;
      const decided = await ctx.store.decideApproval(asked.id, answer("SQLite"), ANA);
      expect(decided).toMatchObject({
        state: "approved",
        outcome: { approved: true, reason: "SQLite", decidedBy: "ana" },
      });
      expect(await run(ctx, id)).toMatchObject({ state: "running", workerId: null, currentTurn: 1 });
      expect(await runEvents(ctx, id, before)).toEqual([
        [
          "approval.decided",
          { approvalId: asked.id, decision: "approve", by: "ana", channel: "api", reason: "SQLite" },
        ],
        [
          "approval.settled",
          {
            approvalId: asked.id,
            state: "approved",
            approved: true,
            decidedBy: "ana",
            channel: "api",
            timedOut: false,
            reason: "SQLite",
            requestedAt: decided.createdAt,
          },
        ],
        [
          "run.answered",
          {
            from: "waiting",
            to: "running",
            approvalId: asked.id,
            approved: true,
            by: "ana",
            reason: "SQLite",
            timedOut: false,
          },
        ],
      ]);
      const next = await claim(ctx, "sup-2");
      expect(next.run).toMatchObject({ id, state: "running", workerId: "sup-2", currentTurn: 1 });
      expect(next.takeover).toBeNull();
      expect((await ctx.store.listRunTurns(id)).map((t) => [t.turn, t.outcome])).toEqual([[1, "exited"]]);
      // Settled once: a second decision is refused with the state, and the run is not moved again.
      await rejectsWith(() => ctx.store.decideApproval(asked.id, answer("Postgres"), ANA), "APPROVAL_SETTLED");
      expect((await run(ctx, id)).workerId).toBe("sup-2");
    });

    test("a request nobody answers times out once, and the run goes on with the timeout's outcome", async (ctx) => {
      const { id, asked } = await asking(ctx);
      ctx.clock.advance(3_600_000 - 1);
      expect(await ctx.store.expireApprovals()).toEqual([]);
      expect((await run(ctx, id)).state).toBe("waiting");
      ctx.clock.advance(1);
      const [timed] = await ctx.store.expireApprovals();
      expect(timed).toMatchObject({ id: asked.id, state: "timed_out", outcome: { approved: false, timedOut: true } });
      expect(await ctx.store.expireApprovals()).toEqual([]);
      expect(await run(ctx, id)).toMatchObject({ state: "running", workerId: null });
      expect((await claim(ctx, "sup-2")).run.id).toBe(id);
    });

    test("an escalating request is not timed out: the run keeps waiting for a person", async (ctx) => {
      const { id } = await asking(ctx, askedOn(1, { onTimeout: "escalate" }));
      ctx.clock.advance(2 * 3_600_000);
      expect(await ctx.store.expireApprovals()).toEqual([]);
      expect((await run(ctx, id)).state).toBe("waiting");
    });

    test("cancelling a waiting run cancels its request; a late answer is refused and moves nothing", async (ctx) => {
      const { id, asked } = await asking(ctx);
      const { run: cancelled, transition } = await ctx.store.controlRun(id, { action: "cancel", by: "bo" });
      expect(transition).toBe("cancelWaiting");
      expect(cancelled).toMatchObject({ state: "cancelled", finishedAt: iso(ctx.clock.now) });
      expect(await ctx.store.getApproval(asked.id)).toMatchObject({ state: "cancelled" });
      const err = await rejectsWith(() => ctx.store.decideApproval(asked.id, answer("late"), ANA), "APPROVAL_SETTLED");
      expect(err.details).toMatchObject({ state: "cancelled" });
      expect((await run(ctx, id)).state).toBe("cancelled");
    });

    test("lists a run's requests apart from jobs' and other runs'", async (ctx) => {
      const first = await asking(ctx);
      const second = await asking(ctx);
      const job = await ctx.add();
      const claimed = await ctx.claimOne();
      expect(claimed.job.id).toBe(job.id);
      await ctx.store.requestApproval(claimed.lease, { ...askedOn(1), kind: "approval", step: "approval:x#1" });
      expect((await ctx.store.listApprovals({ runId: first.id })).map((a) => a.id)).toEqual([first.asked.id]);
      expect((await ctx.store.listApprovals({ runId: second.id })).map((a) => a.id)).toEqual([second.asked.id]);
      expect((await ctx.store.listApprovals({ jobId: job.id })).map((a) => a.runId)).toEqual([null]);
      expect(await ctx.store.listApprovals({ states: ["pending"] })).toHaveLength(3);
    });
  });

  describe("runs: the approval before the first turn", () => {
    const first = (id: string) => ({ ...askedOn(0), id, kind: "approval" as const, step: runApprovalStep(null) });

    test("a run created with one waits on it, is never claimed, and starts once approved", async (ctx) => {
      const created = await ctx.store.createRun({ ...newRun(), approval: first("01FIRST0001") });
      expect(created).toMatchObject({ state: "waiting", startedAt: null, workerId: null });
      expect((await ctx.store.readEvents({ runId: created.id })).map((e) => e.kind)).toEqual([
        "run.queued",
        "run.waiting",
        "approval.requested",
      ]);
      expect(await ctx.store.claimRun("sup-1", LEASE_MS)).toBeNull();
      await ctx.store.decideApproval("01FIRST0001", answer(null), ANA);
      expect(await run(ctx, created.id)).toMatchObject({ state: "queued", startedAt: null });
      const claimed = await claim(ctx);
      expect(claimed.run).toMatchObject({ id: created.id, state: "running", startedAt: iso(ctx.clock.now) });
    });

    test("denied, the run is cancelled without ever starting", async (ctx) => {
      const created = await ctx.store.createRun({ ...newRun(), approval: first("01FIRST0002") });
      const before = (await ctx.store.readEvents({ runId: created.id })).length;
      await ctx.store.decideApproval("01FIRST0002", { decision: "deny", reason: "not tonight", channel: "api" }, ANA);
      expect(await run(ctx, created.id)).toMatchObject({ state: "cancelled", startedAt: null, currentTurn: 0 });
      expect((await runEvents(ctx, created.id, before)).at(-1)).toEqual([
        "run.cancelled",
        {
          from: "waiting",
          to: "cancelled",
          approvalId: "01FIRST0002",
          approved: false,
          by: "ana",
          reason: "not tonight",
          timedOut: false,
        },
      ]);
      expect(await ctx.store.claimRun("sup-1", LEASE_MS)).toBeNull();
    });
  });
}
