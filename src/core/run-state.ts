/**
 * The run state machine, in one place. Every state change of a run is a named transition with
 * the states it may start from, so a store can compile `from` into the guard of its UPDATE and a
 * transition that is not legal here cannot happen in any backend. `controlAction` maps what a
 * person asks for (pause, resume, cancel) onto those transitions or refuses with the run's state.
 * Pure: no clock, no I/O. Invariant: a finished run (completed, failed, cancelled) never changes.
 *
 * `waiting`: the run asked a person something (a question, or an approval) at the end of a turn,
 * or its profile wants an approval before the first turn. It holds no process and no lease; the
 * settled request (answered, decided, timed out) makes it claimable again, by any node.
 */
import { OverseerError } from "./errors.js";

/** Listed in the order a run usually moves through them; the type is derived from the list. */
export const RUN_STATES = [
  "queued",
  "running",
  "waiting",
  "pausing",
  "paused",
  "cancelling",
  "cancelled",
  "completed",
  "failed",
] as const;

export type RunState = (typeof RUN_STATES)[number];

/** States a run never leaves. "Finished", as for jobs (`FINISHED_STATES`), not a synonym. */
export const FINISHED_RUN_STATES: readonly RunState[] = ["cancelled", "completed", "failed"];

export function isFinishedRunState(state: RunState): boolean {
  return FINISHED_RUN_STATES.includes(state);
}

export const TRANSITIONS = {
  /** A worker takes the queued run under its lease and starts the first turn. */
  start: { from: ["queued"], to: "running" },
  /**
   * A turn that asked a person something has ended: the run waits for the answer, holding no
   * process and no lease. From `pausing` too: a run waiting holds nothing either, and the pause
   * asked for is dropped (the event says so).
   */
  ask: { from: ["running", "pausing"], to: "waiting" },
  /** Applied as the run is created, when its profile wants an approval before the first turn. */
  askFirst: { from: ["queued"], to: "waiting" },
  /** The request a started run waits on was settled: any supervisor takes it up at its next turn. */
  answered: { from: ["waiting"], to: "running" },
  /** The approval before the first turn was given: the run is queued like any new run. */
  approvedToStart: { from: ["waiting"], to: "queued" },
  /** The approval before the first turn was denied (or timed out as a denial): the run never starts. */
  deniedToStart: { from: ["waiting"], to: "cancelled" },
  /** A run waiting for an answer has no process: a cancel ends it at once, with its pending request. */
  cancelWaiting: { from: ["waiting"], to: "cancelled" },
  /** Ask for a pause: the current turn runs to its end, then `pausedAtTurnEnd`. */
  pause: { from: ["running"], to: "pausing" },
  /**
   * Freeze the process group now (SIGSTOP; `resume` sends SIGCONT). Also from `pausing`: a
   * person who asked for a pause at turn end may decide not to wait for the turn.
   */
  pauseNow: { from: ["running", "pausing"], to: "paused" },
  /** The turn during which a pause was asked for has ended; no turn runs until `resume`. */
  pausedAtTurnEnd: { from: ["pausing"], to: "paused" },
  /** A turn ended with the run's budget spent, and the budget pauses rather than fails the run. */
  budgetPaused: { from: ["running", "pausing"], to: "paused" },
  /**
   * From `paused`: continue (SIGCONT a frozen group, or start the next turn). From `pausing`:
   * withdraw the pending pause; the current turn never stopped.
   */
  resume: { from: ["paused", "pausing"], to: "running" },
  /**
   * Ask a run that has (or may have) a process to stop: SIGTERM to the group, SIGKILL after the
   * grace period. `paused` goes through `cancelling` too, since a frozen group must be killed.
   */
  cancel: { from: ["running", "pausing", "paused"], to: "cancelling" },
  /** A run that never started has nothing to stop: it is cancelled at once. */
  cancelQueued: { from: ["queued"], to: "cancelled" },
  /** The process group is gone after a cancel. */
  cancelled: { from: ["cancelling"], to: "cancelled" },
  /**
   * The completion rule matched (stop file, output pattern or exit code). From `pausing` when
   * the turn that was to end in a pause completed the run: nothing is left to pause.
   */
  complete: { from: ["running", "pausing"], to: "completed" },
  /**
   * The run itself failed: max turns reached, a turn timed out or failed per the profile, the
   * command could not be spawned. Not from `cancelling` (the person's cancel decides the
   * outcome; a turn killed by it is expected, and trouble killing it is reported as events)
   * nor from `paused` (no turn runs; a frozen group that dies is a lost turn, and the run
   * continues with its next turn on `resume`, as after a lost node).
   */
  fail: { from: ["running", "pausing"], to: "failed" },
} as const satisfies Record<string, { from: readonly RunState[]; to: RunState }>;

export type RunTransitionName = keyof typeof TRANSITIONS;

export function canTransition(name: RunTransitionName, from: RunState): boolean {
  return (TRANSITIONS[name].from as readonly RunState[]).includes(from);
}

/** Every (from, to) pair that some transition allows. */
export function legalEdges(): Array<[RunState, RunState]> {
  const edges = new Map<string, [RunState, RunState]>();
  for (const t of Object.values(TRANSITIONS)) {
    for (const from of t.from) edges.set(`${from}->${t.to}`, [from, t.to]);
  }
  return [...edges.values()];
}

export const RUN_CONTROL_ACTIONS = ["pause", "resume", "cancel"] as const;
export type RunControlAction = (typeof RUN_CONTROL_ACTIONS)[number];

export interface RunControlOptions {
  /** `pause` only: freeze the process group now instead of waiting for the turn to end. */
  immediate?: boolean;
}

export type RunControlResult =
  | { ok: true; transition: RunTransitionName; from: RunState; to: RunState }
  | { ok: false; code: "RUN_INVALID_TRANSITION"; message: string; state: RunState; action: RunControlAction };

/**
 * What a control request does in a given state: the transition to apply, or a refusal carrying
 * the current state (HTTP 409). Asking again for what is already under way (pause while
 * pausing, cancel while cancelling) is refused too, with a message saying so: the caller reads
 * the state and knows its wish is being carried out.
 */
export function controlAction(
  state: RunState,
  action: RunControlAction,
  options: RunControlOptions = {},
): RunControlResult {
  const transition = chooseTransition(state, action, options.immediate === true);
  if (typeof transition === "string") {
    return { ok: true, transition, from: state, to: TRANSITIONS[transition].to };
  }
  return { ok: false, code: "RUN_INVALID_TRANSITION", message: transition.refusal, state, action };
}

function chooseTransition(
  state: RunState,
  action: RunControlAction,
  immediate: boolean,
): RunTransitionName | { refusal: string } {
  if (isFinishedRunState(state)) {
    return { refusal: `cannot ${action} the run: it has already finished (${state}); start a new run instead` };
  }
  if (state === "cancelling") {
    return {
      refusal:
        action === "cancel"
          ? "the run is already being cancelled; it will be cancelled once its processes have stopped"
          : `cannot ${action} the run: it is being cancelled`,
    };
  }
  if (state === "waiting" && action !== "cancel") {
    return {
      refusal: `cannot ${action} the run: it is waiting for an answer to its request, which holds no process; answer the request, or cancel the run`,
    };
  }
  switch (action) {
    case "pause":
      if (state === "queued") return { refusal: "cannot pause the run: it has not started yet; cancel it instead" };
      if (state === "paused") return { refusal: "the run is already paused" };
      if (immediate) return "pauseNow";
      if (state === "pausing") {
        return { refusal: "the run is already pausing at the end of its turn; ask with immediate to pause it now" };
      }
      return "pause";
    case "resume":
      if (state === "queued") return { refusal: "cannot resume the run: it has not started yet" };
      if (state === "running") return { refusal: "the run is already running" };
      return "resume";
    case "cancel":
      if (state === "queued") return "cancelQueued";
      return state === "waiting" ? "cancelWaiting" : "cancel";
  }
}

/** The refusal as an error, for layers that throw: code RUN_INVALID_TRANSITION (409). */
export function runControlError(refusal: Extract<RunControlResult, { ok: false }>): OverseerError {
  return new OverseerError(refusal.code, refusal.message, { state: refusal.state, action: refusal.action });
}
