/**
 * The run part of the store conformance suite (see suite.ts, which calls it with its `test`):
 * creating and listing runs, control requests in every state, claims, leases and takeovers,
 * supervisors' updates, stored output and run events. Only the `Store` interface is used; time
 * is the suite's manual clock, so lease expiry is tested exactly, without sleeping.
 */
import { describe, expect } from "vitest";
import type { NewApproval } from "../../core/approval.js";
import { defineEventKind } from "../../core/events.js";
import {
  type ClaimedRun,
  emptyRunStats,
  type NewRun,
  RUN_TRANSITION_EVENTS,
  type Run,
  type RunLease,
  type RunSpec,
  type RunStats,
  runApprovalStep,
} from "../../core/run.js";
import { controlAction, RUN_STATES, type RunControlAction, type RunState } from "../../core/run-state.js";
import { type Ctx, rejectsWith } from "./suite.js";

/** The suite's `test`: a fresh store and clock per test, honouring the backend's skips. */
export type ConformanceTest = (title: string, body: (ctx: Ctx) => Promise<void>) => void;

const LEASE_MS = 30_000;
const iso = (ms: number): string => new Date(ms).toISOString();

const SPEC: RunSpec = {
  command: "agent",
  args: ["--task", "fix the tests"],
  cwd: "/srv/work",
  env: ["HOME"],
  maxTurns: 5,
  turnTimeoutMs: 600_000,
  graceMs: 5_000,
  completion: { pattern: "^DONE$", exitCode: 0 },
  onTurnFailure: "fail",
};

/** Ids that sort in creation order, as the ULIDs the engine gives them do. */
let sequence = 0;
export function newRun(overrides: Partial<NewRun> = {}): NewRun {
  sequence++;
  return {
    id: `01RUN${String(sequence).padStart(8, "0")}`,
    profile: "fixer",
    params: { repo: "overseer" },
    spec: SPEC,
    createdBy: "ci",
    ...overrides,
  };
}

export async function claim(ctx: Ctx, workerId = "sup-1"): Promise<ClaimedRun> {
  const claimed = await ctx.store.claimRun(workerId, LEASE_MS);
  expect(claimed, "expected to claim a run").not.toBeNull();
  return claimed as ClaimedRun;
}

export async function run(ctx: Ctx, id: string): Promise<Run> {
  const found = await ctx.store.getRun(id);
  expect(found, `run ${id} should exist`).not.toBeNull();
  return found as Run;
}

async function runKinds(ctx: Ctx, runId: string): Promise<string[]> {
  return (await ctx.store.readEvents({ runId })).map((e) => e.kind);
}

/**
 * A run brought to `state` through the store's own verbs, with the lease of its supervisor
 * when it has one. Nothing else may be claimable when it is called.
 */
async function runIn(ctx: Ctx, state: RunState): Promise<{ run: Run; lease: RunLease | null }> {
  const created = await ctx.store.createRun(newRun());
  if (state === "queued") return { run: created, lease: null };
  if (state === "cancelled") {
    return { run: (await ctx.store.controlRun(created.id, { action: "cancel" })).run, lease: null };
  }
  const { run: started, lease } = await claim(ctx);
  expect(started.id).toBe(created.id);
  const control: Partial<Record<RunState, { action: RunControlAction; immediate?: boolean }>> = {
    pausing: { action: "pause" },
    paused: { action: "pause", immediate: true },
    cancelling: { action: "cancel" },
  };
  const request = control[state];
  if (request) return { run: (await ctx.store.controlRun(created.id, request)).run, lease };
  if (state === "waiting") {
    const waiting = await ctx.store.updateRun(lease, { transition: "ask", ask: askedOn(1) });
    return { run: waiting as Run, lease: null };
  }
  if (state === "completed" || state === "failed") {
    const done = await ctx.store.updateRun(lease, { transition: state === "completed" ? "complete" : "fail" });
    return { run: done as Run, lease: null };
  }
  return { run: started, lease };
}

/** The request a run's turn makes: a question, decided by any operator within an hour. */
export function askedOn(turn: number, overrides: Partial<NewApproval> = {}): NewApproval {
  sequence++;
  return {
    id: `01ASK${String(sequence).padStart(8, "0")}`,
    kind: "question",
    step: runApprovalStep(turn),
    title: "Which database should the cache use?",
    details: null,
    risk: "low",
    approvers: [],
    quorum: 1,
    requestedBy: null,
    onTimeout: "deny",
    timeoutMs: 3_600_000,
    ...overrides,
  };
}

function stats(turns: number): RunStats {
  return { ...emptyRunStats(), turns, tokens: { input: 100 * turns, output: 10 * turns } };
}

/** `length` bytes whose values depend on their absolute position from `from`, so misplaced bytes show. */
function pattern(from: number, length: number): Buffer {
  const data = Buffer.alloc(length);
  for (let i = 0; i < length; i++) data[i] = (from + i) % 251;
  return data;
}

export function runRunConformance(test: ConformanceTest): void {
  describe("runs: creating and reading", () => {
    test("createRun stores a queued run and appends run.queued with its id", async (ctx) => {
      const spec = newRun();
      const created = await ctx.store.createRun(spec);
      expect(created).toEqual({
        id: spec.id,
        profile: "fixer",
        params: { repo: "overseer" },
        spec: SPEC,
        state: "queued",
        version: created.version,
        pid: null,
        currentTurn: 0,
        stats: emptyRunStats(),
        completion: { detected: null, line: null, turn: null },
        error: null,
        workerId: null,
        createdBy: "ci",
        rerunOf: null,
        createdAt: iso(ctx.clock.now),
        startedAt: null,
        finishedAt: null,
        updatedAt: iso(ctx.clock.now),
      });
      expect(await ctx.store.getRun(spec.id)).toEqual(created);
      const events = await ctx.store.readEvents();
      expect(events.map((e) => [e.kind, e.runId, e.jobId, e.data])).toEqual([
        ["run.queued", spec.id, null, { profile: "fixer" }],
      ]);
      const adHoc = await ctx.store.createRun(newRun({ profile: null, createdBy: null }));
      expect([adHoc.profile, adHoc.createdBy]).toEqual([null, null]);
    });

    test("listRuns pages newest first and filters by state and profile; countRuns has every state", async (ctx) => {
      expect(await ctx.store.countRuns()).toEqual(Object.fromEntries(RUN_STATES.map((s) => [s, 0])));
      const a = await ctx.store.createRun(newRun({ profile: "fixer" }));
      const b = await ctx.store.createRun(newRun({ profile: "writer" }));
      const c = await ctx.store.createRun(newRun({ profile: "fixer" }));
      await ctx.store.controlRun(b.id, { action: "cancel" });
      const ids = async (filter: Parameters<typeof ctx.store.listRuns>[0]) =>
        (await ctx.store.listRuns(filter)).map((r) => r.id);
      expect(await ids(undefined)).toEqual([c.id, b.id, a.id]);
      expect(await ids({ limit: 2 })).toEqual([c.id, b.id]);
      expect(await ids({ limit: 2, beforeId: b.id })).toEqual([a.id]);
      expect(await ids({ states: ["queued"] })).toEqual([c.id, a.id]);
      expect(await ids({ states: ["cancelled", "failed"] })).toEqual([b.id]);
      expect(await ids({ profile: "fixer" })).toEqual([c.id, a.id]);
      expect(await ids({ profile: "fixer", states: ["cancelled"] })).toEqual([]);
      const counts = await ctx.store.countRuns();
      expect(Object.keys(counts).sort()).toEqual([...RUN_STATES].sort());
      expect(counts).toMatchObject({ queued: 2, cancelled: 1, running: 0, completed: 0 });
    });

    test("unknown run ids: RUN_NOT_FOUND for control, nothing for reads", async (ctx) => {
      const unknown = "01RUNUNKNOWN";
      await rejectsWith(() => ctx.store.controlRun(unknown, { action: "cancel" }), "RUN_NOT_FOUND");
      expect(await ctx.store.getRun(unknown)).toBeNull();
      expect(await ctx.store.listRunTurns(unknown)).toEqual([]);
      expect(await ctx.store.readRunOutput(unknown, 1, 0)).toBeNull();
      expect(await ctx.store.readEvents({ runId: unknown })).toEqual([]);
      expect(await ctx.store.claimRun("sup-1", LEASE_MS)).toBeNull();
    });

    test("createRun and controlRun wake onChange listeners", async (ctx) => {
      let calls = 0;
      const unsubscribe = ctx.store.onChange(() => {
        calls++;
      });
      try {
        const waitForCall = async (after: number, what: string) => {
          const deadline = Date.now() + 2_000;
          while (calls <= after) {
            if (Date.now() > deadline) throw new Error(`onChange was not called within 2 s of ${what}`);
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        };
        const created = await ctx.store.createRun(newRun());
        await waitForCall(0, "createRun");
        const before = calls;
        await ctx.store.controlRun(created.id, { action: "cancel" });
        await waitForCall(before, "controlRun");
      } finally {
        unsubscribe();
      }
    });
  });

  describe("runs: control requests", () => {
    test("every control action in every state does what controlAction decides, through the store", async (ctx) => {
      const requests: Array<{ action: RunControlAction; immediate?: boolean }> = [
        { action: "pause" },
        { action: "pause", immediate: true },
        { action: "resume" },
        { action: "cancel" },
      ];
      for (const state of RUN_STATES) {
        for (const request of requests) {
          const { run: before } = await runIn(ctx, state);
          expect(before.state).toBe(state);
          const eventsBefore = await ctx.store.readEvents({ runId: before.id });
          const decision = controlAction(state, request.action, { immediate: request.immediate });
          const label = `${request.action}${request.immediate ? " (immediate)" : ""} while ${state}`;
          if (!decision.ok) {
            const err = await rejectsWith(
              () => ctx.store.controlRun(before.id, { ...request, by: "alice" }),
              "RUN_INVALID_TRANSITION",
            );
            expect(err.details, label).toMatchObject({ state });
            expect(await run(ctx, before.id), label).toEqual(before);
            expect(await ctx.store.readEvents({ runId: before.id }), label).toEqual(eventsBefore);
          } else {
            const { run: after, transition } = await ctx.store.controlRun(before.id, { ...request, by: "alice" });
            expect(transition, label).toBe(decision.transition);
            expect(after.state, label).toBe(decision.to);
            expect(after.version, label).toBeGreaterThan(before.version);
            expect(after.finishedAt, label).toBe(decision.to === "cancelled" ? iso(ctx.clock.now) : null);
            expect(await run(ctx, before.id), label).toEqual(after);
            const appended = (await ctx.store.readEvents({ runId: before.id })).slice(eventsBefore.length);
            const data: Record<string, unknown> = { from: state, to: decision.to, by: "alice" };
            if (request.immediate !== undefined) data.immediate = request.immediate;
            // A cancelled run's pending request is cancelled with it: nobody can answer it any more.
            const [asked] = await ctx.store.listApprovals({ runId: before.id });
            const cancelledRequest =
              state === "waiting" && asked !== undefined
                ? [
                    [
                      "approval.cancelled",
                      before.id,
                      { approvalId: asked.id, step: asked.step, requestedAt: asked.createdAt },
                    ],
                  ]
                : [];
            expect(
              appended.map((e) => [e.kind, e.runId, e.data]),
              label,
            ).toEqual([[RUN_TRANSITION_EVENTS[decision.transition], before.id, data], ...cancelledRequest]);
            if (asked !== undefined) expect(asked.state, label).toBe("cancelled");
          }
          // Leave nothing claimable behind for the next state's claim.
          const now = await run(ctx, before.id);
          if (now.state === "queued") await ctx.store.controlRun(now.id, { action: "cancel" });
        }
      }
    });

    test("finished runs refuse every control action with their state", async (ctx) => {
      for (const state of ["completed", "failed", "cancelled"] as const) {
        const { run: done } = await runIn(ctx, state);
        expect(done.finishedAt).toBe(iso(ctx.clock.now));
        expect(done.workerId).toBeNull();
        for (const action of ["pause", "resume", "cancel"] as const) {
          const err = await rejectsWith(() => ctx.store.controlRun(done.id, { action }), "RUN_INVALID_TRANSITION");
          expect(err.details).toMatchObject({ state });
          expect(err.message).toContain("finished");
        }
        expect(await run(ctx, done.id)).toEqual(done);
      }
    });

    test("controlRun with a stale expectedVersion is VERSION_CONFLICT and changes nothing", async (ctx) => {
      const { run: started } = await runIn(ctx, "running");
      const events = await ctx.store.readEvents();
      const err = await rejectsWith(
        () => ctx.store.controlRun(started.id, { action: "pause", expectedVersion: started.version - 1 }),
        "VERSION_CONFLICT",
      );
      expect(err.details).toMatchObject({ id: started.id, version: started.version });
      expect(await run(ctx, started.id)).toEqual(started);
      expect(await ctx.store.readEvents()).toEqual(events);
      const { run: pausing } = await ctx.store.controlRun(started.id, {
        action: "pause",
        expectedVersion: started.version,
      });
      expect(pausing.state).toBe("pausing");
      await rejectsWith(
        () => ctx.store.controlRun(started.id, { action: "resume", expectedVersion: started.version }),
        "VERSION_CONFLICT",
      );
    });
  });

  describe("runs: claims and leases", () => {
    test("claimRun starts queued runs oldest first under a new lease", async (ctx) => {
      const first = await ctx.store.createRun(newRun());
      ctx.clock.advance(10);
      const second = await ctx.store.createRun(newRun());
      ctx.clock.advance(10);
      const claimed = await claim(ctx, "sup-1");
      expect(claimed.takeover).toBeNull();
      expect(claimed.lease).toEqual({
        runId: first.id,
        workerId: "sup-1",
        token: 1,
        expiresAt: iso(ctx.clock.now + LEASE_MS),
      });
      expect(claimed.run).toMatchObject({
        id: first.id,
        state: "running",
        workerId: "sup-1",
        startedAt: iso(ctx.clock.now),
        updatedAt: iso(ctx.clock.now),
      });
      expect(claimed.run.version).toBeGreaterThan(first.version);
      expect(await run(ctx, first.id)).toEqual(claimed.run);
      const started = (await ctx.store.readEvents({ runId: first.id })).at(-1);
      expect(started).toMatchObject({ kind: "run.started", runId: first.id, workerId: "sup-1", jobId: null });
      expect(started?.data).toMatchObject({ from: "queued", to: "running" });
      expect((await claim(ctx, "sup-2")).run.id).toBe(second.id);
      expect(await ctx.store.claimRun("sup-3", LEASE_MS)).toBeNull();
    });

    test("heartbeatRun extends a held lease; a finished run's or another's lease gives null", async (ctx) => {
      await ctx.store.createRun(newRun());
      const { run: started, lease } = await claim(ctx);
      ctx.clock.advance(LEASE_MS - 1_000);
      const beat = await ctx.store.heartbeatRun(lease, LEASE_MS);
      expect(beat).toMatchObject({ id: started.id, state: "running", workerId: "sup-1" });
      // A lease extension is not a change a person sees: the version stays.
      expect(beat?.version).toBe(started.version);
      ctx.clock.advance(LEASE_MS - 1_000); // past the first expiry, within the extended one
      expect(await ctx.store.claimRun("sup-2", LEASE_MS)).toBeNull();
      expect(await ctx.store.heartbeatRun({ ...lease, token: lease.token + 1 }, LEASE_MS)).toBeNull();
      expect(await ctx.store.heartbeatRun({ ...lease, workerId: "sup-2" }, LEASE_MS)).toBeNull();
      await ctx.store.updateRun(lease, { transition: "complete" });
      expect(await ctx.store.heartbeatRun(lease, LEASE_MS)).toBeNull();
    });

    test("a stale lease writes nothing: heartbeat, update and release after a takeover", async (ctx) => {
      await ctx.store.createRun(newRun());
      const first = await claim(ctx, "sup-1");
      ctx.clock.advance(LEASE_MS + 1);
      const second = await claim(ctx, "sup-2");
      expect(second.run.id).toBe(first.run.id);
      expect(second.lease.token).toBe(first.lease.token + 1);
      const snapshot = await run(ctx, first.run.id);
      const events = await ctx.store.readEvents();
      expect(await ctx.store.heartbeatRun(first.lease, LEASE_MS)).toBeNull();
      expect(
        await ctx.store.updateRun(first.lease, {
          transition: "complete",
          pid: 42,
          stats: stats(1),
          turnStarted: { turn: 1, pid: 42, host: "node-a" },
          events: [{ kind: "run.progress", data: { step: 1 } }],
        }),
      ).toBeNull();
      await ctx.store.releaseRun(first.lease);
      expect(await run(ctx, first.run.id)).toEqual(snapshot);
      expect(await ctx.store.listRunTurns(first.run.id)).toEqual([]);
      expect(await ctx.store.readEvents()).toEqual(events);
    });

    test("messages given to a turn that is lost or interrupted wait for the next turn again", async (ctx) => {
      const input = { template: "{{messages}}", via: "stdin" as const, file: ".overseer/input.md" };
      const created = await ctx.store.createRun(newRun({ spec: { ...SPEC, input } }));
      const send = (body: string) =>
        ctx.store.sendRunMessage({ id: `01MSG${body.padStart(8, "0")}`, runId: created.id, body, sentBy: "ana" });
      const one = await send("1");
      const first = await claim(ctx, "sup-1");
      await ctx.store.updateRun(first.lease, {
        currentTurn: 1,
        turnStarted: { turn: 1, pid: 4242, host: "node-a" },
        messagesDelivered: { turn: 1, ids: [one.id] },
      });
      expect((await ctx.store.waitingRunMessages(created.id)).map((m) => m.id)).toEqual([]);
      // The node dies mid-turn: the turn is lost on takeover, and its message waits again.
      ctx.clock.advance(LEASE_MS + 1);
      const second = await claim(ctx, "sup-2");
      expect(second.takeover?.lostTurn?.turn).toBe(1);
      expect((await ctx.store.waitingRunMessages(created.id)).map((m) => m.id)).toEqual([one.id]);
      // Turn 2 takes it, and a clean shutdown interrupts turn 2: it waits again too.
      await ctx.store.updateRun(second.lease, {
        currentTurn: 2,
        turnStarted: { turn: 2, pid: 4343, host: "node-b" },
        messagesDelivered: { turn: 2, ids: [one.id] },
      });
      const two = await send("2");
      await ctx.store.updateRun(second.lease, {
        turnFinished: { turn: 2, outcome: "interrupted", exitCode: null, signal: "SIGTERM" },
      });
      expect((await ctx.store.waitingRunMessages(created.id)).map((m) => [m.id, m.turn])).toEqual([
        [one.id, null],
        [two.id, null],
      ]);
      // A turn that ran to its end keeps what it got.
      await ctx.store.updateRun(second.lease, {
        currentTurn: 3,
        turnStarted: { turn: 3, pid: 4444, host: "node-b" },
        messagesDelivered: { turn: 3, ids: [one.id, two.id] },
      });
      await ctx.store.updateRun(second.lease, {
        turnFinished: { turn: 3, outcome: "exited", exitCode: 0, signal: null },
      });
      expect((await ctx.store.listRunMessages(created.id)).map((m) => m.turn)).toEqual([3, 3]);
      expect(await ctx.store.waitingRunMessages(created.id)).toEqual([]);
    });

    test("a takeover after expiry records the running turn as lost, exactly once", async (ctx) => {
      const created = await ctx.store.createRun(newRun());
      const first = await claim(ctx, "sup-1");
      ctx.clock.advance(100);
      await ctx.store.updateRun(first.lease, {
        pid: 4242,
        currentTurn: 1,
        stats: stats(1),
        turnStarted: { turn: 1, pid: 4242, host: "node-a" },
        events: [{ kind: "run.turn_started", data: { turn: 1 } }],
      });
      expect(await ctx.store.claimRun("sup-2", LEASE_MS)).toBeNull();
      ctx.clock.advance(LEASE_MS);
      const second = await claim(ctx, "sup-2");
      const lostTurn = {
        runId: created.id,
        turn: 1,
        outcome: "lost",
        exitCode: null,
        signal: null,
        pid: 4242,
        host: "node-a",
        workerId: "sup-1",
        outputBytes: 0,
        startedAt: iso(ctx.clock.now - LEASE_MS),
        finishedAt: iso(ctx.clock.now),
      };
      expect(second.takeover).toEqual({ previousWorkerId: "sup-1", lostTurn });
      expect(second.run).toMatchObject({ state: "running", pid: null, currentTurn: 1, workerId: "sup-2" });
      expect(second.lease).toMatchObject({ workerId: "sup-2", token: 2, expiresAt: iso(ctx.clock.now + LEASE_MS) });
      expect(await ctx.store.listRunTurns(created.id)).toEqual([lostTurn]);
      const tail = (await ctx.store.readEvents({ runId: created.id })).slice(-2);
      expect(tail.map((e) => [e.kind, e.workerId, e.data])).toEqual([
        ["run.turn_lost", "sup-2", { turn: 1, previousWorkerId: "sup-1" }],
        ["run.taken_over", "sup-2", { previousWorkerId: "sup-1", lostTurn: 1 }],
      ]);
      // The new holder's lease is respected; when it too expires, the lost turn is not lost again.
      expect(await ctx.store.claimRun("sup-3", LEASE_MS)).toBeNull();
      ctx.clock.advance(LEASE_MS + 1);
      const third = await claim(ctx, "sup-3");
      expect(third.takeover).toEqual({ previousWorkerId: "sup-2", lostTurn: null });
      const kinds = await runKinds(ctx, created.id);
      expect(kinds.filter((k) => k === "run.turn_lost")).toHaveLength(1);
      expect(kinds.filter((k) => k === "run.taken_over")).toHaveLength(2);
      expect(await ctx.store.listRunTurns(created.id)).toEqual([lostTurn]);
    });

    test("paused and cancelling runs are taken over too; finished and held ones never", async (ctx) => {
      const { run: paused } = await runIn(ctx, "paused");
      const { run: cancelling } = await runIn(ctx, "cancelling");
      await runIn(ctx, "completed");
      await runIn(ctx, "failed");
      await runIn(ctx, "cancelled");
      expect(await ctx.store.claimRun("sup-2", LEASE_MS)).toBeNull();
      ctx.clock.advance(LEASE_MS + 1);
      const taken = [await claim(ctx, "sup-2"), await claim(ctx, "sup-2")];
      expect(taken.map((c) => [c.run.id, c.run.state])).toEqual([
        [paused.id, "paused"],
        [cancelling.id, "cancelling"],
      ]);
      expect(await ctx.store.claimRun("sup-2", LEASE_MS)).toBeNull();
    });

    test("two claimers at once never both get a run", async (ctx) => {
      await ctx.store.createRun(newRun());
      const once = await Promise.all(Array.from({ length: 6 }, (_, i) => ctx.store.claimRun(`sup-${i}`, LEASE_MS)));
      expect(once.filter((c) => c !== null)).toHaveLength(1);
      const created = [];
      for (let i = 0; i < 8; i++) created.push((await ctx.store.createRun(newRun())).id);
      const many = await Promise.all(Array.from({ length: 12 }, (_, i) => ctx.store.claimRun(`sup-${i}`, LEASE_MS)));
      const ids = many.filter((c): c is ClaimedRun => c !== null).map((c) => c.run.id);
      expect(ids.sort()).toEqual(created.sort());
      // And the same for takeovers of expired leases.
      ctx.clock.advance(LEASE_MS + 1);
      const again = await Promise.all(Array.from({ length: 12 }, (_, i) => ctx.store.claimRun(`sup-x${i}`, LEASE_MS)));
      const retaken = again.filter((c): c is ClaimedRun => c !== null).map((c) => c.run.id);
      expect(retaken).toHaveLength(9);
      expect(new Set(retaken).size).toBe(9);
    });

    test("releaseRun keeps the state and appends run.released; a released paused run waits for resume", async (ctx) => {
      const created = await ctx.store.createRun(newRun());
      const first = await claim(ctx, "sup-1");
      await ctx.store.updateRun(first.lease, {
        pid: 7,
        currentTurn: 1,
        turnStarted: { turn: 1, pid: 7, host: "node-a" },
      });
      await ctx.store.controlRun(created.id, { action: "pause" });
      await ctx.store.updateRun(first.lease, {
        pid: null,
        transition: "pausedAtTurnEnd",
        turnFinished: { turn: 1, outcome: "exited", exitCode: 0, signal: null },
      });
      await ctx.store.releaseRun(first.lease);
      const released = await run(ctx, created.id);
      expect(released).toMatchObject({ state: "paused", workerId: null, pid: null, finishedAt: null });
      expect((await ctx.store.readEvents({ runId: created.id })).at(-1)).toMatchObject({
        kind: "run.released",
        runId: created.id,
        workerId: "sup-1",
      });
      expect(await ctx.store.heartbeatRun(first.lease, LEASE_MS)).toBeNull();
      // Paused and released, it waits for a person: no supervisor takes it until it is resumed.
      expect(await ctx.store.claimRun("sup-2", LEASE_MS)).toBeNull();
      await ctx.store.controlRun(created.id, { action: "resume" });
      const second = await claim(ctx, "sup-2"); // no time has passed
      expect(second.run).toMatchObject({ id: created.id, state: "running", workerId: "sup-2" });
      expect(second.lease.token).toBe(first.lease.token + 1);
      expect(second.takeover).toBeNull();
      expect((await ctx.store.readEvents({ runId: created.id })).map((e) => e.kind).slice(-2)).toEqual([
        "run.released",
        "run.resumed",
      ]);
      expect((await ctx.store.listRunTurns(created.id)).map((t) => t.outcome)).toEqual(["exited"]);
    });
    test("a released running run (a node shutting down) is taken up again at once, without a takeover", async (ctx) => {
      const created = await ctx.store.createRun(newRun());
      const first = await claim(ctx, "sup-1");
      await ctx.store.releaseRun(first.lease);
      const second = await claim(ctx, "sup-2"); // no time has passed
      expect(second.run).toMatchObject({ id: created.id, state: "running", workerId: "sup-2" });
      expect(second.takeover).toBeNull();
      expect((await ctx.store.readEvents({ runId: created.id })).map((e) => e.kind)).toEqual([
        "run.queued",
        "run.started",
        "run.released",
      ]);
    });
  });

  describe("runs: supervisor updates", () => {
    test("updateRun applies a turn, stats, events and a finishing transition in one write", async (ctx) => {
      const created = await ctx.store.createRun(newRun());
      const { lease, run: started } = await claim(ctx);
      ctx.clock.advance(50);
      const turnOne = await ctx.store.updateRun(lease, {
        pid: 99,
        currentTurn: 1,
        stats: stats(1),
        turnStarted: { turn: 1, pid: 99, host: "node-a" },
        events: [{ kind: "run.turn_started", data: { turn: 1 } }],
      });
      expect(turnOne).toMatchObject({ pid: 99, currentTurn: 1, stats: stats(1), state: "running" });
      expect(turnOne?.version).toBeGreaterThan(started.version);
      expect(await ctx.store.listRunTurns(created.id)).toEqual([
        {
          runId: created.id,
          turn: 1,
          outcome: "running",
          exitCode: null,
          signal: null,
          pid: 99,
          host: "node-a",
          workerId: "sup-1",
          outputBytes: 0,
          startedAt: iso(ctx.clock.now),
          finishedAt: null,
        },
      ]);
      ctx.clock.advance(50);
      const completion = { detected: "pattern" as const, line: "DONE", turn: 1 };
      const done = await ctx.store.updateRun(lease, {
        stats: stats(1),
        completion,
        turnFinished: { turn: 1, outcome: "exited", exitCode: 0, signal: null },
        events: [{ kind: "run.turn_finished", data: { turn: 1, exitCode: 0 } }],
        transition: "complete",
        transitionData: { reason: "pattern" },
      });
      expect(done).toMatchObject({
        state: "completed",
        completion,
        pid: null,
        workerId: null,
        finishedAt: iso(ctx.clock.now),
        error: null,
      });
      expect(await run(ctx, created.id)).toEqual(done);
      expect((await ctx.store.listRunTurns(created.id))[0]).toMatchObject({
        outcome: "exited",
        exitCode: 0,
        finishedAt: iso(ctx.clock.now),
      });
      const events = await ctx.store.readEvents({ runId: created.id });
      expect(events.map((e) => [e.kind, e.runId, e.workerId])).toEqual([
        ["run.queued", created.id, null],
        ["run.started", created.id, "sup-1"],
        ["run.turn_started", created.id, "sup-1"],
        ["run.turn_finished", created.id, "sup-1"],
        ["run.completed", created.id, "sup-1"],
      ]);
      expect(events.at(-1)?.data).toEqual({ from: "running", to: "completed", reason: "pattern" });
      // The lease ended with the run.
      expect(await ctx.store.updateRun(lease, { stats: stats(2) })).toBeNull();
    });

    test("updateRun records a failure with its error", async (ctx) => {
      await ctx.store.createRun(newRun());
      const { lease } = await claim(ctx);
      const error = { code: "RUN_MAX_TURNS" as const, message: "used 5 turns", retryable: false };
      const failed = await ctx.store.updateRun(lease, { error, transition: "fail" });
      expect(failed).toMatchObject({ state: "failed", error, finishedAt: iso(ctx.clock.now) });
    });

    test("updateRun with a transition not legal from the run's state writes nothing", async (ctx) => {
      const created = await ctx.store.createRun(newRun());
      const { lease } = await claim(ctx);
      await ctx.store.controlRun(created.id, { action: "cancel", by: "alice" });
      const before = await run(ctx, created.id);
      const events = await ctx.store.readEvents();
      const err = await rejectsWith(
        () =>
          ctx.store.updateRun(lease, {
            transition: "complete",
            pid: 5,
            currentTurn: 1,
            stats: stats(1),
            turnStarted: { turn: 1, pid: 5, host: "node-a" },
            output: { turn: 1, offset: 0, data: Buffer.from("hello") },
            events: [{ kind: "run.progress", data: {} }],
          }),
        "RUN_INVALID_TRANSITION",
      );
      expect(err.details).toMatchObject({ state: "cancelling" });
      expect(await run(ctx, created.id)).toEqual(before);
      expect(await ctx.store.listRunTurns(created.id)).toEqual([]);
      expect(await ctx.store.readRunOutput(created.id, 1, 0)).toBeNull();
      expect(await ctx.store.readEvents()).toEqual(events);
      // The legal one still goes through.
      const cancelled = await ctx.store.updateRun(lease, { transition: "cancelled" });
      expect(cancelled).toMatchObject({ state: "cancelled", finishedAt: iso(ctx.clock.now), workerId: null });
    });
  });

  describe("runs: output", () => {
    test("output appends in chunks, and ranged reads cross chunk boundaries (over 1 MB)", async (ctx) => {
      const created = await ctx.store.createRun(newRun());
      const { lease } = await claim(ctx);
      await ctx.store.updateRun(lease, { currentTurn: 1, turnStarted: { turn: 1, pid: 1, host: "node-a" } });
      const sizes = [300_000, 1, 420_000, 0, 350_000, 77];
      let offset = 0;
      for (const size of sizes) {
        const updated = await ctx.store.updateRun(lease, { output: { turn: 1, offset, data: pattern(offset, size) } });
        expect(updated).not.toBeNull();
        offset += size;
      }
      const total = offset;
      expect(total).toBeGreaterThan(1_000_000);
      const whole = pattern(0, total);
      const full = await ctx.store.readRunOutput(created.id, 1, 0);
      expect(full?.size).toBe(total);
      expect(full?.data.equals(whole)).toBe(true);
      const ranges: Array<[number, number | undefined]> = [
        [0, 10],
        [299_995, 300_010], // across the 1-byte chunk
        [300_000, 300_001], // exactly the 1-byte chunk
        [299_999, 720_002],
        [720_001, 1_070_001],
        [1_069_990, undefined],
        [5, total + 1_000], // end clamped
        [123_456, 123_456], // empty
      ];
      for (const [start, end] of ranges) {
        const read = await ctx.store.readRunOutput(created.id, 1, start, end);
        expect(read?.size, `[${start}, ${end})`).toBe(total);
        expect(read?.data.equals(whole.subarray(start, Math.min(end ?? total, total))), `[${start}, ${end})`).toBe(
          true,
        );
      }
      expect(await ctx.store.readRunOutput(created.id, 1, total + 5)).toEqual({ data: Buffer.alloc(0), size: total });
      expect(await ctx.store.readRunOutput(created.id, 2, 0)).toBeNull();
      expect((await ctx.store.listRunTurns(created.id))[0]?.outputBytes).toBe(total);
      // Output counts toward the turn's bytes only: the run's stats come from the supervisor.
      expect((await run(ctx, created.id)).stats).toEqual(emptyRunStats());
    });

    test("an output chunk at the wrong offset or for a missing turn is refused and writes nothing", async (ctx) => {
      const created = await ctx.store.createRun(newRun());
      const { lease } = await claim(ctx);
      // A turn and its first chunk in one update.
      await ctx.store.updateRun(lease, {
        currentTurn: 1,
        turnStarted: { turn: 1, pid: 1, host: "node-a" },
        output: { turn: 1, offset: 0, data: Buffer.from("hello ") },
      });
      const before = await run(ctx, created.id);
      const events = await ctx.store.readEvents();
      for (const offset of [0, 5, 7]) {
        const err = await rejectsWith(
          () =>
            ctx.store.updateRun(lease, {
              stats: stats(1),
              events: [{ kind: "run.progress", data: {} }],
              output: { turn: 1, offset, data: Buffer.from("world") },
            }),
          "INVALID_ARGUMENT",
        );
        expect(err.details).toMatchObject({ offset, expectedOffset: 6 });
      }
      await rejectsWith(
        () => ctx.store.updateRun(lease, { output: { turn: 2, offset: 0, data: Buffer.from("x") } }),
        "INVALID_ARGUMENT",
      );
      expect(await run(ctx, created.id)).toEqual(before);
      expect(await ctx.store.readEvents()).toEqual(events);
      expect(await ctx.store.readRunOutput(created.id, 1, 0)).toEqual({ data: Buffer.from("hello "), size: 6 });
      await ctx.store.updateRun(lease, { output: { turn: 1, offset: 6, data: Buffer.from("world") } });
      expect(await ctx.store.readRunOutput(created.id, 1, 0)).toEqual({ data: Buffer.from("hello world"), size: 11 });
      expect(await ctx.store.readRunOutput(created.id, 1, 3, 8)).toEqual({ data: Buffer.from("lo wo"), size: 11 });
    });
  });

  describe("runs: events", () => {
    test("run events carry the run's id and readEvents({ runId }) filters by it", async (ctx) => {
      defineEventKind("conformance.run_note");
      const a = await ctx.store.createRun(newRun());
      const b = await ctx.store.createRun(newRun());
      const job = await ctx.add();
      await ctx.store.controlRun(b.id, { action: "cancel" });
      const [seq] = await ctx.store.appendEvents([
        { kind: "conformance.run_note", runId: a.id, workerId: "sup-1", data: { note: 1 } },
      ]);
      const all = await ctx.store.readEvents();
      expect(all.map((e) => [e.kind, e.runId, e.jobId])).toEqual([
        ["run.queued", a.id, null],
        ["run.queued", b.id, null],
        ["job.enqueued", null, job.id],
        ["run.cancelled", b.id, null],
        ["conformance.run_note", a.id, null],
      ]);
      expect(all.at(-1)).toMatchObject({ seq, workerId: "sup-1", data: { note: 1 } });
      expect(await ctx.store.readEvents({ runId: a.id })).toEqual([all[0], all[4]]);
      expect(await ctx.store.readEvents({ runId: b.id })).toEqual([all[1], all[3]]);
      expect(await ctx.store.readEvents({ runId: a.id, afterSeq: all[0]?.seq })).toEqual([all[4]]);
      expect(await ctx.store.readEvents({ runId: a.id, limit: 1 })).toEqual([all[0]]);
      expect(await ctx.store.readEvents({ jobId: job.id })).toEqual([all[2]]);
      expect(await ctx.store.readEvents({ jobId: job.id, runId: a.id })).toEqual([]);
    });

    test("many run events in one update keep their order and run id", async (ctx) => {
      const created = await ctx.store.createRun(newRun());
      const { lease } = await claim(ctx);
      const events = Array.from({ length: 40 }, (_, i) => ({ kind: "run.progress", data: { i } }));
      await ctx.store.updateRun(lease, { events });
      const read = (await ctx.store.readEvents({ runId: created.id })).filter((e) => e.kind === "run.progress");
      expect(read.map((e) => e.data.i)).toEqual(events.map((e) => e.data.i));
      expect(read.every((e) => e.runId === created.id && e.jobId === null)).toBe(true);
      const before = await ctx.store.readEvents();
      await rejectsWith(
        () => ctx.store.updateRun(lease, { stats: stats(3), events: [{ kind: "run.no_such_kind" }] }),
        "UNKNOWN_EVENT_KIND",
      );
      expect(await ctx.store.readEvents()).toEqual(before);
      expect((await run(ctx, created.id)).stats).toEqual(emptyRunStats());
      const many = Array.from({ length: 40 }, (_, i) => ({ kind: "run.progress", runId: created.id, data: { i } }));
      await ctx.store.appendEvents(many);
      expect((await ctx.store.readEvents({ runId: created.id })).filter((e) => e.kind === "run.progress")).toHaveLength(
        80,
      );
    });
  });
}
