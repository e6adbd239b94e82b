/**
 * Runs as both backends store them (same tables and columns; times in epoch ms, JSON as TEXT),
 * their mapping to the records the API sees, and the decisions every run write shares: what a
 * claim, a control request, a supervisor's update or a release makes of a run's row. Pure: the
 * operations (operations.ts) read the row in their transaction, call these with the
 * transaction's `now`, and write what comes back.
 */
import type { Approval, ApprovalOutcome } from "../../core/approval.js";
import { OverseerError } from "../../core/errors.js";
import { assertEventKind } from "../../core/events.js";
import {
  emptyRunStats,
  type NewRun,
  RUN_TRANSITION_EVENTS,
  type Run,
  type RunCompletion,
  type RunControlRequest,
  type RunError,
  type RunLease,
  type RunMessage,
  type RunSpec,
  type RunStats,
  type RunTurn,
  type RunTurnOutcome,
  type RunUpdate,
  runApprovalStep,
} from "../../core/run.js";
import {
  canTransition,
  controlAction,
  isFinishedRunState,
  RUN_STATES,
  type RunState,
  type RunTransitionName,
  runControlError,
  TRANSITIONS,
} from "../../core/run-state.js";
import { iso } from "../rows.js";

export interface RunRow {
  id: string;
  profile: string | null;
  params: string;
  spec: string;
  state: RunState;
  version: number;
  pid: number | null;
  current_turn: number;
  stats: string;
  completion: string;
  error: string | null;
  lease_owner: string | null;
  lease_token: number;
  lease_expires_at: number | null;
  created_by: string | null;
  rerun_of: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

export interface RunTurnRow {
  run_id: string;
  turn: number;
  outcome: RunTurnOutcome;
  exit_code: number | null;
  signal: string | null;
  pid: number | null;
  host: string;
  worker_id: string;
  output_bytes: number;
  started_at: number;
  finished_at: number | null;
}

/** States whose run has been started and not finished: a supervisor holds (or should hold) its lease. */
export const STARTED_RUN_STATES: readonly RunState[] = ["running", "pausing", "paused", "cancelling"];

/** `listRuns` page size when none is given, and the most one call returns. */
export const DEFAULT_RUN_PAGE = 50;
export const MAX_RUN_PAGE = 1_000;

const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export function toRun(r: RunRow): Run {
  return {
    id: r.id,
    profile: r.profile,
    params: JSON.parse(r.params) as Record<string, unknown>,
    spec: JSON.parse(r.spec) as RunSpec,
    state: r.state,
    version: r.version,
    pid: r.pid,
    currentTurn: r.current_turn,
    // Runs stored before progress was tracked have none: they start from no idle turns.
    stats: { ...emptyRunStats(), ...(JSON.parse(r.stats) as Partial<RunStats>) },
    completion: JSON.parse(r.completion) as RunCompletion,
    error: r.error === null ? null : (JSON.parse(r.error) as RunError),
    workerId: r.lease_owner,
    createdBy: r.created_by,
    rerunOf: r.rerun_of,
    createdAt: iso(r.created_at),
    startedAt: isoOrNull(r.started_at),
    finishedAt: isoOrNull(r.finished_at),
    updatedAt: iso(r.updated_at),
  };
}

export interface RunMessageRow {
  id: string;
  run_id: string;
  body: string;
  sent_by: string | null;
  created_at: number;
  turn: number | null;
}

export function toRunMessage(r: RunMessageRow): RunMessage {
  return {
    id: r.id,
    runId: r.run_id,
    body: r.body,
    sentBy: r.sent_by,
    createdAt: iso(Number(r.created_at)),
    turn: r.turn === null ? null : Number(r.turn),
  };
}

export function toRunTurn(r: RunTurnRow): RunTurn {
  return {
    runId: r.run_id,
    turn: r.turn,
    outcome: r.outcome,
    exitCode: r.exit_code,
    signal: r.signal,
    pid: r.pid,
    host: r.host,
    workerId: r.worker_id,
    outputBytes: r.output_bytes,
    startedAt: iso(r.started_at),
    finishedAt: isoOrNull(r.finished_at),
  };
}

export function emptyRunCounts(): Record<RunState, number> {
  return Object.fromEntries(RUN_STATES.map((s) => [s, 0])) as Record<RunState, number>;
}

export function runPageSize(limit: number | undefined): number {
  return Math.max(1, Math.min(MAX_RUN_PAGE, Math.trunc(limit ?? DEFAULT_RUN_PAGE)));
}

/** A new run's values, in NEW_RUN_COLUMNS order. */
export const NEW_RUN_COLUMNS = [
  "id",
  "profile",
  "params",
  "spec",
  "state",
  "stats",
  "completion",
  "created_by",
  "rerun_of",
  "created_at",
  "updated_at",
] as const;

/** A new run's values: `queued`, or `waiting` on the approval its profile asks before the first turn. */
export function newRunParams(run: NewRun, now: number): unknown[] {
  const completion: RunCompletion = { detected: null, line: null, turn: null };
  return [
    run.id,
    run.profile,
    JSON.stringify(run.params),
    JSON.stringify(run.spec),
    run.approval === undefined ? "queued" : TRANSITIONS.askFirst.to,
    JSON.stringify(emptyRunStats()),
    JSON.stringify(completion),
    run.createdBy,
    run.rerunOf ?? null,
    now,
    now,
  ];
}

/** The columns a run write may change, in the order UPDATE_RUN binds them, after which come `now`, the id and the version read. */
export const RUN_CHANGE_COLUMNS = [
  "state",
  "pid",
  "current_turn",
  "stats",
  "completion",
  "error",
  "lease_owner",
  "lease_token",
  "lease_expires_at",
  "started_at",
  "finished_at",
] as const satisfies ReadonlyArray<keyof RunRow>;

/**
 * Those columns as the row will hold them. Every run write is "read the row, compute this, write
 * it back guarded by the version read", so the version bump, `updated_at` and the finished-run
 * invariants live here once.
 */
export type RunChanges = Pick<RunRow, (typeof RUN_CHANGE_COLUMNS)[number]>;

export function unchanged(r: RunRow): RunChanges {
  return {
    state: r.state,
    pid: r.pid,
    current_turn: r.current_turn,
    stats: r.stats,
    completion: r.completion,
    error: r.error,
    lease_owner: r.lease_owner,
    lease_token: r.lease_token,
    lease_expires_at: r.lease_expires_at,
    started_at: r.started_at,
    finished_at: r.finished_at,
  };
}

export function runChangeParams(c: RunChanges): unknown[] {
  return RUN_CHANGE_COLUMNS.map((column) => c[column]);
}

/**
 * Moves `c` into the transition's state. A finished run has no process and no lease; nor has a
 * run waiting for an answer, nor one the answer hands on (whichever supervisor claims it next).
 */
function enter(c: RunChanges, transition: RunTransitionName, now: number): RunChanges {
  const to: RunState = TRANSITIONS[transition].to;
  const next = { ...c, state: to };
  if (transition === "start") next.started_at = now;
  if (isFinishedRunState(to)) next.finished_at = now;
  if (isFinishedRunState(to) || to === "waiting" || transition === "answered") {
    next.pid = null;
    next.lease_owner = null;
    next.lease_expires_at = null;
  }
  return next;
}

/** An event a run write appends, with the run's id. */
export interface RunEvent {
  kind: string;
  workerId: string | null;
  data: Record<string, unknown>;
}

export interface RunWrite {
  changes: RunChanges;
  events: RunEvent[];
}

/** A person's pause, resume or cancel: the transition or a refusal (RUN_INVALID_TRANSITION). */
export function controlWrite(
  r: RunRow,
  request: RunControlRequest,
  now: number,
): RunWrite & { transition: RunTransitionName } {
  const decision = controlAction(r.state, request.action, { immediate: request.immediate });
  if (!decision.ok) throw runControlError(decision);
  const data: Record<string, unknown> = { from: decision.from, to: decision.to, by: request.by ?? null };
  if (request.immediate !== undefined) data.immediate = request.immediate;
  return {
    transition: decision.transition,
    changes: enter(unchanged(r), decision.transition, now),
    events: [{ kind: RUN_TRANSITION_EVENTS[decision.transition], workerId: r.lease_owner, data }],
  };
}

/**
 * A claim of a queued run (`start`), of a released one (taken up again, no event), or a
 * takeover of a started one whose lease expired. `lostTurn` is the turn still `running` under the previous supervisor, which the
 * caller closes as `lost`.
 */
export function claimWrite(
  r: RunRow,
  workerId: string,
  leaseMs: number,
  now: number,
  lostTurn: number | null,
): RunWrite & { takeover: boolean } {
  const leased: RunChanges = {
    ...unchanged(r),
    lease_owner: workerId,
    lease_token: r.lease_token + 1,
    lease_expires_at: now + leaseMs,
  };
  if (r.state === "queued") {
    return {
      takeover: false,
      changes: enter(leased, "start", now),
      events: [{ kind: RUN_TRANSITION_EVENTS.start, workerId, data: { from: "queued", to: "running" } }],
    };
  }
  const previousWorkerId = r.lease_owner;
  // A released run (shutdown, or a pause between turns) is simply taken up again.
  if (previousWorkerId === null) return { takeover: false, changes: { ...leased, pid: null }, events: [] };
  const events: RunEvent[] = [];
  if (lostTurn !== null) events.push({ kind: "run.turn_lost", workerId, data: { turn: lostTurn, previousWorkerId } });
  events.push({ kind: "run.taken_over", workerId, data: { previousWorkerId, lostTurn } });
  return { takeover: true, changes: { ...leased, pid: null }, events };
}

/**
 * What a settled request does to the run waiting on it: an answer hands a started run on (any
 * supervisor takes it up at its next turn); the approval before the first turn queues the run,
 * or, denied, cancels it. Null when the run is not waiting (nothing to hand on).
 */
export function answerWrite(
  r: RunRow,
  approval: Approval,
  now: number,
): (RunWrite & { transition: RunTransitionName }) | null {
  if (r.state !== "waiting") return null;
  const outcome = approval.outcome as ApprovalOutcome;
  const transition: RunTransitionName =
    approval.step !== runApprovalStep(null) ? "answered" : outcome.approved ? "approvedToStart" : "deniedToStart";
  const data = {
    from: r.state,
    to: TRANSITIONS[transition].to,
    approvalId: approval.id,
    approved: outcome.approved,
    by: outcome.decidedBy,
    reason: outcome.reason,
    timedOut: outcome.timedOut,
  };
  return {
    transition,
    changes: enter(unchanged(r), transition, now),
    events: [{ kind: RUN_TRANSITION_EVENTS[transition], workerId: null, data }],
  };
}

/** Whether `lease` is the run's current lease (its holder and fencing token). */
export function holds(r: RunRow, lease: RunLease): boolean {
  return r.lease_owner === lease.workerId && r.lease_token === lease.token && !isFinishedRunState(r.state);
}

/**
 * The run's own columns after a supervisor's update, and the transition's event (appended after
 * the update's own events). RUN_INVALID_TRANSITION when the transition is not legal from the
 * run's state (a person's control request came first); UNKNOWN_EVENT_KIND for an unregistered
 * event kind, as `appendEvents`.
 */
export function updateWrite(r: RunRow, lease: RunLease, update: RunUpdate, now: number): RunWrite {
  const transition = update.transition;
  if (transition !== undefined && !canTransition(transition, r.state)) {
    throw new OverseerError(
      "RUN_INVALID_TRANSITION",
      `cannot apply ${transition} to run ${r.id}: it is ${r.state} (allowed from ${TRANSITIONS[transition].from.join(", ")})`,
      { id: r.id, state: r.state, transition },
    );
  }
  // A run waits on its request: one without the other would wait forever, or ask for nothing.
  if ((transition === "ask") !== (update.ask !== undefined)) {
    throw new OverseerError("INVALID_ARGUMENT", `run ${r.id}: the ask transition and its request go together`, {
      id: r.id,
      field: "ask",
    });
  }
  for (const e of update.events ?? []) assertEventKind(e.kind);
  let c = unchanged(r);
  if (update.pid !== undefined) c.pid = update.pid;
  if (update.currentTurn !== undefined) c.current_turn = update.currentTurn;
  if (update.stats !== undefined) c.stats = JSON.stringify(update.stats);
  if (update.completion !== undefined) c.completion = JSON.stringify(update.completion);
  if (update.error !== undefined) c.error = update.error === null ? null : JSON.stringify(update.error);
  const events: RunEvent[] = (update.events ?? []).map((e) => ({
    kind: e.kind,
    workerId: lease.workerId,
    data: e.data ?? {},
  }));
  if (transition !== undefined) {
    c = enter(c, transition, now);
    events.push({
      kind: RUN_TRANSITION_EVENTS[transition],
      workerId: lease.workerId,
      data: { from: r.state, to: c.state, ...update.transitionData },
    });
  }
  return { changes: c, events };
}

/** Shutdown hands the run back: same state, no lease, no process; any node may claim it at once. */
export function releaseWrite(r: RunRow, lease: RunLease): RunWrite {
  return {
    changes: { ...unchanged(r), lease_owner: null, lease_expires_at: null, pid: null },
    events: [{ kind: "run.released", workerId: lease.workerId, data: { turn: r.current_turn } }],
  };
}

/** An output chunk must continue the turn's stored output exactly. */
export function checkOutputOffset(runId: string, turn: number, stored: number | undefined, offset: number): void {
  if (stored === undefined) {
    throw new OverseerError("INVALID_ARGUMENT", `run ${runId} has no turn ${turn} to append output to`, {
      id: runId,
      turn,
    });
  }
  if (offset !== stored) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `output for run ${runId} turn ${turn} must be appended at offset ${stored}, not ${offset}`,
      { id: runId, turn, offset, expectedOffset: stored },
    );
  }
}

/** Bytes [start, end) of a turn's output from the chunks that overlap it, `end` clamped to `size`. */
export function sliceOutput(
  chunks: ReadonlyArray<{ offset: number; data: Buffer | Uint8Array }>,
  size: number,
  start: number,
  end: number | undefined,
): Buffer {
  const from = Math.max(0, start);
  const to = Math.min(size, end ?? size);
  if (to <= from) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for (const chunk of chunks) {
    const data = Buffer.isBuffer(chunk.data) ? chunk.data : Buffer.from(chunk.data);
    const lo = Math.max(from, chunk.offset);
    const hi = Math.min(to, chunk.offset + data.length);
    if (hi > lo) parts.push(data.subarray(lo - chunk.offset, hi - chunk.offset));
  }
  return Buffer.concat(parts);
}

/** The lease a claim's changes grant. */
export function leaseOf(runId: string, c: RunChanges): RunLease {
  return { runId, workerId: c.lease_owner ?? "", token: c.lease_token, expiresAt: iso(c.lease_expires_at ?? 0) };
}
