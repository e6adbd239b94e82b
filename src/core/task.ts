/**
 * A task: a name, a handler, and defaults for the jobs it runs. The handler gets the payload
 * and a context; a thrown error retries per the backoff, a `PermanentError` (or any error with
 * `retryable: false`) sends the job straight to `dead`.
 */
import { OverseerError } from "./errors.js";
import { type TaskDefaults, validateName } from "./job-options.js";
import type { Job } from "./types.js";

export interface JobContext {
  /** The job as it was claimed (attempts already counts this attempt). */
  readonly job: Job;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Aborted on cancel, on graceful-shutdown timeout, and when the lease is lost. `signal.reason` says which. */
  readonly signal: AbortSignal;
  /** Appends a `job.log` event. */
  log(message: string, data?: Record<string, unknown>): Promise<void>;
  /** Stores progress on the job (any JSON value) and appends `job.progress`. */
  progress(value: unknown): Promise<void>;
}

export type TaskHandler<P = any, R = unknown> = (payload: P, ctx: JobContext) => R | Promise<R>;

export interface TaskDefinition<P = any, R = unknown> {
  readonly name: string;
  readonly handler: TaskHandler<P, R>;
  readonly defaults: TaskDefaults;
}

/** Why a handler's signal was aborted. */
export type AbortReason = "cancelled" | "shutdown" | "lease_lost";

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
  return Object.freeze({ name, handler, defaults: { ...defaults } });
}
