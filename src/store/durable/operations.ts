/**
 * Durable handlers, written once for both backends (see ../tx.ts): steps, sleeps, signal waits
 * and signals, each verb one transaction. Decided by the pure functions of rows.ts. A job's
 * writes read its row locked and fenced by its lease (job id + token, running), as
 * `recordProgress` and `finish` are.
 *
 * A wait and a post of the same signal name take the same lock first, so neither is lost to the
 * other: on PostgreSQL an advisory lock, which under READ COMMITTED makes one see the other's
 * commit; on SQLite one writer at a time across every process on the file serialises them. A
 * signal posted while a job decides to wait is either taken by that wait or delivered to it.
 */
import type { NewSignal, SignalRecord, SignalWait, StepKind, StepRecord } from "../../core/durable.js";
import type { Lease } from "../../core/types.js";
import { deleteJobApprovals } from "../approvals/operations.js";
import { CANCEL_RUNNING_JOB, LOCK_LEASED_JOB, RECORD_ATTEMPT } from "../jobs/statements.js";
import { LOCK } from "../locks.js";
import { iso, type JobRow } from "../rows.js";
import type { Db, Op, Tx } from "../tx.js";
import {
  consumed,
  parkedEventData,
  parksOrCancels,
  type SignalRow,
  type StepRow,
  sleepEnd,
  sleepResult,
  toSignal,
  toStep,
  type WaitRow,
  waitDecision,
  waitToWake,
} from "./rows.js";
import * as q from "./statements.js";

export type WaitResult = { kind: "done"; step: StepRecord } | { kind: "parked"; until: string } | null;

export function* listJobSteps(db: Db, jobId: string): Op<StepRecord[]> {
  return (yield* db.rows<StepRow>(q.LIST_STEPS, [jobId])).map(toStep);
}

/** The stored step (the first write of a name wins); null if the lease is lost. */
export function* recordStep(
  tx: Tx,
  lease: Lease,
  step: { name: string; kind: StepKind; resultJson: string },
): Op<StepRecord | null> {
  if (!(yield* leased(tx, lease))) return null;
  return toStep(yield* putStep(tx, lease.jobId, step.name, step.kind, step.resultJson));
}

/** Parks the job until the sleep's end, unless it has passed; null if the lease is lost. */
export function* sleepJob(
  tx: Tx,
  lease: Lease,
  sleep: { step: string; delayMs?: number; until?: number },
): Op<{ parked: boolean; until: string } | null> {
  const job = yield* leased(tx, lease);
  if (!job) return null;
  const end = sleepEnd(yield* getStep(tx, lease.jobId, sleep.step), sleep, tx.at);
  if (end.store) yield* putStep(tx, lease.jobId, sleep.step, "sleep", sleepResult(end.until));
  if (end.until <= tx.at) return { parked: false, until: iso(end.until) };
  yield* park(tx, job, lease, sleep.step, "sleep", end.until);
  return { parked: true, until: iso(end.until) };
}

/** The wait's step if it is settled (or a kept signal settles it now), else the job parked on it. */
export function* waitForSignal(
  tx: Tx,
  lease: Lease,
  wait: Omit<SignalWait, "deadline"> & { timeoutMs: number },
): Op<WaitResult> {
  yield* tx.lock(LOCK.signals, wait.name);
  const job = yield* leased(tx, lease);
  if (!job) return null;
  const { jobId } = lease;
  const now = tx.at;
  const stored = yield* getStep(tx, jobId, wait.step);
  const waiting = yield* tx.one<WaitRow>(q.GET_WAIT, [jobId, wait.step]);
  // Read only when they can matter: no stored step, and no wait that has timed out.
  const signals =
    stored === undefined && (waiting === undefined || waiting.deadline > now)
      ? yield* tx.rows<SignalRow>(q.UNCONSUMED_SIGNALS, [wait.name, jobId])
      : [];
  const decision = waitDecision(stored, waiting, signals, wait.match, wait.timeoutMs, now);
  switch (decision.kind) {
    case "stored":
      return { kind: "done", step: toStep(decision.step) };
    case "timed_out": {
      yield* tx.run(q.DELETE_WAIT, [jobId, wait.step]);
      return { kind: "done", step: toStep(yield* putStep(tx, jobId, wait.step, "wait", "null")) };
    }
    case "consume": {
      const { signal } = decision;
      yield* tx.run(q.DELETE_WAIT, [jobId, wait.step]);
      yield* tx.run(q.CONSUME_SIGNAL, [signal.id, jobId, wait.step, now]);
      const step = yield* putStep(tx, jobId, wait.step, "wait", signal.payload);
      tx.event("job.signalled", jobId, lease.workerId, { step: wait.step, signalId: signal.id });
      return { kind: "done", step: toStep(step) };
    }
    case "park_again":
      yield* park(tx, job, lease, wait.step, "wait", decision.until);
      return { kind: "parked", until: iso(decision.until) };
    case "wait": {
      const match = wait.match === null ? null : JSON.stringify(wait.match);
      yield* tx.run(q.INSERT_WAIT, [jobId, wait.step, wait.name, match, decision.until, now]);
      yield* park(tx, job, lease, wait.step, "wait", decision.until);
      return { kind: "parked", until: iso(decision.until) };
    }
  }
}

/** Stores the signal and delivers it to the oldest job parked on a matching wait; `deliveredTo` is that job. */
export function* postSignal(tx: Tx, signal: NewSignal): Op<{ signal: SignalRecord; deliveredTo: string | null }> {
  yield* tx.lock(LOCK.signals, signal.name);
  const now = tx.at;
  let row: SignalRow = {
    id: signal.id,
    name: signal.name,
    payload: signal.payloadJson,
    job_id: signal.jobId,
    created_at: now,
    consumed_by_job: null,
    consumed_step: null,
    consumed_at: null,
  };
  let waits = yield* tx.rows<WaitRow>(q.PARKED_WAITS, [signal.name, signal.jobId, now]);
  for (;;) {
    const wait = waitToWake(waits, signal.payloadJson);
    if (wait === undefined) break;
    // On PostgreSQL the job may have been cancelled since the read: then the next matching wait
    // gets the signal. (On SQLite the wait read is the wait written: nothing writes in between.)
    if ((yield* tx.run(q.WAKE_JOB, [now, wait.job_id, wait.deadline])) !== 1) {
      waits = waits.filter((w) => w !== wait);
      continue;
    }
    row = consumed(row, wait.job_id, wait.step, now);
    yield* putStep(tx, wait.job_id, wait.step, "wait", signal.payloadJson);
    yield* tx.run(q.DELETE_WAIT, [wait.job_id, wait.step]);
    tx.event("job.signalled", wait.job_id, null, { step: wait.step, signalId: signal.id });
    // The job was queued: wake workers, so one claims it at once.
    tx.notify();
    break;
  }
  yield* tx.run(q.INSERT_SIGNAL, [
    row.id,
    row.name,
    row.payload,
    row.job_id,
    row.created_at,
    row.consumed_by_job,
    row.consumed_step,
    row.consumed_at,
  ]);
  const deliveredTo = row.consumed_by_job;
  tx.event("signal.received", null, null, { signalId: signal.id, name: signal.name, deliveredTo });
  return { signal: toSignal(row), deliveredTo };
}

/**
 * Deletes what a deleted job kept: its approval requests, steps, waits and undelivered signals
 * (call inside the transaction that deletes the job).
 */
export function* deleteJobDurables(tx: Tx, jobId: string): Op<void> {
  yield* deleteJobApprovals(tx, jobId);
  yield* tx.run(q.DELETE_JOB_STEPS, [jobId]);
  yield* tx.run(q.DELETE_JOB_WAITS, [jobId]);
  yield* tx.run(q.DELETE_JOB_SIGNALS, [jobId]);
}

function* leased(tx: Tx, lease: Lease): Op<JobRow | undefined> {
  return yield* tx.one<JobRow>(LOCK_LEASED_JOB, [lease.jobId, lease.token]);
}

function* getStep(tx: Tx, jobId: string, name: string): Op<StepRow | undefined> {
  return yield* tx.one<StepRow>(q.GET_STEP, [jobId, name]);
}

/** Stores the step unless stored already, and returns the stored one. */
function* putStep(tx: Tx, jobId: string, name: string, kind: StepKind, resultJson: string): Op<StepRow> {
  yield* tx.run(q.INSERT_STEP, [jobId, name, kind, resultJson, tx.at]);
  return (yield* getStep(tx, jobId, name)) as StepRow;
}

/**
 * Parks the leased (and locked) job until `until`, or cancels it if a cancel is pending, ending
 * its attempt. Wakes idle workers, so they recompute when the next scheduled job is due.
 */
function* park(tx: Tx, job: JobRow, lease: Lease, step: string, kind: "sleep" | "wait", until: number): Op<void> {
  const { jobId, token, workerId } = lease;
  tx.notify();
  if (parksOrCancels(job) === "cancel") {
    yield* tx.run(CANCEL_RUNNING_JOB, [tx.at, null, jobId, token]);
    yield* tx.run(RECORD_ATTEMPT, [tx.at, "cancelled", null, jobId, token, workerId]);
    tx.event("job.cancelled", jobId, workerId, { attempt: job.attempts, while: "running" });
    return;
  }
  yield* tx.run(q.PARK_JOB, [until, jobId, token]);
  yield* tx.run(RECORD_ATTEMPT, [tx.at, "parked", null, jobId, token, workerId]);
  tx.event("job.parked", jobId, workerId, parkedEventData(step, kind, until));
}
