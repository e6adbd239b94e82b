/**
 * Durable handlers in the PostgreSQL store, as in SQLite's durable.ts: steps, sleeps, signal
 * waits and signals, each verb one transaction. A job's writes read its row locked (FOR UPDATE)
 * and fenced by its lease (job id + token, running). A wait and a post of the same signal name
 * take the same advisory lock first, so under READ COMMITTED one still sees the other's commit:
 * a signal posted while a job decides to wait is either taken by that wait or delivered to it.
 * Decided by the shared functions of `durable-rows.ts`.
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
import { runAsync } from "../tx.js";
import { LOCK, type PgConnection, type Tx } from "./connection.js";
import { PgTx } from "./pg-tx.js";
import * as sql from "./statements.js";

/** $1 job id, $2 token: the job, locked, if this lease still runs it. */
const LEASED_JOB = "SELECT * FROM jobs WHERE id = $1 AND lease_token = $2 AND state = 'running' FOR UPDATE";

/** $1 job id. */
const LIST_STEPS = "SELECT * FROM job_steps WHERE job_id = $1 ORDER BY created_at, name";

/** $1 job id, $2 name. */
const GET_STEP = "SELECT * FROM job_steps WHERE job_id = $1 AND name = $2";

/** $1 job id, $2 name, $3 kind, $4 result JSON, $5 now. The first write of a name wins. */
const INSERT_STEP = `
INSERT INTO job_steps (job_id, name, kind, result, created_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (job_id, name) DO NOTHING`;

/** $1 until, $2 job id, $3 token. The parked attempt is given back: max attempts + 1. */
const PARK_JOB = `
UPDATE jobs SET state = '${TRANSITIONS.park.to}', run_at = $1, lease_owner = NULL, lease_expires_at = NULL,
  max_attempts = max_attempts + 1, version = version + 1
WHERE id = $2 AND lease_token = $3 AND state = '${TRANSITIONS.park.from[0]}'`;

/** $1 now, $2 job id, $3 the wait's deadline: the job is still parked on that wait. */
const WAKE_JOB = `
UPDATE jobs SET state = '${TRANSITIONS.promote.to}', run_at = $1, version = version + 1
WHERE id = $2 AND state = '${TRANSITIONS.promote.from[0]}' AND run_at = $3`;

/** $1 job id, $2 step. */
const GET_WAIT = "SELECT * FROM job_waits WHERE job_id = $1 AND step = $2";

/** $1 job id, $2 step, $3 signal name, $4 match JSON or NULL, $5 deadline, $6 now. */
const INSERT_WAIT = `
INSERT INTO job_waits (job_id, step, name, "match", deadline, created_at) VALUES ($1, $2, $3, $4, $5, $6)`;

/** $1 job id, $2 step. */
const DELETE_WAIT = "DELETE FROM job_waits WHERE job_id = $1 AND step = $2";

/**
 * $1 name, $2 job id or NULL, $3 now: waits of this name whose job is parked on them (scheduled
 * until exactly the wait's deadline, still ahead), oldest first. A wait row left by a job that
 * was cancelled, or that runs or waits for a retry, does not take the signal.
 */
const PARKED_WAITS = `
SELECT w.* FROM job_waits w JOIN jobs j ON j.id = w.job_id
WHERE w.name = $1 AND ($2::text IS NULL OR w.job_id = $2) AND w.deadline > $3
  AND j.state = '${TRANSITIONS.promote.from[0]}' AND j.run_at = w.deadline
ORDER BY w.created_at, w.job_id`;

/** $1 name, $2 job id: unconsumed signals of this name for this job or for any, oldest first. */
const UNCONSUMED_SIGNALS = `
SELECT * FROM signals WHERE name = $1 AND consumed_at IS NULL AND (job_id IS NULL OR job_id = $2)
ORDER BY created_at, id`;

/** $1-$8: a signal row, in column order. */
const INSERT_SIGNAL = `
INSERT INTO signals (id, name, payload, job_id, created_at, consumed_by_job, consumed_step, consumed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`;

/** $1 signal id, $2 job id, $3 step, $4 now. */
const CONSUME_SIGNAL = `
UPDATE signals SET consumed_by_job = $2, consumed_step = $3, consumed_at = $4 WHERE id = $1 AND consumed_at IS NULL`;

/** $1 job id: a deleted job's steps, waits, and the signals only it could have taken. */
const DELETE_JOB_STEPS = "DELETE FROM job_steps WHERE job_id = $1";
const DELETE_JOB_WAITS = "DELETE FROM job_waits WHERE job_id = $1";
const DELETE_JOB_SIGNALS = "DELETE FROM signals WHERE job_id = $1 AND consumed_at IS NULL";

export async function listJobSteps(conn: PgConnection, jobId: string): Promise<StepRecord[]> {
  return (await conn.rows<StepRow>(LIST_STEPS, [jobId])).map(toStep);
}

export async function recordStep(
  tx: Tx,
  lease: Lease,
  step: { name: string; kind: StepKind; resultJson: string },
): Promise<StepRecord | null> {
  if (!(await leased(tx, lease))) return null;
  return toStep(await putStep(tx, lease.jobId, step.name, step.kind, step.resultJson));
}

export async function sleepJob(
  tx: Tx,
  lease: Lease,
  sleep: { step: string; delayMs?: number; until?: number },
): Promise<{ parked: boolean; until: string } | null> {
  const job = await leased(tx, lease);
  if (!job) return null;
  const end = sleepEnd(await getStep(tx, lease.jobId, sleep.step), sleep, tx.now);
  if (end.store) await putStep(tx, lease.jobId, sleep.step, "sleep", sleepResult(end.until));
  if (end.until <= tx.now) return { parked: false, until: iso(end.until) };
  await park(tx, job, lease, sleep.step, "sleep", end.until);
  return { parked: true, until: iso(end.until) };
}

export async function waitForSignal(
  tx: Tx,
  lease: Lease,
  wait: Omit<SignalWait, "deadline"> & { timeoutMs: number },
): Promise<{ kind: "done"; step: StepRecord } | { kind: "parked"; until: string } | null> {
  await tx.lock(LOCK.signals, wait.name);
  const job = await leased(tx, lease);
  if (!job) return null;
  const { jobId } = lease;
  const now = tx.now;
  const stored = await getStep(tx, jobId, wait.step);
  const waiting = await tx.one<WaitRow>(GET_WAIT, [jobId, wait.step]);
  // Read only when they can matter: no stored step, and no wait that has timed out.
  const signals =
    stored === undefined && (waiting === undefined || waiting.deadline > now)
      ? await tx.rows<SignalRow>(UNCONSUMED_SIGNALS, [wait.name, jobId])
      : [];
  const decision = waitDecision(stored, waiting, signals, wait.match, wait.timeoutMs, now);
  switch (decision.kind) {
    case "stored":
      return { kind: "done", step: toStep(decision.step) };
    case "timed_out": {
      await tx.run(DELETE_WAIT, [jobId, wait.step]);
      return { kind: "done", step: toStep(await putStep(tx, jobId, wait.step, "wait", "null")) };
    }
    case "consume": {
      const { signal } = decision;
      await tx.run(DELETE_WAIT, [jobId, wait.step]);
      await tx.run(CONSUME_SIGNAL, [signal.id, jobId, wait.step, now]);
      const step = await putStep(tx, jobId, wait.step, "wait", signal.payload);
      tx.event("job.signalled", jobId, lease.workerId, { step: wait.step, signalId: signal.id });
      return { kind: "done", step: toStep(step) };
    }
    case "park_again":
      await park(tx, job, lease, wait.step, "wait", decision.until);
      return { kind: "parked", until: iso(decision.until) };
    case "wait": {
      const match = wait.match === null ? null : JSON.stringify(wait.match);
      await tx.run(INSERT_WAIT, [jobId, wait.step, wait.name, match, decision.until, now]);
      await park(tx, job, lease, wait.step, "wait", decision.until);
      return { kind: "parked", until: iso(decision.until) };
    }
  }
}

/** Stores the signal and delivers it to the oldest job parked on a matching wait; `deliveredTo` is that job. */
export async function postSignal(
  tx: Tx,
  signal: NewSignal,
): Promise<{ signal: SignalRecord; deliveredTo: string | null }> {
  await tx.lock(LOCK.signals, signal.name);
  const now = tx.now;
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
  let waits = await tx.rows<WaitRow>(PARKED_WAITS, [signal.name, signal.jobId, now]);
  for (;;) {
    const wait = waitToWake(waits, signal.payloadJson);
    if (wait === undefined) break;
    // The job may have been cancelled since the read: then the next matching wait gets the signal.
    if ((await tx.run(WAKE_JOB, [now, wait.job_id, wait.deadline])) !== 1) {
      waits = waits.filter((w) => w !== wait);
      continue;
    }
    row = consumed(row, wait.job_id, wait.step, now);
    await putStep(tx, wait.job_id, wait.step, "wait", signal.payloadJson);
    await tx.run(DELETE_WAIT, [wait.job_id, wait.step]);
    tx.event("job.signalled", wait.job_id, null, { step: wait.step, signalId: signal.id });
    break;
  }
  await tx.run(INSERT_SIGNAL, [
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

/** Deletes what a deleted job kept (call inside the transaction that deletes the job). */
export async function deleteJobDurables(tx: Tx, jobId: string): Promise<void> {
  await runAsync(deleteJobApprovals(new PgTx(tx), jobId));
  await tx.run(DELETE_JOB_STEPS, [jobId]);
  await tx.run(DELETE_JOB_WAITS, [jobId]);
  await tx.run(DELETE_JOB_SIGNALS, [jobId]);
}

async function leased(tx: Tx, lease: Lease): Promise<JobRow | undefined> {
  return tx.one<JobRow>(LEASED_JOB, [lease.jobId, lease.token]);
}

async function getStep(tx: Tx, jobId: string, name: string): Promise<StepRow | undefined> {
  return tx.one<StepRow>(GET_STEP, [jobId, name]);
}

/** Stores the step unless stored already, and returns the stored one. */
async function putStep(tx: Tx, jobId: string, name: string, kind: StepKind, resultJson: string): Promise<StepRow> {
  await tx.run(INSERT_STEP, [jobId, name, kind, resultJson, tx.now]);
  return (await getStep(tx, jobId, name)) as StepRow;
}

/** Parks the leased (and locked) job until `until`, or cancels it if a cancel is pending, ending its attempt. */
async function park(
  tx: Tx,
  job: JobRow,
  lease: Lease,
  step: string,
  kind: "sleep" | "wait",
  until: number,
): Promise<void> {
  const { jobId, token, workerId } = lease;
  const now = tx.now;
  if (parksOrCancels(job) === "cancel") {
    await tx.run(sql.CANCEL_RUNNING_JOB, [now, null, jobId, token]);
    await tx.run(sql.FINISH_ATTEMPT, [now, "cancelled", null, jobId, token]);
    tx.event("job.cancelled", jobId, workerId, { attempt: job.attempts, while: "running" });
    return;
  }
  await tx.run(PARK_JOB, [until, jobId, token]);
  await tx.run(sql.FINISH_ATTEMPT, [now, "parked", null, jobId, token]);
  tx.event("job.parked", jobId, workerId, parkedEventData(step, kind, until));
}
