/**
 * Durable handlers in the SQLite store: steps, sleeps, signal waits and signals. Each verb is one
 * write transaction, and SQLite has one writer at a time across every process on the file, so a
 * wait and a signal posted at the same moment are serialised: one sees the other, and a signal
 * is never lost between them. A job's writes are fenced by its lease (job id + token, running),
 * as `recordProgress` and `finish` are. Decided by the shared functions of `durable-rows.ts`.
 */
import type { NewSignal, SignalRecord, SignalWait, StepKind, StepRecord } from "../../core/durable.js";
import { TRANSITIONS } from "../../core/job-state.js";
import type { Lease } from "../../core/types.js";
import { deleteJobApprovals } from "../approvals/operations.js";
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
} from "../durable-rows.js";
import { iso, type JobRow } from "../rows.js";
import { runSync } from "../tx.js";
import type { SqliteConnection } from "./connection.js";
import { SqliteTx } from "./sqlite-tx.js";
import * as sql from "./statements.js";

/** ?1 job id, ?2 token: the job, if this lease still runs it. */
const LEASED_JOB = "SELECT * FROM jobs WHERE id = ?1 AND lease_token = ?2 AND state = 'running'";

/** ?1 job id. */
const LIST_STEPS = "SELECT * FROM job_steps WHERE job_id = ?1 ORDER BY created_at, name";

/** ?1 job id, ?2 name. */
const GET_STEP = "SELECT * FROM job_steps WHERE job_id = ?1 AND name = ?2";

/** ?1 job id, ?2 name, ?3 kind, ?4 result JSON, ?5 now. The first write of a name wins. */
const INSERT_STEP = `
INSERT INTO job_steps (job_id, name, kind, result, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (job_id, name) DO NOTHING`;

/** ?1 until, ?2 job id, ?3 token. The parked attempt is given back: max attempts + 1. */
const PARK_JOB = `
UPDATE jobs SET state = '${TRANSITIONS.park.to}', run_at = ?1, lease_owner = NULL, lease_expires_at = NULL,
  max_attempts = max_attempts + 1, version = version + 1
WHERE id = ?2 AND lease_token = ?3 AND state = '${TRANSITIONS.park.from[0]}'
RETURNING attempts`;

/** ?1 now, ?2 job id, ?3 the wait's deadline: the job is still parked on that wait. */
const WAKE_JOB = `
UPDATE jobs SET state = '${TRANSITIONS.promote.to}', run_at = ?1, version = version + 1
WHERE id = ?2 AND state = '${TRANSITIONS.promote.from[0]}' AND run_at = ?3`;

/** ?1 job id, ?2 step. */
const GET_WAIT = "SELECT * FROM job_waits WHERE job_id = ?1 AND step = ?2";

/** ?1 job id, ?2 step, ?3 signal name, ?4 match JSON or NULL, ?5 deadline, ?6 now. */
const INSERT_WAIT = `
INSERT INTO job_waits (job_id, step, name, "match", deadline, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)`;

/** ?1 job id, ?2 step. */
const DELETE_WAIT = "DELETE FROM job_waits WHERE job_id = ?1 AND step = ?2";

/**
 * ?1 name, ?2 job id or NULL, ?3 now: waits of this name whose job is parked on them (scheduled
 * until exactly the wait's deadline, still ahead), oldest first. A wait row left by a job that
 * was cancelled, or that runs or waits for a retry, does not take the signal.
 */
const PARKED_WAITS = `
SELECT w.* FROM job_waits w JOIN jobs j ON j.id = w.job_id
WHERE w.name = ?1 AND (?2 IS NULL OR w.job_id = ?2) AND w.deadline > ?3
  AND j.state = '${TRANSITIONS.promote.from[0]}' AND j.run_at = w.deadline
ORDER BY w.created_at, w.job_id`;

/** ?1 name, ?2 job id: unconsumed signals of this name for this job or for any, oldest first. */
const UNCONSUMED_SIGNALS = `
SELECT * FROM signals WHERE name = ?1 AND consumed_at IS NULL AND (job_id IS NULL OR job_id = ?2)
ORDER BY created_at, id`;

/** ?1-?8: a signal row, in column order. */
const INSERT_SIGNAL = `
INSERT INTO signals (id, name, payload, job_id, created_at, consumed_by_job, consumed_step, consumed_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)`;

/** ?1 signal id, ?2 job id, ?3 step, ?4 now. */
const CONSUME_SIGNAL = `
UPDATE signals SET consumed_by_job = ?2, consumed_step = ?3, consumed_at = ?4 WHERE id = ?1 AND consumed_at IS NULL`;

/** ?1 job id: a deleted job's steps, waits, and the signals only it could have taken. */
const DELETE_JOB_STEPS = "DELETE FROM job_steps WHERE job_id = ?1";
const DELETE_JOB_WAITS = "DELETE FROM job_waits WHERE job_id = ?1";
const DELETE_JOB_SIGNALS = "DELETE FROM signals WHERE job_id = ?1 AND consumed_at IS NULL";

export function listJobSteps(conn: SqliteConnection, jobId: string): StepRecord[] {
  return (conn.stmt(LIST_STEPS).all(jobId) as StepRow[]).map(toStep);
}

export function recordStep(
  conn: SqliteConnection,
  lease: Lease,
  step: { name: string; kind: StepKind; resultJson: string },
): StepRecord | null {
  return conn.write(() => {
    const now = conn.clock();
    if (!leased(conn, lease)) return null;
    return toStep(putStep(conn, lease.jobId, step.name, step.kind, step.resultJson, now));
  });
}

export function sleepJob(
  conn: SqliteConnection,
  lease: Lease,
  sleep: { step: string; delayMs?: number; until?: number },
): { parked: boolean; until: string } | null {
  return conn.write(() => {
    const now = conn.clock();
    const job = leased(conn, lease);
    if (!job) return null;
    const end = sleepEnd(getStep(conn, lease.jobId, sleep.step), sleep, now);
    if (end.store) putStep(conn, lease.jobId, sleep.step, "sleep", sleepResult(end.until), now);
    if (end.until <= now) return { parked: false, until: iso(end.until) };
    park(conn, job, lease, sleep.step, "sleep", end.until, now);
    return { parked: true, until: iso(end.until) };
  });
}

export function waitForSignal(
  conn: SqliteConnection,
  lease: Lease,
  wait: Omit<SignalWait, "deadline"> & { timeoutMs: number },
): { kind: "done"; step: StepRecord } | { kind: "parked"; until: string } | null {
  return conn.write(() => {
    const now = conn.clock();
    const job = leased(conn, lease);
    if (!job) return null;
    const { jobId } = lease;
    const stored = getStep(conn, jobId, wait.step);
    const waiting = conn.stmt(GET_WAIT).get(jobId, wait.step) as WaitRow | undefined;
    // Read only when they can matter: no stored step, and no wait that has timed out.
    const signals =
      stored === undefined && (waiting === undefined || waiting.deadline > now)
        ? (conn.stmt(UNCONSUMED_SIGNALS).all(wait.name, jobId) as SignalRow[])
        : [];
    const decision = waitDecision(stored, waiting, signals, wait.match, wait.timeoutMs, now);
    switch (decision.kind) {
      case "stored":
        return { kind: "done", step: toStep(decision.step) };
      case "timed_out": {
        conn.stmt(DELETE_WAIT).run(jobId, wait.step);
        return { kind: "done", step: toStep(putStep(conn, jobId, wait.step, "wait", "null", now)) };
      }
      case "consume": {
        const { signal } = decision;
        conn.stmt(DELETE_WAIT).run(jobId, wait.step);
        conn.stmt(CONSUME_SIGNAL).run(signal.id, jobId, wait.step, now);
        const step = putStep(conn, jobId, wait.step, "wait", signal.payload, now);
        conn.event(now, "job.signalled", jobId, lease.workerId, { step: wait.step, signalId: signal.id });
        return { kind: "done", step: toStep(step) };
      }
      case "park_again":
        park(conn, job, lease, wait.step, "wait", decision.until, now);
        return { kind: "parked", until: iso(decision.until) };
      case "wait": {
        const match = wait.match === null ? null : JSON.stringify(wait.match);
        conn.stmt(INSERT_WAIT).run(jobId, wait.step, wait.name, match, decision.until, now);
        park(conn, job, lease, wait.step, "wait", decision.until, now);
        return { kind: "parked", until: iso(decision.until) };
      }
    }
  });
}

/** Stores the signal and delivers it to the oldest job parked on a matching wait; `deliveredTo` is that job. */
export function postSignal(
  conn: SqliteConnection,
  signal: NewSignal,
): { signal: SignalRecord; deliveredTo: string | null } {
  return conn.write(() => {
    const now = conn.clock();
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
    const waits = conn.stmt(PARKED_WAITS).all(signal.name, signal.jobId, now) as WaitRow[];
    const wait = waitToWake(waits, signal.payloadJson);
    // One writer at a time: the wait read above is the wait written below.
    if (wait !== undefined && conn.stmt(WAKE_JOB).run(now, wait.job_id, wait.deadline).changes === 1) {
      row = consumed(row, wait.job_id, wait.step, now);
      putStep(conn, wait.job_id, wait.step, "wait", signal.payloadJson, now);
      conn.stmt(DELETE_WAIT).run(wait.job_id, wait.step);
      conn.event(now, "job.signalled", wait.job_id, null, { step: wait.step, signalId: signal.id });
    }
    conn
      .stmt(INSERT_SIGNAL)
      .run(
        row.id,
        row.name,
        row.payload,
        row.job_id,
        row.created_at,
        row.consumed_by_job,
        row.consumed_step,
        row.consumed_at,
      );
    const deliveredTo = row.consumed_by_job;
    conn.event(now, "signal.received", null, null, { signalId: signal.id, name: signal.name, deliveredTo });
    return { signal: toSignal(row), deliveredTo };
  });
}

/** Deletes what a deleted job kept (call inside the transaction that deletes the job). */
export function deleteJobDurables(conn: SqliteConnection, jobId: string): void {
  runSync(deleteJobApprovals(new SqliteTx(conn, conn.clock()), jobId));
  conn.stmt(DELETE_JOB_STEPS).run(jobId);
  conn.stmt(DELETE_JOB_WAITS).run(jobId);
  conn.stmt(DELETE_JOB_SIGNALS).run(jobId);
}

function leased(conn: SqliteConnection, lease: Lease): JobRow | undefined {
  return conn.stmt(LEASED_JOB).get(lease.jobId, lease.token) as JobRow | undefined;
}

function getStep(conn: SqliteConnection, jobId: string, name: string): StepRow | undefined {
  return conn.stmt(GET_STEP).get(jobId, name) as StepRow | undefined;
}

/** Stores the step unless stored already, and returns the stored one. */
function putStep(
  conn: SqliteConnection,
  jobId: string,
  name: string,
  kind: StepKind,
  resultJson: string,
  now: number,
): StepRow {
  conn.stmt(INSERT_STEP).run(jobId, name, kind, resultJson, now);
  return getStep(conn, jobId, name) as StepRow;
}

/** Parks the leased job until `until` (or cancels it, if a cancel is pending), ending its attempt. */
function park(
  conn: SqliteConnection,
  job: JobRow,
  lease: Lease,
  step: string,
  kind: "sleep" | "wait",
  until: number,
  now: number,
): void {
  const { jobId, token, workerId } = lease;
  if (parksOrCancels(job) === "cancel") {
    conn.stmt(sql.CANCEL_RUNNING_JOB).run(now, null, jobId, token);
    conn.stmt(sql.FINISH_ATTEMPT).run(now, "cancelled", null, jobId, token);
    conn.event(now, "job.cancelled", jobId, workerId, { attempt: job.attempts, while: "running" });
    return;
  }
  conn.stmt(PARK_JOB).run(until, jobId, token);
  conn.stmt(sql.FINISH_ATTEMPT).run(now, "parked", null, jobId, token);
  conn.event(now, "job.parked", jobId, workerId, parkedEventData(step, kind, until));
}
