/**
 * Durable handlers' steps, waits and signals as both backends store them (same tables and
 * columns, see migration 007), their mapping to domain records, and the decisions every write
 * shares: a sleep's end, what a wait does, which parked job a signal wakes. Pure: operations.ts
 * reads rows in its transaction, calls these with the transaction's `now`, and writes the result.
 */
import { matchesSignal, type SignalRecord, type StepKind, type StepRecord } from "../../core/durable.js";
import { iso, type JobRow } from "../rows.js";

export interface StepRow {
  job_id: string;
  name: string;
  kind: StepKind;
  /** JSON. */
  result: string;
  created_at: number;
}

export interface WaitRow {
  job_id: string;
  step: string;
  name: string;
  /** JSON object, or null for any payload. */
  match: string | null;
  deadline: number;
  created_at: number;
}

export interface SignalRow {
  id: string;
  name: string;
  /** JSON. */
  payload: string;
  job_id: string | null;
  created_at: number;
  consumed_by_job: string | null;
  consumed_step: string | null;
  consumed_at: number | null;
}

export function toStep(row: StepRow): StepRecord {
  return { name: row.name, kind: row.kind, resultJson: row.result, createdAt: iso(row.created_at) };
}

export function toSignal(row: SignalRow): SignalRecord {
  return {
    id: row.id,
    name: row.name,
    payload: JSON.parse(row.payload) as unknown,
    jobId: row.job_id,
    createdAt: iso(row.created_at),
    consumedBy:
      row.consumed_by_job === null || row.consumed_step === null || row.consumed_at === null
        ? null
        : { jobId: row.consumed_by_job, step: row.consumed_step, at: iso(row.consumed_at) },
  };
}

/** The same row once consumed by `jobId`'s `step` at `now`. */
export function consumed(row: SignalRow, jobId: string, step: string, now: number): SignalRow {
  return { ...row, consumed_by_job: jobId, consumed_step: step, consumed_at: now };
}

/**
 * A sleep's end, in whole ms: the stored step's (the first write wins, so a re-run sleeps until
 * the same instant), else `until`, else now + `delayMs`. `store`: the step is not stored yet.
 */
export function sleepEnd(
  stored: StepRow | undefined,
  sleep: { delayMs?: number; until?: number },
  now: number,
): { until: number; store: boolean } {
  if (stored !== undefined) return { until: Date.parse(JSON.parse(stored.result) as string), store: false };
  const until = sleep.until ?? now + (sleep.delayMs ?? 0);
  return { until: Math.ceil(until), store: true };
}

/** A sleep's step result: its end time as an ISO string, which `ctx.sleep` reads back. */
export function sleepResult(until: number): string {
  return JSON.stringify(iso(until));
}

export type WaitDecision =
  /** The step is stored already (the wait was settled before): return it. */
  | { kind: "stored"; step: StepRow }
  /** The wait's deadline passed: the step is null, the wait row goes. */
  | { kind: "timed_out" }
  /** The wait is still ahead (the job ran early, e.g. retried after a cancel): park again until its deadline. */
  | { kind: "park_again"; until: number }
  /** A signal posted earlier matches: consume it as the step (and drop the wait, if one was stored). */
  | { kind: "consume"; signal: SignalRow }
  /** Nothing yet: store the wait and park until its deadline. */
  | { kind: "wait"; until: number };

/**
 * What `waitForSignal` does, in the order its contract gives. `signals`: the unconsumed signals
 * of the wait's name that this job may take, oldest first.
 */
export function waitDecision(
  stored: StepRow | undefined,
  wait: WaitRow | undefined,
  signals: readonly SignalRow[],
  match: Record<string, unknown> | null,
  timeoutMs: number,
  now: number,
): WaitDecision {
  if (stored !== undefined) return { kind: "stored", step: stored };
  if (wait !== undefined && wait.deadline <= now) return { kind: "timed_out" };
  // Before parking (again): a signal kept meanwhile (one sent while the job was cancelled, say)
  // is taken now rather than left until the deadline.
  const signal = signals.find((s) => matchesSignal(match, JSON.parse(s.payload)));
  if (signal !== undefined) return { kind: "consume", signal };
  if (wait !== undefined) return { kind: "park_again", until: wait.deadline };
  return { kind: "wait", until: now + Math.max(0, Math.ceil(timeoutMs)) };
}

/**
 * The wait a new signal wakes: the oldest whose `match` fits the payload. `waits`: the waits of
 * the signal's name (and job, if targeted) whose job is parked on them, oldest first.
 */
export function waitToWake(waits: readonly WaitRow[], payloadJson: string): WaitRow | undefined {
  const payload = JSON.parse(payloadJson) as unknown;
  return waits.find((w) =>
    matchesSignal(w.match === null ? null : (JSON.parse(w.match) as Record<string, unknown>), payload),
  );
}

/**
 * A job that parks with a cancel request pending is cancelled instead: parked, it would run again
 * later and the next claim would clear the request, so the person's cancel would be lost.
 */
export function parksOrCancels(row: JobRow): "park" | "cancel" {
  return row.cancel_requested === 1 ? "cancel" : "park";
}

/** The `job.parked` event's data. */
export function parkedEventData(step: string, kind: "sleep" | "wait", until: number): Record<string, unknown> {
  return { step, kind, until: iso(until) };
}
