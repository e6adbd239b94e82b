/**
 * The state machine, checked exhaustively: there are only 7 states and 14 transitions, so every
 * (from, to) pair and every (transition, state) pair is listed rather than sampled.
 */
import { describe, expect, it } from "vitest";
import { canTransition, DISCARDABLE, legalEdges, TRANSITIONS, type TransitionName } from "./job-state.js";
import { FINISHED_STATES, JOB_STATES, type JobState } from "./types.js";

/** The intended graph, written out by hand so a change to TRANSITIONS has to be made twice. */
const EXPECTED_EDGES: ReadonlyArray<readonly [JobState, JobState]> = [
  ["scheduled", "queued"],
  ["queued", "running"],
  ["queued", "scheduled"],
  ["running", "succeeded"],
  ["running", "scheduled"],
  ["running", "dead"],
  ["running", "queued"],
  ["scheduled", "cancelled"],
  ["queued", "cancelled"],
  ["running", "awaiting_approval"],
  ["awaiting_approval", "queued"],
  ["awaiting_approval", "cancelled"],
  ["running", "cancelled"],
  ["dead", "queued"],
  ["cancelled", "queued"],
];

const EXPECTED_FROM: Record<TransitionName, readonly JobState[]> = {
  promote: ["scheduled"],
  claim: ["queued"],
  throttle: ["queued"],
  succeed: ["running"],
  scheduleRetry: ["running"],
  die: ["running"],
  recoverLost: ["running"],
  release: ["running"],
  park: ["running"],
  awaitApproval: ["running"],
  approvalSettled: ["awaiting_approval"],
  cancel: ["scheduled", "queued", "awaiting_approval"],
  cancelRunning: ["running"],
  retry: ["dead", "cancelled"],
};

const key = (from: JobState, to: JobState) => `${from}->${to}`;
const expectedEdgeKeys = new Set(EXPECTED_EDGES.map(([f, t]) => key(f, t)));
const transitionNames = Object.keys(TRANSITIONS) as TransitionName[];

describe("legalEdges", () => {
  const edges = legalEdges();
  const edgeKeys = new Set(edges.map(([f, t]) => key(f, t)));

  const allPairs = JOB_STATES.flatMap((from) => JOB_STATES.map((to) => [from, to] as const));
  it.each(allPairs)("%s -> %s is legal iff some transition allows it", (from, to) => {
    const allowedBySomeTransition = transitionNames.some(
      (name) => TRANSITIONS[name].to === to && canTransition(name, from),
    );
    expect(edgeKeys.has(key(from, to))).toBe(allowedBySomeTransition);
    expect(edgeKeys.has(key(from, to))).toBe(expectedEdgeKeys.has(key(from, to)));
  });

  it("lists each edge once", () => {
    expect(edges.length).toBe(edgeKeys.size);
    expect(edges.length).toBe(EXPECTED_EDGES.length);
  });

  it("never leaves a finished state except to queued (a retry by hand)", () => {
    for (const [from, to] of edges) {
      if (FINISHED_STATES.includes(from)) expect(to).toBe("queued");
    }
  });

  it("never enters running except by a claim from queued", () => {
    expect(edges.filter(([, to]) => to === "running")).toEqual([["queued", "running"]]);
  });

  it("has no self-loops", () => {
    for (const [from, to] of edges) expect(from).not.toBe(to);
  });

  it("lets succeeded go nowhere", () => {
    expect(edges.filter(([from]) => from === "succeeded")).toEqual([]);
  });
});

describe("canTransition", () => {
  it("covers exactly the expected transitions", () => {
    expect(transitionNames.sort()).toEqual(Object.keys(EXPECTED_FROM).sort());
  });

  const cases = transitionNames.flatMap((name) =>
    JOB_STATES.map((state) => [name, state, EXPECTED_FROM[name].includes(state)] as const),
  );
  it.each(cases)("%s from %s is %s", (name, state, expected) => {
    expect(canTransition(name, state)).toBe(expected);
  });

  it("ends each transition in a state that differs from all of its starting states", () => {
    for (const name of transitionNames) {
      expect(TRANSITIONS[name].from as readonly JobState[]).not.toContain(TRANSITIONS[name].to);
    }
  });
});

describe("DISCARDABLE", () => {
  it("is exactly the finished states", () => {
    expect([...DISCARDABLE].sort()).toEqual([...FINISHED_STATES].sort());
    expect([...DISCARDABLE].sort()).toEqual(["cancelled", "dead", "succeeded"]);
  });
});
