/**
 * Budgets that stop a runaway run: tokens, cost (from the profile's token prices), a wall-clock
 * deadline from the run's start, and "no progress" (that many turns in a row that changed no
 * file and passed no more tests than the best turn before). Pure: the supervisor asks after each
 * turn whether a budget is spent; `core/run-turn-decision.ts` turns the
 * answer into failing or pausing the run, as the budget says.
 */
import { formatDuration } from "./duration.js";

/** The counts of a run's stats a budget reads (`RunStats` in run.ts; kept apart so a browser can use this module). */
export interface BudgetStats {
  tokens: { input: number; output: number };
  files: { written: number; deleted: number };
  tests: { runs: number; last: { passed: number } | null };
  progress: { idleTurns: number; bestPassed: number };
}

export interface RunBudget {
  /** Input plus output tokens over all turns. */
  maxTokens?: number;
  /** US dollars over all turns, priced with `prices`. */
  maxCostUsd?: number;
  /** US dollars per million tokens. */
  prices?: { input: number; output: number };
  /** Milliseconds from the run's start. */
  deadlineMs?: number;
  /** Turns in a row without progress that end the run. */
  noProgressTurns?: number;
  /** What a spent budget does: end the run as failed, or pause it for a person to decide. */
  onExceeded: "fail" | "pause";
}

export type BudgetCode = "RUN_BUDGET_EXCEEDED" | "RUN_DEADLINE_EXCEEDED" | "RUN_NO_PROGRESS";
export interface BudgetError {
  code: BudgetCode;
  message: string;
  retryable: false;
}

const BUDGET_CODES: ReadonlySet<string> = new Set<BudgetCode>([
  "RUN_BUDGET_EXCEEDED",
  "RUN_DEADLINE_EXCEEDED",
  "RUN_NO_PROGRESS",
]);

export function isBudgetCode(code: string): code is BudgetCode {
  return BUDGET_CODES.has(code);
}

/** Cost in US dollars of the tokens used so far; null without prices. */
export function costOf(tokens: BudgetStats["tokens"], prices: RunBudget["prices"]): number | null {
  if (prices === undefined) return null;
  return (tokens.input * prices.input + tokens.output * prices.output) / 1_000_000;
}

/**
 * The run's progress after a turn, from its stats when the turn began and when it ended: a turn
 * made progress if it wrote or deleted a file, or a test run in it passed more tests than any
 * test run before.
 */
export function progressAfterTurn(before: BudgetStats, after: BudgetStats): BudgetStats["progress"] {
  const changedFiles = after.files.written > before.files.written || after.files.deleted > before.files.deleted;
  const ranTests = after.tests.runs > before.tests.runs;
  const passed = ranTests ? (after.tests.last?.passed ?? 0) : 0;
  const passedMore = ranTests && passed > before.progress.bestPassed;
  return {
    idleTurns: changedFiles || passedMore ? 0 : before.progress.idleTurns + 1,
    bestPassed: Math.max(before.progress.bestPassed, passed),
  };
}

/** The first budget the run has spent, as the error that ends (or pauses) it; null when none is. */
export function spentBudget(
  budget: RunBudget | undefined,
  stats: BudgetStats,
  elapsedMs: number | null,
): BudgetError | null {
  if (budget === undefined) return null;
  const tokens = stats.tokens.input + stats.tokens.output;
  if (budget.maxTokens !== undefined && tokens >= budget.maxTokens) {
    return error("RUN_BUDGET_EXCEEDED", `the run used ${tokens} tokens; its budget is ${budget.maxTokens}`);
  }
  const cost = costOf(stats.tokens, budget.prices);
  if (budget.maxCostUsd !== undefined && cost !== null && cost >= budget.maxCostUsd) {
    return error(
      "RUN_BUDGET_EXCEEDED",
      `the run cost $${cost.toFixed(4)} in tokens; its budget is $${budget.maxCostUsd}`,
    );
  }
  if (budget.deadlineMs !== undefined && elapsedMs !== null && elapsedMs >= budget.deadlineMs) {
    return error(
      "RUN_DEADLINE_EXCEEDED",
      `the run has been going for ${Math.round(elapsedMs / 1000)} s; its deadline is ${Math.round(budget.deadlineMs / 1000)} s after its start`,
    );
  }
  if (budget.noProgressTurns !== undefined && stats.progress.idleTurns >= budget.noProgressTurns) {
    return error(
      "RUN_NO_PROGRESS",
      `${stats.progress.idleTurns} turns in a row changed no file and passed no more tests`,
    );
  }
  return null;
}

/**
 * A run's own budget over its profile's: each limit may only be stricter than the profile's, so
 * whoever may start a run cannot lift a limit the config sets; prices are the profile's alone.
 * Returns the merged budget, or what is wrong as a phrase after the field's name.
 */
export function narrowBudget(
  profile: RunBudget | undefined,
  requested: Omit<Partial<RunBudget>, "prices">,
): { budget: RunBudget } | { field: string; problem: string } {
  const merged: RunBudget = { ...(profile ?? { onExceeded: "fail" }) };
  for (const field of ["maxTokens", "maxCostUsd", "deadlineMs", "noProgressTurns"] as const) {
    const value = requested[field];
    if (value === undefined) continue;
    const limit = profile?.[field];
    if (limit !== undefined && value > limit) {
      const show = field === "deadlineMs" ? formatDuration : String;
      return { field, problem: `may only lower the profile's limit of ${show(limit)}; got ${show(value)}` };
    }
    merged[field] = value;
  }
  if (requested.maxCostUsd !== undefined && merged.prices === undefined) {
    return { field: "maxCostUsd", problem: "needs token prices, which only the profile can set (budget.prices)" };
  }
  if (requested.onExceeded === "pause" && profile !== undefined && profile.onExceeded === "fail") {
    // Each resume of a paused run grants a turn more: that would lift the profile's limits.
    return { field: "onExceeded", problem: 'may not turn the profile\'s "fail" into "pause"' };
  }
  if (requested.onExceeded !== undefined) merged.onExceeded = requested.onExceeded;
  return { budget: merged };
}

function error(code: BudgetCode, message: string): BudgetError {
  return { code, message, retryable: false };
}

/** A run's budget with what it has used: "1200/5000 tokens, deadline 30m, 2/3 idle turns; fails when spent". */
export function describeBudget(
  budget: RunBudget,
  stats: Pick<BudgetStats, "tokens"> & { progress?: BudgetStats["progress"] },
): string {
  const parts: string[] = [];
  const tokens = stats.tokens.input + stats.tokens.output;
  if (budget.maxTokens !== undefined) parts.push(`${tokens}/${budget.maxTokens} tokens`);
  const cost = costOf(stats.tokens, budget.prices);
  if (budget.maxCostUsd !== undefined && cost !== null) parts.push(`$${cost.toFixed(2)}/$${budget.maxCostUsd}`);
  if (budget.deadlineMs !== undefined) parts.push(`deadline ${formatDuration(budget.deadlineMs)} after start`);
  if (budget.noProgressTurns !== undefined)
    parts.push(`${stats.progress?.idleTurns ?? 0}/${budget.noProgressTurns} idle turns`);
  return `${parts.join(", ") || "no limits"}; ${budget.onExceeded === "pause" ? "pauses" : "fails"} when spent`;
}
