/**
 * The run state machine, checked exhaustively. Every (transition, state), (from, to) and
 * (state, control action) pair is generated from RUN_STATES, TRANSITIONS and
 * RUN_CONTROL_ACTIONS, and the expected answers are written out by hand in tables typed by
 * those lists: a new state, transition or action fails the typecheck until it is given its row.
 */
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "./errors.js";
import {
  canTransition,
  controlAction,
  FINISHED_RUN_STATES,
  isFinishedRunState,
  legalEdges,
  RUN_CONTROL_ACTIONS,
  RUN_STATES,
  type RunControlAction,
  type RunState,
  type RunTransitionName,
  runControlError,
  TRANSITIONS,
} from "./run-state.js";

const EXPECTED_FROM: Record<RunTransitionName, readonly RunState[]> = {
  start: ["queued"],
  ask: ["running", "pausing"],
  askFirst: ["queued"],
  answered: ["waiting"],
  approvedToStart: ["waiting"],
  deniedToStart: ["waiting"],
  cancelWaiting: ["waiting"],
  pause: ["running"],
  pauseNow: ["running", "pausing"],
  pausedAtTurnEnd: ["pausing"],
  budgetPaused: ["running", "pausing"],
  resume: ["paused", "pausing"],
  cancel: ["running", "pausing", "paused"],
  cancelQueued: ["queued"],
  cancelled: ["cancelling"],
  complete: ["running", "pausing"],
  fail: ["running", "pausing"],
};

const EXPECTED_TO: Record<RunTransitionName, RunState> = {
  start: "running",
  ask: "waiting",
  askFirst: "waiting",
  answered: "running",
  approvedToStart: "queued",
  deniedToStart: "cancelled",
  cancelWaiting: "cancelled",
  pause: "pausing",
  pauseNow: "paused",
  pausedAtTurnEnd: "paused",
  budgetPaused: "paused",
  resume: "running",
  cancel: "cancelling",
  cancelQueued: "cancelled",
  cancelled: "cancelled",
  complete: "completed",
  fail: "failed",
};

/** The intended graph, written out by hand so a change to TRANSITIONS has to be made twice. */
const EXPECTED_EDGES: ReadonlyArray<readonly [RunState, RunState]> = [
  ["queued", "running"],
  ["queued", "cancelled"],
  ["queued", "waiting"],
  ["running", "waiting"],
  ["pausing", "waiting"],
  ["waiting", "running"],
  ["waiting", "queued"],
  ["waiting", "cancelled"],
  ["running", "pausing"],
  ["running", "paused"],
  ["running", "cancelling"],
  ["running", "completed"],
  ["running", "failed"],
  ["pausing", "paused"],
  ["pausing", "running"],
  ["pausing", "cancelling"],
  ["pausing", "completed"],
  ["pausing", "failed"],
  ["paused", "running"],
  ["paused", "cancelling"],
  ["cancelling", "cancelled"],
];

/** What each control request does in each state: a transition, or a refusal (409). */
type Expected = RunTransitionName | "refused";
type ControlColumn = RunControlAction | "pause immediate";
const EXPECTED_CONTROL: Record<RunState, Record<ControlColumn, Expected>> = {
  queued: { pause: "refused", "pause immediate": "refused", resume: "refused", cancel: "cancelQueued" },
  running: { pause: "pause", "pause immediate": "pauseNow", resume: "refused", cancel: "cancel" },
  waiting: { pause: "refused", "pause immediate": "refused", resume: "refused", cancel: "cancelWaiting" },
  pausing: { pause: "refused", "pause immediate": "pauseNow", resume: "resume", cancel: "cancel" },
  paused: { pause: "refused", "pause immediate": "refused", resume: "resume", cancel: "cancel" },
  cancelling: { pause: "refused", "pause immediate": "refused", resume: "refused", cancel: "refused" },
  cancelled: { pause: "refused", "pause immediate": "refused", resume: "refused", cancel: "refused" },
  completed: { pause: "refused", "pause immediate": "refused", resume: "refused", cancel: "refused" },
  failed: { pause: "refused", "pause immediate": "refused", resume: "refused", cancel: "refused" },
};

const key = (from: RunState, to: RunState) => `${from}->${to}`;
const transitionNames = Object.keys(TRANSITIONS) as RunTransitionName[];
const edges = legalEdges();

describe("RUN_STATES", () => {
  it("has every state once, and the tables have a row for each", () => {
    expect(new Set(RUN_STATES).size).toBe(RUN_STATES.length);
    expect(Object.keys(EXPECTED_CONTROL).sort()).toEqual([...RUN_STATES].sort());
  });

  it("finished states are exactly cancelled, completed and failed", () => {
    expect([...FINISHED_RUN_STATES].sort()).toEqual(["cancelled", "completed", "failed"]);
    for (const state of RUN_STATES) expect(isFinishedRunState(state)).toBe(FINISHED_RUN_STATES.includes(state));
  });
});

describe("canTransition: every (transition, state) pair", () => {
  it("covers exactly the expected transitions", () => {
    expect([...transitionNames].sort()).toEqual(Object.keys(EXPECTED_FROM).sort());
    expect([...transitionNames].sort()).toEqual(Object.keys(EXPECTED_TO).sort());
  });

  const cases = transitionNames.flatMap((name) =>
    RUN_STATES.map((state) => [name, state, EXPECTED_FROM[name].includes(state)] as const),
  );
  it.each(cases)("%s from %s is legal: %s", (name, state, legal) => {
    expect(canTransition(name, state)).toBe(legal);
  });

  it.each(transitionNames)("%s ends in its expected state, which is none of its starting states", (name) => {
    expect(TRANSITIONS[name].to).toBe(EXPECTED_TO[name]);
    expect(TRANSITIONS[name].from as readonly RunState[]).not.toContain(TRANSITIONS[name].to);
  });
});

describe("legalEdges: every (from, to) pair", () => {
  const edgeKeys = new Set(edges.map(([f, t]) => key(f, t)));
  const expectedKeys = new Set(EXPECTED_EDGES.map(([f, t]) => key(f, t)));

  const allPairs = RUN_STATES.flatMap((from) => RUN_STATES.map((to) => [from, to] as const));
  it.each(allPairs)("%s -> %s is legal iff expected and some transition allows it", (from, to) => {
    const bySomeTransition = transitionNames.some((n) => TRANSITIONS[n].to === to && canTransition(n, from));
    expect(edgeKeys.has(key(from, to))).toBe(bySomeTransition);
    expect(edgeKeys.has(key(from, to))).toBe(expectedKeys.has(key(from, to)));
  });

  it("lists each edge once", () => {
    expect(edges.length).toBe(edgeKeys.size);
    expect(edges.length).toBe(EXPECTED_EDGES.length);
  });

  it("never leaves a finished state", () => {
    expect(edges.filter(([from]) => isFinishedRunState(from))).toEqual([]);
  });

  it("reaches cancelled only through cancelling, except from queued and waiting (no process runs)", () => {
    const into = edges.filter(([, to]) => to === "cancelled").map(([from]) => from);
    expect(into.sort()).toEqual(["cancelling", "queued", "waiting"]);
  });

  it("lets cancelling end only in cancelled", () => {
    expect(edges.filter(([from]) => from === "cancelling")).toEqual([["cancelling", "cancelled"]]);
  });

  it("reaches every state from queued, and a finished state from every state", () => {
    const reachable = (start: RunState): Set<RunState> => {
      const seen = new Set<RunState>([start]);
      const todo = [start];
      while (todo.length > 0) {
        const from = todo.pop() as RunState;
        for (const [f, to] of edges) {
          if (f === from && !seen.has(to)) {
            seen.add(to);
            todo.push(to);
          }
        }
      }
      return seen;
    };
    expect([...reachable("queued")].sort()).toEqual([...RUN_STATES].sort());
    for (const state of RUN_STATES) {
      expect([...reachable(state)].some(isFinishedRunState)).toBe(true);
    }
  });
});

describe("controlAction: every (state, action) pair", () => {
  const columns: ReadonlyArray<{ column: ControlColumn; action: RunControlAction; immediate: boolean }> = [
    ...RUN_CONTROL_ACTIONS.map((action) => ({ column: action, action, immediate: false })),
    { column: "pause immediate", action: "pause", immediate: true },
  ];
  const cases = RUN_STATES.flatMap((state) =>
    columns.map(
      ({ column, action, immediate }) => [state, column, EXPECTED_CONTROL[state][column], action, immediate] as const,
    ),
  );

  it.each(cases)("%s, %s: %s", (state, _column, expected, action, immediate) => {
    const result = controlAction(state, action, { immediate });
    if (expected === "refused") {
      expect(result).toMatchObject({ ok: false, code: "RUN_INVALID_TRANSITION", state, action });
      if (!result.ok) expect(result.message.length).toBeGreaterThan(10);
    } else {
      expect(result).toEqual({ ok: true, transition: expected, from: state, to: TRANSITIONS[expected].to });
      // The control layer never asks for a transition the state machine forbids.
      expect(canTransition(expected, state)).toBe(true);
    }
  });

  it("has a column for every action", () => {
    for (const action of RUN_CONTROL_ACTIONS) expect(columns.map((c) => c.column)).toContain(action);
  });

  it("ignores immediate: false and no options alike", () => {
    for (const state of RUN_STATES) {
      for (const action of RUN_CONTROL_ACTIONS) {
        expect(controlAction(state, action)).toEqual(controlAction(state, action, { immediate: false }));
      }
    }
  });

  it("gives immediate no meaning outside pause", () => {
    for (const state of RUN_STATES) {
      for (const action of ["resume", "cancel"] as const) {
        expect(controlAction(state, action, { immediate: true })).toEqual(controlAction(state, action));
      }
    }
  });

  it.each([...FINISHED_RUN_STATES])("refuses to cancel a %s run, saying it has finished", (state) => {
    const result = controlAction(state, "cancel");
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.message).toBe(`cannot cancel the run: it has already finished (${state}); start a new run instead`);
  });

  it("says so when what was asked is already under way", () => {
    const message = (state: RunState, action: RunControlAction) => {
      const result = controlAction(state, action);
      return result.ok ? "" : result.message;
    };
    expect(message("cancelling", "cancel")).toMatch(/already being cancelled/);
    expect(message("paused", "pause")).toMatch(/already paused/);
    expect(message("running", "resume")).toMatch(/already running/);
    expect(message("pausing", "pause")).toMatch(/already pausing.*immediate/);
    expect(message("waiting", "resume")).toMatch(/waiting for an answer.*answer the request, or cancel/);
  });
});

describe("runControlError", () => {
  it("turns a refusal into a 409 carrying the state and the action", () => {
    const result = controlAction("completed", "cancel");
    if (result.ok) throw new Error("expected a refusal");
    const err = runControlError(result);
    expect(err.code).toBe("RUN_INVALID_TRANSITION");
    expect(err.status).toBe(409);
    expect(ERROR_CODES[err.code].status).toBe(409);
    expect(err.message).toBe(result.message);
    expect(err.toJSON()).toEqual({
      code: "RUN_INVALID_TRANSITION",
      message: result.message,
      details: { state: "completed", action: "cancel" },
    });
  });
});
