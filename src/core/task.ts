/**
 * A task: a name, a handler, and defaults for the jobs it runs. The handler gets the payload
 * and a context; a thrown error retries per the backoff, a `PermanentError` (or any error with
 * `retryable: false`) sends the job straight to `dead`, and the task's `retry` option can name
 * more permanent (or transient) codes and types: see docs/policies.md.
 */

import type { ApprovalOutcome, ApprovalRequest, OnTimeout } from "./approval.js";
import type { Duration } from "./duration.js";
import { OverseerError } from "./errors.js";
import { type ExecutionMode, parseExecutionMode } from "./execution.js";
import { parseFollowUp } from "./follow-up.js";
import type { GateOutcome, Risk } from "./gate-policy.js";
import { buildNewJob, parseTimeout, type TaskDefaults, validateName } from "./job-options.js";
import type { Lesson, LessonInput, SimilarLesson, SimilarQuery } from "./lesson.js";
import { parseRetryOptions } from "./retry-policy.js";
import type { Job } from "./types.js";

export interface JobContext {
  /** The job as it was claimed (attempts already counts this attempt). */
  readonly job: Job;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /**
   * Whether side effects are on for this execution: the task's own `execution`, or the node's
   * switch (dry-run unless an admin turned it on). See docs/execution.md.
   */
  readonly execution: ExecutionMode;
  /** Aborted on cancel, on graceful-shutdown timeout, when the lease is lost, and past the attempt timeout. `signal.reason` says which. */
  readonly signal: AbortSignal;
  /** Appends a `job.log` event. */
  log(message: string, data?: Record<string, unknown>): Promise<void>;
  /** Stores progress on the job (any JSON value) and appends `job.progress`. */
  progress(value: unknown): Promise<void>;
  /**
   * Runs `fn` once for this job: its result is stored under `name`, and every later execution
   * (a retry, a crash, a sleep or a wait) gets the stored result without calling `fn`.
   */
  step<T>(name: string, fn: () => T | Promise<T>): Promise<T>;
  /** Parks the job (state `scheduled`) for this long instead of holding a worker slot; the attempt is not used up. */
  sleep(duration: Duration): Promise<void>;
  /** Parks the job until this time. */
  sleepUntil(at: Date | string | number): Promise<void>;
  /**
   * Waits for a signal (`POST /api/v1/signals`, `overseer.signal`) named `name` whose payload has
   * the fields of `match`, parking the job meanwhile; its payload, or null after `timeout`. A
   * signal sent before the job got here is kept and matched.
   */
  waitForEvent<T = unknown>(
    name: string,
    options: { match?: Record<string, unknown>; timeout: Duration },
  ): Promise<T | null>;
  /**
   * Asks a person: the request is stored, then the job parks in `awaiting_approval` (its worker
   * slot is free) until someone decides or the timeout applies `onTimeout`; then the handler
   * runs again and this returns the decision. See docs/approvals.md.
   */
  requestApproval(request: ApprovalRequest): Promise<ApprovalOutcome>;
  /**
   * Consults the config's gate policy for `action` at this risk and environment: `auto` goes on,
   * `notify` goes on and appends `gate.notified`, `approve` asks a person (as requestApproval).
   */
  gate(action: string, options: GateOptions): Promise<GateResult>;
  /**
   * Stores a lesson from this job (see docs/lessons.md): linked to the job, recorded once per
   * title however often the handler runs again (a second lesson of the same title from this job
   * gives back the first).
   */
  recordLesson(lesson: Omit<LessonInput, "jobId" | "runId" | "key">): Promise<Lesson>;
  /**
   * Lessons like this session, best first: `"job"` searches with the job's task and payload, a
   * query with its own text. This job's own lessons are left out.
   */
  similarLessons(query: "job" | SimilarQuery): Promise<SimilarLesson[]>;
}

export interface GateOptions {
  risk: Risk;
  environment: string;
  /** How sure the caller is of the action (0-1); gate rules may match on it (`confidence: {below: 0.6}`). */
  confidence?: number;
  /** For the approval request, when one is needed. */
  title?: string;
  details?: unknown;
  approvers?: readonly string[];
  quorum?: number;
  timeout?: Duration;
  onTimeout?: OnTimeout;
  requestedBy?: string;
}

export interface GateResult {
  /** What the policy said. */
  action: GateOutcome;
  /** Which rule said it (or the default). */
  reason: string;
  /** Whether to go on: true for auto and notify; the decision for approve. */
  approved: boolean;
  /** The decision, when a person was asked. */
  approval: ApprovalOutcome | null;
}

export type TaskHandler<P = any, R = unknown> = (payload: P, ctx: JobContext) => R | Promise<R>;

export interface TaskDefinition<P = any, R = unknown> {
  readonly name: string;
  readonly handler: TaskHandler<P, R>;
  readonly defaults: TaskDefaults;
}

/** Why a handler's signal was aborted. */
export type AbortReason = "cancelled" | "shutdown" | "lease_lost" | "parked" | "timeout";

export function defineTask<P = any, R = unknown>(
  name: string,
  handler: TaskHandler<P, R>,
  defaults: TaskDefaults = {},
): TaskDefinition<P, R> {
  validateName(name, "task");
  if (typeof handler !== "function") {
    throw new OverseerError("INVALID_ARGUMENT", `handler of task "${name}" must be a function`, { field: "handler" });
  }
  if (defaults === null || typeof defaults !== "object") {
    throw new OverseerError("INVALID_ARGUMENT", `defaults of task "${name}" must be an object`, { field: "defaults" });
  }
  const copy: TaskDefaults = { ...defaults };
  try {
    if (defaults.retry !== undefined) copy.retry = parseRetryOptions(defaults.retry);
    if (defaults.timeout !== undefined) copy.timeout = parseTimeout(defaults.timeout);
    if (defaults.onDead !== undefined) copy.onDead = parseFollowUp(defaults.onDead, "onDead");
    if (defaults.onSuccess !== undefined) copy.onSuccess = parseFollowUp(defaults.onSuccess, "onSuccess");
    if (defaults.execution !== undefined) copy.execution = parseExecutionMode(defaults.execution, "execution");
    // The enqueue defaults as an enqueue would apply them, so a bad one fails here rather than
    // at each enqueue (or when a follow-up of this task is made).
    buildNewJob(name, null, undefined, copy);
  } catch (err) {
    if (!(err instanceof OverseerError)) throw err;
    throw new OverseerError(err.code, `task "${name}": ${err.message}`, { ...err.details, task: name });
  }
  return Object.freeze({ name, handler, defaults: copy });
}
