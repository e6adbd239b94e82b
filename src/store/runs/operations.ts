/**
 * Runs, written once for both backends (see ../tx.ts): each verb is one transaction that reads
 * the run's row locked (FOR UPDATE on PostgreSQL; SQLite has one writer at a time, so the row read
 * at its start is the row it writes), decides with the pure functions of rows.ts and writes the
 * row back guarded by the version read. Claims skip runs another claimer holds, so two
 * supervisors never take the same run. A run's lease is only ever extended, used or given up by
 * its holder (owner + fencing token).
 */
import type { Approval } from "../../core/approval.js";
import { OverseerError, runNotFound } from "../../core/errors.js";
import {
  type ClaimedRun,
  MAX_LISTED_RUN_MESSAGES,
  MAX_WAITING_RUN_MESSAGES,
  type NewRun,
  RUN_TRANSITION_EVENTS,
  type Run,
  type RunControlRequest,
  type RunFilter,
  type RunLease,
  type RunMessage,
  type RunTurn,
  type RunUpdate,
} from "../../core/run.js";
import { takesMessages } from "../../core/run-input.js";
import { isFinishedRunState, type RunState, type RunTransitionName, TRANSITIONS } from "../../core/run-state.js";
import { type ApprovalRow, newApprovalRow, toApproval } from "../approvals/rows.js";
import { PENDING_OF_RUN } from "../approvals/statements.js";
import { cancelApproval, insertApproval } from "../approvals/writes.js";
import { type Db, inList, type Op, type Sql, type Tx } from "../tx.js";
import { checkVersion } from "../versions.js";
import {
  answerWrite,
  checkOutputOffset,
  claimWrite,
  controlWrite,
  emptyRunCounts,
  holds,
  leaseOf,
  newRunParams,
  type RunChanges,
  type RunEvent,
  type RunMessageRow,
  type RunRow,
  type RunTurnRow,
  releaseWrite,
  runChangeParams,
  runPageSize,
  sliceOutput,
  toRun,
  toRunMessage,
  toRunTurn,
  updateWrite,
} from "./rows.js";
import * as q from "./statements.js";

/**
 * Stores a queued run; supervisors are woken to claim it. With an approval to ask before the
 * first turn, the run is stored `waiting` on it instead, and the request with it.
 */
export function* createRun(tx: Tx, run: NewRun): Op<Run> {
  const row = yield* tx.one<RunRow>(q.INSERT_RUN, newRunParams(run, tx.at));
  if (!row) throw new Error("the insert returned no row");
  tx.event(
    "run.queued",
    null,
    null,
    { profile: run.profile, ...(run.rerunOf ? { rerunOf: run.rerunOf } : {}) },
    run.id,
  );
  if (run.approval !== undefined) {
    const approval = newApprovalRow({ runId: run.id }, run.approval, tx.at);
    const { from, to } = TRANSITIONS.askFirst;
    tx.event(RUN_TRANSITION_EVENTS.askFirst, null, null, { from: from[0], to, approvalId: approval.id }, run.id);
    yield* insertApproval(tx, approval, null);
  }
  tx.notify();
  return toRun(row);
}

export function* getRun(db: Db, id: string): Op<Run | null> {
  const row = yield* db.one<RunRow>(q.GET_RUN, [id]);
  return row ? toRun(row) : null;
}

export function* listRuns(db: Db, filter: RunFilter): Op<Run[]> {
  const { conditions, params, param } = runConditions(db, filter);
  if (filter.beforeId !== undefined) conditions.push(`id < ${param(filter.beforeId)}`);
  const limit = param(runPageSize(filter.limit));
  return (yield* db.rows<RunRow>(q.listRuns(conditions, limit), params)).map(toRun);
}

/** How many runs the filter matches (paging fields ignored), counting no further than `cap`. */
export function* countMatchingRuns(db: Db, filter: RunFilter, cap: number): Op<number> {
  const { conditions, params, param } = runConditions(db, filter);
  const limit = param(cap);
  return Number((yield* db.one<{ n: number | string }>(q.countMatchingRuns(conditions, limit), params))?.n ?? 0);
}

/** The filter's conditions, with their parameters so far and the function that adds one. */
function runConditions(db: Db, filter: RunFilter) {
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const conditions: Sql[] = [];
  if (filter.states && filter.states.length > 0) conditions.push(inList("state", param(db.list(filter.states))));
  if (filter.profile !== undefined) conditions.push(`profile = ${param(filter.profile)}`);
  if (filter.createdAfter !== undefined) conditions.push(`created_at >= ${param(filter.createdAfter)}`);
  if (filter.createdBefore !== undefined) conditions.push(`created_at < ${param(filter.createdBefore)}`);
  return { conditions, params, param };
}

export function* countRuns(db: Db): Op<Record<RunState, number>> {
  const counts = emptyRunCounts();
  for (const r of yield* db.rows<{ state: RunState; n: number }>(q.COUNT_RUNS)) counts[r.state] = r.n;
  return counts;
}

/** A person's pause, resume or cancel; every node is woken, as the run's supervisor may be on any. */
export function* controlRun(
  tx: Tx,
  id: string,
  request: RunControlRequest,
): Op<{ run: Run; transition: RunTransitionName }> {
  const row = yield* tx.one<RunRow>(q.LOCK_RUN, [id]);
  if (!row) throw runNotFound(id);
  checkVersion("run", id, row.version, request.expectedVersion);
  const { changes, events, transition } = controlWrite(row, request, tx.at);
  const run = yield* write(tx, row, changes, events);
  // Nobody can answer for a run that is gone.
  if (transition === "cancelWaiting") {
    for (const pending of yield* tx.rows<ApprovalRow>(PENDING_OF_RUN, [id])) {
      yield* cancelApproval(tx, toApproval(pending));
    }
  }
  tx.notify();
  return { run, transition };
}

/**
 * Hands on the run waiting on a request that was just settled (call inside the transaction that
 * settles it, with the run's row locked): see `answerWrite`. Supervisors are woken.
 */
export function* answerRun(tx: Tx, runId: string, approval: Approval): Op<void> {
  const row = yield* tx.one<RunRow>(q.LOCK_RUN, [runId]);
  const answer = row ? answerWrite(row, approval, tx.at) : null;
  if (!row || answer === null) return;
  yield* write(tx, row, answer.changes, answer.events);
  tx.notify();
}

/**
 * Whether a claim would find a run: a read, so a supervisor's idle looks need not open a write
 * transaction (on SQLite, take the file's write lock) just to find nothing.
 */
export function* anyRunClaimable(db: Db): Op<boolean> {
  return (yield* db.one(q.NEXT_CLAIMABLE, [yield* db.now()])) !== undefined;
}

export function* claimRun(tx: Tx, workerId: string, leaseMs: number): Op<ClaimedRun | null> {
  const row = yield* tx.one<RunRow>(q.NEXT_CLAIMABLE, [tx.at]);
  if (!row) return null;
  const lost =
    row.state === "queued" ? undefined : yield* tx.one<RunTurnRow>(q.LOSE_TURN, [row.id, row.current_turn, tx.at]);
  // A lost turn may never have read its messages: they go to the next one too.
  if (lost) yield* tx.run(q.RETURN_MESSAGES, [row.id, lost.turn]);
  const claim = claimWrite(row, workerId, leaseMs, tx.at, lost ? lost.turn : null);
  const run = yield* write(tx, row, claim.changes, claim.events);
  return {
    run,
    lease: leaseOf(run.id, claim.changes),
    takeover: claim.takeover ? { previousWorkerId: row.lease_owner, lostTurn: lost ? toRunTurn(lost) : null } : null,
  };
}

export function* heartbeatRun(tx: Tx, lease: RunLease, leaseMs: number): Op<Run | null> {
  const row = yield* tx.one<RunRow>(q.EXTEND_LEASE, [tx.at + leaseMs, lease.runId, lease.workerId, lease.token]);
  return row ? toRun(row) : null;
}

export function* updateRun(tx: Tx, lease: RunLease, update: RunUpdate): Op<Run | null> {
  const row = yield* tx.one<RunRow>(q.LOCK_RUN, [lease.runId]);
  if (!row || !holds(row, lease)) return null;
  // Decided before anything is written; a throw below rolls the whole update back anyway.
  const { changes, events } = updateWrite(row, lease, update, tx.at);
  if (update.ask !== undefined) {
    yield* insertApproval(tx, newApprovalRow({ runId: row.id }, update.ask, tx.at), lease.workerId);
  }
  if (update.turnStarted) {
    const t = update.turnStarted;
    yield* tx.run(q.INSERT_TURN, [row.id, t.turn, t.pid, t.host, lease.workerId, tx.at]);
  }
  if (update.messagesDelivered && update.messagesDelivered.ids.length > 0) {
    const m = update.messagesDelivered;
    yield* tx.run(q.DELIVER_MESSAGES, [m.turn, row.id, tx.list(m.ids)]);
  }
  if (update.output) yield* appendOutput(tx, row.id, update.output);
  if (update.turnFinished) {
    const t = update.turnFinished;
    yield* tx.run(q.FINISH_TURN, [row.id, t.turn, t.outcome, t.exitCode, t.signal, tx.at]);
    if (t.outcome === "interrupted" || t.outcome === "spawn_failed") yield* tx.run(q.RETURN_MESSAGES, [row.id, t.turn]);
  }
  return yield* write(tx, row, changes, events);
}

/** Whether the lease was held; given up, the run can be claimed at once, so supervisors are woken. */
export function* releaseRun(tx: Tx, lease: RunLease): Op<boolean> {
  const row = yield* tx.one<RunRow>(q.LOCK_RUN, [lease.runId]);
  if (!row || !holds(row, lease)) return false;
  const { changes, events } = releaseWrite(row, lease);
  yield* write(tx, row, changes, events);
  tx.notify();
  return true;
}

/**
 * Stores a person's message for the run's next turn. Refused for a run that has finished
 * (RUN_FINISHED) and for one whose input never shows messages (RUN_TAKES_NO_MESSAGES): a message
 * stored there would never reach anyone. The run's row is locked, so a run cannot finish between
 * the check and the insert.
 */
export function* sendRunMessage(
  tx: Tx,
  message: { id: string; runId: string; body: string; sentBy: string | null },
): Op<RunMessage> {
  const row = yield* tx.one<RunRow>(q.LOCK_RUN, [message.runId]);
  if (!row) throw runNotFound(message.runId);
  if (isFinishedRunState(row.state)) {
    throw new OverseerError("RUN_FINISHED", `run ${row.id} is ${row.state}: no turn will read a message`, {
      id: row.id,
      state: row.state,
    });
  }
  if (!takesMessages(toRun(row).spec.input)) {
    throw new OverseerError(
      "RUN_TAKES_NO_MESSAGES",
      `run ${row.id} cannot take messages: its input template has no {{messages}}`,
      { id: row.id, profile: row.profile },
    );
  }
  const waiting = yield* tx.rows<RunMessageRow>(q.WAITING_MESSAGES, [row.id, MAX_WAITING_RUN_MESSAGES]);
  if (waiting.length >= MAX_WAITING_RUN_MESSAGES) {
    throw new OverseerError(
      "RUN_TOO_MANY_MESSAGES",
      `run ${row.id} already has ${MAX_WAITING_RUN_MESSAGES} messages waiting for its next turn`,
      { id: row.id, waiting: waiting.length },
    );
  }
  const stored = yield* tx.one<RunMessageRow>(q.INSERT_MESSAGE, [
    message.id,
    message.runId,
    message.body,
    message.sentBy,
    tx.at,
  ]);
  if (!stored) throw new Error("the insert returned no row");
  tx.event("run.message_sent", null, null, { messageId: message.id, by: message.sentBy }, row.id);
  return toRunMessage(stored);
}

/** A run's last MAX_LISTED_RUN_MESSAGES messages, oldest first, each with the turn that got it (null while waiting). */
export function* listRunMessages(db: Db, runId: string): Op<RunMessage[]> {
  return (yield* db.rows<RunMessageRow>(q.LIST_MESSAGES, [runId, MAX_LISTED_RUN_MESSAGES])).map(toRunMessage).reverse();
}

/** The messages waiting for the run's next turn, oldest first. */
export function* waitingRunMessages(db: Db, runId: string): Op<RunMessage[]> {
  return (yield* db.rows<RunMessageRow>(q.WAITING_MESSAGES, [runId, MAX_WAITING_RUN_MESSAGES])).map(toRunMessage);
}

/** The ids of the runs started again from this one, oldest first. */
export function* listReruns(db: Db, runId: string): Op<string[]> {
  return (yield* db.rows<{ id: string }>(q.LIST_RERUNS, [runId])).map((r) => r.id);
}

export function* listRunTurns(db: Db, runId: string): Op<RunTurn[]> {
  return (yield* db.rows<RunTurnRow>(q.LIST_TURNS, [runId])).map(toRunTurn);
}

/** Bytes [start, end) of a turn's stored output; a reader streams a long output one such range at a time. */
export function* readRunOutput(
  db: Db,
  runId: string,
  turn: number,
  start: number,
  end: number | undefined,
): Op<{ data: Buffer; size: number } | null> {
  const row = yield* db.one<RunTurnRow>(q.GET_TURN, [runId, turn]);
  if (!row) return null;
  const size = row.output_bytes;
  const to = Math.min(size, end ?? size);
  if (start >= to) return { data: Buffer.alloc(0), size };
  const chunks = yield* db.rows<{ offset: number; data: Buffer }>(q.READ_OUTPUT, [runId, turn, start, to]);
  return { data: sliceOutput(chunks, size, start, to), size };
}

/** Writes the run's changed row and appends its events, with the run's id. */
function* write(tx: Tx, row: RunRow, changes: RunChanges, events: readonly RunEvent[]): Op<Run> {
  const updated = yield* tx.one<RunRow>(q.UPDATE_RUN, [...runChangeParams(changes), tx.at, row.id, row.version]);
  if (!updated) throw new Error(`run ${row.id} changed under its write transaction`);
  for (const e of events) tx.event(e.kind, null, e.workerId, e.data, row.id);
  return toRun(updated);
}

function* appendOutput(tx: Tx, runId: string, output: NonNullable<RunUpdate["output"]>): Op<void> {
  const turn = yield* tx.one<RunTurnRow>(q.GET_TURN, [runId, output.turn]);
  checkOutputOffset(runId, output.turn, turn?.output_bytes, output.offset);
  if (output.data.length === 0) return;
  yield* tx.run(q.INSERT_OUTPUT, [runId, output.turn, output.offset, output.data]);
  yield* tx.run(q.ADD_OUTPUT_BYTES, [runId, output.turn, output.data.length]);
}
