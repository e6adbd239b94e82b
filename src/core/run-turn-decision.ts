/**
 * What a run does when a turn ends: the one policy the supervisor applies, as a pure function of
 * the run's state, the turn's result and the profile's rules. Checked in this order, first match
 * wins:
 *   1. the run is being cancelled → `cancelled`;
 *   2. the run is not running or pausing (paused: a frozen turn died) → no change;
 *   3. the command could not be started → fail RUN_SPAWN_FAILED (not retryable);
 *   4. the completion rule matched (output pattern, stop file, exit code, in that order) →
 *      complete, recording what matched: the agent said it is done, even if the turn then
 *      overran its timeout or exited non-zero;
 *   5. the turn timed out → fail RUN_TURN_TIMEOUT (retryable);
 *   6. the turn failed (non-zero exit or a signal) and the profile fails runs on that → fail
 *      RUN_TURN_FAILED (retryable);
 *   7. a budget is spent (tokens, cost, deadline, no progress; see run-budget.ts) → fail with
 *      its code, or `budgetPaused` when the budget pauses instead;
 *   8. that was the last turn allowed → fail RUN_MAX_TURNS (not retryable): no turn is left to
 *      use an answer, so the run does not wait for one;
 *   9. the turn asked a person something (a question or an approval request) → `ask`: the run
 *      waits for the answer, even if a pause was asked for (a waiting run holds nothing either);
 *  10. a pause was asked for during the turn → `pausedAtTurnEnd`;
 *  11. otherwise → no change: the next turn starts.
 */
import type { RunCompletion, RunError, RunSpec } from "./run.js";
import type { BudgetError } from "./run-budget.js";
import type { RunState } from "./run-state.js";

export interface TurnEnd {
  turn: number;
  exitCode: number | null;
  signal: string | null;
  spawnError: string | null;
  timedOut: boolean;
  /** The first output line that matched the completion pattern. */
  patternLine: string | null;
  /** The stop file's path (relative to cwd) if it appeared during the turn. */
  stopFile: string | null;
  /** Whether the turn asked a person something. */
  asked?: boolean;
}

export type TurnDecision =
  | { transition: null }
  | { transition: "cancelled" | "pausedAtTurnEnd" | "ask" }
  | { transition: "complete"; completion: RunCompletion }
  | { transition: "fail"; error: RunError }
  | { transition: "budgetPaused"; error: BudgetError };

export function decideAfterTurn(
  state: RunState,
  end: TurnEnd,
  spec: Pick<RunSpec, "maxTurns" | "turnTimeoutMs" | "completion" | "onTurnFailure" | "budget">,
  /** The budget the run has spent by the end of this turn, if any (`spentBudget`). */
  spent: BudgetError | null = null,
): TurnDecision {
  if (state === "cancelling") return { transition: "cancelled" };
  if (state !== "running" && state !== "pausing") return { transition: null };
  if (end.spawnError !== null) {
    return fail("RUN_SPAWN_FAILED", `turn ${end.turn}: the command could not be started: ${end.spawnError}`, false);
  }
  const completion = completionOf(end, spec.completion.exitCode);
  if (completion !== null) return { transition: "complete", completion };
  if (end.timedOut) {
    return fail(
      "RUN_TURN_TIMEOUT",
      `turn ${end.turn} ran longer than its timeout of ${spec.turnTimeoutMs} ms and was stopped`,
      true,
    );
  }
  const failed = end.signal !== null || (end.exitCode !== null && end.exitCode !== 0);
  if (failed && spec.onTurnFailure === "fail") {
    const how = end.signal !== null ? `was killed by ${end.signal}` : `exited with code ${end.exitCode}`;
    return fail("RUN_TURN_FAILED", `turn ${end.turn} ${how}`, true);
  }
  if (spent !== null) {
    return spec.budget?.onExceeded === "pause"
      ? { transition: "budgetPaused", error: spent }
      : { transition: "fail", error: spent };
  }
  if (end.turn >= spec.maxTurns) {
    return fail("RUN_MAX_TURNS", `the run used all ${spec.maxTurns} turns without meeting its completion rule`, false);
  }
  if (end.asked === true) return { transition: "ask" };
  if (state === "pausing") return { transition: "pausedAtTurnEnd" };
  return { transition: null };
}

function completionOf(end: TurnEnd, exitCode: number | undefined): RunCompletion | null {
  if (end.patternLine !== null) return { detected: "pattern", line: end.patternLine, turn: end.turn };
  if (end.stopFile !== null) return { detected: "stop_file", line: end.stopFile, turn: end.turn };
  if (exitCode !== undefined && end.signal === null && end.exitCode === exitCode) {
    return { detected: "exit_code", line: `exit code ${exitCode}`, turn: end.turn };
  }
  return null;
}

function fail(code: RunError["code"], message: string, retryable: boolean): TurnDecision {
  return { transition: "fail", error: { code, message, retryable } };
}
