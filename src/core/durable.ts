/**
 * Durable handlers: what a job remembers between its executions. A handler that calls
 * `ctx.step(name, fn)` runs `fn` once; the result is stored under the job and the step's name,
 * and every later execution (after a retry, a crash, a sleep or a wait) gets the stored result
 * instead of calling `fn` again. Sleeps and waits are steps too, named in call order
 * (`sleep#1`, `wait:payment.settled#1`...), so a handler that re-runs from the top passes the
 * ones already done and parks at the first one that is not.
 *
 * Parking ends an execution without using up an attempt: the job goes back to `scheduled`
 * (until its sleep ends, or its wait's timeout) and its worker slot is free.
 */
import { isDeepStrictEqual } from "node:util";
import type { StepKind } from "./step-kinds.js";

/** How a step's record was made. `approval`: a settled approval request's outcome (core/approval.ts). */
export type { StepKind };

export interface StepRecord {
  name: string;
  kind: StepKind;
  /** The step's result as JSON (`fn`'s value; a sleep's end time; a wait's signal payload or null). */
  resultJson: string;
  createdAt: string;
}

export interface NewSignal {
  id: string;
  name: string;
  payloadJson: string;
  /** Only this job's waits may take it; null: any job waiting for `name`. */
  jobId: string | null;
}

export interface SignalRecord {
  id: string;
  name: string;
  payload: unknown;
  jobId: string | null;
  createdAt: string;
  /** The job (and its step) that consumed it, or null while it waits to be matched. */
  consumedBy: { jobId: string; step: string; at: string } | null;
}

/** A job parked on `ctx.waitForEvent`: what wakes it. */
export interface SignalWait {
  /** The step that will hold the signal's payload. */
  step: string;
  /** The signal's name. */
  name: string;
  /** Fields the signal's payload must have (a subset match); null matches any payload. */
  match: Record<string, unknown> | null;
  /** Epoch ms: the wait gives up (the step's result is null) at this time. */
  deadline: number;
}

/**
 * Whether a signal's payload has every field of `match` with an equal value. Objects match as
 * subsets, recursively; arrays and everything else must be equal.
 */
export function matchesSignal(match: Record<string, unknown> | null, payload: unknown): boolean {
  return match === null || Object.keys(match).length === 0 || subset(match, payload);
}

function subset(want: unknown, got: unknown): boolean {
  if (!isPlainObject(want)) return isDeepStrictEqual(want, got);
  if (!isPlainObject(got)) return false;
  return Object.entries(want).every(([key, value]) => Object.hasOwn(got, key) && subset(value, got[key]));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Thrown by `ctx.sleep`, `ctx.sleepUntil` and `ctx.waitForEvent` when the job parks: it unwinds
 * the handler. The worker recognises it; a handler that catches it by mistake has its result
 * ignored, since the job was already parked (and its signal aborted).
 */
export class JobParked extends Error {
  constructor(readonly until: string) {
    super(`the job is parked until ${until}; this execution ends here`);
    this.name = "JobParked";
  }
}
