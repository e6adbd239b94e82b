/**
 * Runs: long jobs that loop "turns" of a command (an agent CLI, typically) until the command says
 * it is done. This file holds the run's shape as every layer sees it: the spec a run executes
 * (fixed when the run is created, so a config change or another node never changes what an
 * accepted run does), its stats, completion and error, its turns, and the leases that let one
 * supervisor at a time drive it. The state machine is `run-state.ts`.
 */
import type { NewApproval, OnTimeout } from "./approval.js";
import type { RunBudget } from "./run-budget.js";
import type { RunInputSpec } from "./run-input.js";
import type { RunState, RunTransitionName } from "./run-state.js";

/** What a turn runs, resolved from a profile and the run's params when the run was created. */
export interface RunSpec {
  command: string;
  /** Rendered: every `{{param}}` already replaced. No shell ever sees them. */
  args: string[];
  /** Absolute working directory; created if missing. */
  cwd: string;
  /** Names of environment variables passed through from the supervisor's environment. */
  env: string[];
  maxTurns: number;
  turnTimeoutMs: number;
  /** Time between SIGTERM and SIGKILL when a turn is stopped. */
  graceMs: number;
  completion: RunCompletionRule;
  /** What a turn that exits non-zero (and is not the completion exit code) does to the run. */
  onTurnFailure: "fail" | "continue";
  /** Each turn's input, rendered before the turn (`core/run-input.ts`); absent: no input. */
  input?: RunInputSpec;
  /** Limits that fail or pause the run when spent (`core/run-budget.ts`); absent: none. */
  budget?: RunBudget;
  /**
   * How a turn's output carries telemetry (`core/agent-streams/`): `overseer_event` lines, or an
   * agent CLI's own JSON Lines read by the adapter of that name. Absent: "overseer".
   */
  telemetry?: "overseer" | "claude-stream-json" | "codex-exec-json";
  /**
   * What a clean shutdown of the node does to a turn that is running: `interrupt` it (SIGTERM,
   * SIGKILL after the grace period; the run continues at its next turn on any node), or let it
   * `drain`: finish (within its turn timeout) and be recorded before the run is handed back.
   * Absent: interrupt.
   */
  onShutdown?: "interrupt" | "drain";
  /** Files of `cwd` Overseer reads before and after each turn, reporting their changes (`core/run-watch.ts`). */
  watch?: string[];
  /** Who answers the run's questions and approval requests, and when they time out; absent: `DEFAULT_RUN_APPROVALS`. */
  approvals?: RunApprovalSpec;
}

/** How the requests a run makes are decided (core/approval.ts has the rules). */
export interface RunApprovalSpec {
  /** Token names, `group:<name>`, `telegram:<id>`; empty: any operator. */
  approvers: string[];
  quorum: number;
  timeoutMs: number;
  onTimeout: OnTimeout;
  /** The title of an approval asked for before the first turn; absent: the first turn starts at once. */
  beforeFirstTurn?: string;
}

export const DEFAULT_RUN_APPROVALS: RunApprovalSpec = {
  approvers: [],
  quorum: 1,
  timeoutMs: 24 * 3_600_000,
  onTimeout: "deny",
};

/** The step of a run's request: the turn that asked, or the approval before the first turn. */
export function runApprovalStep(turn: number | null): string {
  return turn === null ? "before-first-turn" : `turn-${turn}`;
}

export interface RunCompletionRule {
  /** Relative to `cwd`: the run completes when this file appears (is created or touched) during a turn. */
  stopFile?: string;
  /** A regular expression (JavaScript syntax) matched against each output line. */
  pattern?: string;
  /** The run completes when a turn exits with this code. */
  exitCode?: number;
}

export type CompletionKind = "stop_file" | "pattern" | "exit_code";

export interface RunCompletion {
  detected: CompletionKind | null;
  /** The output line that matched, the stop file's path, or `exit code N`. */
  line: string | null;
  turn: number | null;
}

/** Why a run failed. Codes are listed in `RUN_FAILURE_CODES`. */
export interface RunError {
  code: RunFailureCode;
  message: string;
  retryable: boolean;
}

export const RUN_FAILURE_CODES = {
  RUN_MAX_TURNS: "The run used all its turns without meeting its completion rule.",
  RUN_TURN_TIMEOUT: "A turn ran longer than the profile's turn timeout and was stopped.",
  RUN_TURN_FAILED: "A turn exited with a non-zero code (or a signal) and the profile fails the run on that.",
  RUN_SPAWN_FAILED: "The command could not be started (not found, not executable, bad working directory).",
  RUN_BUDGET_EXCEEDED: "The run used the tokens or the cost its budget allows.",
  RUN_DEADLINE_EXCEEDED: "The run was still going at its budget's deadline.",
  RUN_NO_PROGRESS: "The run had its budget's number of turns in a row that changed no file and passed no more tests.",
} as const;

export type RunFailureCode = keyof typeof RUN_FAILURE_CODES;

export interface RunStats {
  /** Turns started, the current one included. */
  turns: number;
  tokens: { input: number; output: number };
  files: { read: number; written: number; deleted: number };
  /** Totals over every completed test run, and the latest one's counts. */
  tests: {
    runs: number;
    passed: number;
    failed: number;
    skipped: number;
    last: { passed: number; failed: number; skipped: number } | null;
  };
  /** Output bytes stored over all turns (telemetry lines excluded). */
  outputBytes: number;
  /** Turns in a row without progress (no file changed, no more tests passed), and the most tests a run passed. */
  progress: { idleTurns: number; bestPassed: number };
}

export function emptyRunStats(): RunStats {
  return {
    turns: 0,
    tokens: { input: 0, output: 0 },
    files: { read: 0, written: 0, deleted: 0 },
    tests: { runs: 0, passed: 0, failed: 0, skipped: 0, last: null },
    outputBytes: 0,
    progress: { idleTurns: 0, bestPassed: 0 },
  };
}

export interface Run {
  id: string;
  /** The profile it was started from, or `null` for an ad-hoc command. */
  profile: string | null;
  params: Record<string, unknown>;
  spec: RunSpec;
  state: RunState;
  /** Bumped by every write to the run. */
  version: number;
  /** Process id (= process group id) of the current turn's command, while one runs. */
  pid: number | null;
  /** The turn running now, or the last one; 0 before the first. */
  currentTurn: number;
  stats: RunStats;
  completion: RunCompletion;
  error: RunError | null;
  /** The supervisor holding the run's lease, if any. */
  workerId: string | null;
  /** Name of the token that started it (null from the SDK or CLI without a server). */
  createdBy: string | null;
  /** The finished run this one was started again from (`rerun`), if any. */
  rerunOf: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
}

/** A run's status at a glance: what `GET /runs/:id/status` answers and agents poll. */
export function runStatus(run: Run) {
  const { id, state, version, currentTurn, pid, stats, completion, error, updatedAt } = run;
  return { id, state, version, currentTurn, maxTurns: run.spec.maxTurns, pid, stats, completion, error, updatedAt };
}

export type RunTurnOutcome =
  /** Still running (or its supervisor died and nobody has noticed yet). */
  | "running"
  /** The command exited by itself; see `exitCode` / `signal`. */
  | "exited"
  /** Stopped because it ran past the turn timeout. */
  | "timed_out"
  /** Stopped by a cancel. */
  | "cancelled"
  /** Stopped by a clean shutdown of its node; the run continues at its next turn. */
  | "interrupted"
  /** Its node died; found by the node that took the run over. */
  | "lost"
  /** The command could not be started. */
  | "spawn_failed";

export interface RunTurn {
  runId: string;
  turn: number;
  outcome: RunTurnOutcome;
  exitCode: number | null;
  signal: string | null;
  pid: number | null;
  /** Host of the node that ran it, so a node taking the run over can find leftover processes. */
  host: string;
  workerId: string;
  /** Bytes of stored output. */
  outputBytes: number;
  startedAt: string;
  finishedAt: string | null;
}

/** A person's message to a run, handed to the first turn that starts after it (`{{messages}}` of its input). */
export interface RunMessage {
  id: string;
  runId: string;
  body: string;
  /** The token name that sent it; null from the SDK or a local CLI. */
  sentBy: string | null;
  createdAt: string;
  /** The turn whose input carried it; null while it waits for the next turn. */
  turn: number | null;
}

export const MAX_RUN_MESSAGE_CHARS = 8_000;
/** Messages that may wait for a run's next turn at once (RUN_TOO_MANY_MESSAGES past it). */
export const MAX_WAITING_RUN_MESSAGES = 50;
/** A run's messages listed: its newest ones. */
export const MAX_LISTED_RUN_MESSAGES = 500;

export interface NewRun {
  id: string;
  profile: string | null;
  params: Record<string, unknown>;
  spec: RunSpec;
  createdBy: string | null;
  rerunOf?: string | null;
  /** An approval to ask for before the first turn: the run is created `waiting` on it. */
  approval?: NewApproval;
}

export interface RunLease {
  runId: string;
  workerId: string;
  /** Fencing token: grows with every claim of the run; a stale token cannot write to it. */
  token: number;
  expiresAt: string;
}

export interface ClaimedRun {
  run: Run;
  lease: RunLease;
  /** Set when the run was taken over from a supervisor whose lease expired. */
  takeover: {
    previousWorkerId: string | null;
    /** The turn that was running when the previous supervisor vanished, now recorded as `lost`. */
    lostTurn: RunTurn | null;
  } | null;
}

/**
 * One write by the run's supervisor, in one transaction, fenced by its lease. Everything is
 * optional; `transition` is applied only if it is legal from the run's state at that moment.
 */
export interface RunUpdate {
  transition?: RunTransitionName;
  pid?: number | null;
  currentTurn?: number;
  stats?: RunStats;
  completion?: RunCompletion;
  error?: RunError | null;
  /** Inserts the turn's row (outcome `running`). */
  turnStarted?: { turn: number; pid: number | null; host: string };
  /** Closes the turn's row. */
  turnFinished?: {
    turn: number;
    outcome: Exclude<RunTurnOutcome, "running">;
    exitCode: number | null;
    signal: string | null;
  };
  /** Marks these waiting messages as given to this turn's input (with `turnStarted`). */
  messagesDelivered?: { turn: number; ids: string[] };
  /** Appends bytes to a turn's stored output; `offset` must equal the bytes already stored. */
  output?: { turn: number; offset: number; data: Buffer };
  /** Appended with the run's id. */
  events?: Array<{ kind: string; data?: Record<string, unknown> }>;
  /** Data for the event the transition appends (`by`, `reason`...). */
  transitionData?: Record<string, unknown>;
  /** With `transition: "ask"`: the request the run waits on, stored in the same transaction. */
  ask?: NewApproval;
}

export interface RunFilter {
  states?: readonly RunState[];
  profile?: string;
  /** Created at or after / before this time, epoch ms (`after` inclusive, `before` exclusive). */
  createdAfter?: number;
  createdBefore?: number;
  /** Newest first; pass the last id of a page to get the next. */
  beforeId?: string;
  limit?: number;
}

export interface RunControlRequest {
  action: "pause" | "resume" | "cancel";
  immediate?: boolean;
  expectedVersion?: number;
  /** Who asked (a token name), for the event. */
  by?: string | null;
}

/** The event each transition appends, in the same transaction as the state change. */
export const RUN_TRANSITION_EVENTS: Record<RunTransitionName, string> = {
  start: "run.started",
  ask: "run.waiting",
  askFirst: "run.waiting",
  answered: "run.answered",
  approvedToStart: "run.answered",
  deniedToStart: "run.cancelled",
  cancelWaiting: "run.cancelled",
  pause: "run.pause_requested",
  pauseNow: "run.paused",
  pausedAtTurnEnd: "run.paused",
  budgetPaused: "run.paused",
  resume: "run.resumed",
  cancel: "run.cancel_requested",
  cancelQueued: "run.cancelled",
  cancelled: "run.cancelled",
  complete: "run.completed",
  fail: "run.failed",
};

/** Every run event kind; `run.` + a telemetry kind for telemetry (custom ones as `run.custom`). */
export const RUN_EVENT_KINDS = [
  "run.queued",
  "run.started",
  "run.waiting",
  "run.answered",
  "run.pause_requested",
  "run.paused",
  "run.resumed",
  "run.cancel_requested",
  "run.cancelled",
  "run.completed",
  "run.failed",
  "run.taken_over",
  "run.released",
  "run.turn_started",
  "run.turn_finished",
  "run.turn_lost",
  "run.message_sent",
  "run.budget_exceeded",
  "run.output",
  "run.warning",
  "run.file_read",
  "run.file_written",
  "run.file_deleted",
  "run.log_updated",
  "run.test_run_started",
  "run.test_run_completed",
  "run.token_usage",
  "run.progress",
  "run.question",
  "run.approval_request",
  "run.custom",
] as const;

/** Events after which a run's stream has nothing more to say. */
export const RUN_TERMINAL_EVENTS: ReadonlySet<string> = new Set(["run.completed", "run.failed", "run.cancelled"]);
