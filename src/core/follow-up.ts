/**
 * What a task declares happens after its jobs end (`onDead`, `onSuccess`): a follow-up job of
 * another task, enqueued in the same transaction that marks the job dead or succeeded, so it can
 * never be lost nor made twice. Pure: the caller passes the ended job and the follow-up task's
 * defaults (the worker's own definitions, or those the task registry keeps for a lease that
 * expired on a node that does not define the task).
 */
import { OverseerError } from "./errors.js";
import { buildNewJob, describe, type NewJob, type PriorityName, type TaskDefaults } from "./job-options.js";
import type { JobError } from "./types.js";

/** A follow-up as a task declares it: the task's name, or the task with the job's queue or priority. */
export type FollowUpOption = string | { task: string; queue?: string; priority?: number | PriorityName };

/** The job that ended, as the follow-up's payload names it. */
export interface EndedJob {
  id: string;
  task: string;
  queue: string;
  attempts: number;
  payload: unknown;
}

/** The follow-up's payload: the ended job, its payload, and its last error (`onDead`) or its result (`onSuccess`). */
export type FollowUpPayload =
  | { job: Omit<EndedJob, "payload">; payload: unknown; error: JobError }
  | { job: Omit<EndedJob, "payload">; payload: unknown; result: unknown };

/** Validates a declared follow-up (in `defineTask`), by building a job of it: INVALID_ARGUMENT naming the field. */
export function parseFollowUp(value: unknown, field: string): FollowUpOption {
  const spec = typeof value === "string" ? { task: value } : value;
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `${field} must be a task name or { task, queue?, priority? }; got ${describe(value)}`,
      { field },
    );
  }
  const unknown = Object.keys(spec).filter((k) => k !== "task" && k !== "queue" && k !== "priority");
  if (unknown.length > 0) {
    throw new OverseerError("INVALID_ARGUMENT", `${field} has unknown field "${unknown[0]}"`, { field });
  }
  try {
    followUpJob(
      value as FollowUpOption,
      { job: { id: "", task: "", queue: "", attempts: 0 }, payload: null, result: null },
      undefined,
    );
  } catch (err) {
    if (!(err instanceof OverseerError)) throw err;
    throw new OverseerError(err.code, `${field}: ${err.message}`, { ...err.details, field });
  }
  return value as FollowUpOption;
}

/**
 * The follow-up job. It takes the follow-up task's defaults, but never refuses for its
 * concurrency key: it waits for a free place, since the job that ended cannot wait to end.
 */
export function followUpJob(
  option: FollowUpOption,
  payload: FollowUpPayload,
  defaults: TaskDefaults | undefined,
): NewJob {
  const spec = typeof option === "string" ? { task: option } : option;
  const job = buildNewJob(
    spec.task,
    payload,
    {
      ...(spec.queue === undefined ? {} : { queue: spec.queue }),
      ...(spec.priority === undefined ? {} : { priority: spec.priority }),
    },
    defaults,
  );
  return job.concurrency === null ? job : { ...job, concurrency: { ...job.concurrency, onLimit: "wait" } };
}

/** The task a declared follow-up is a job of. */
export function followUpTask(option: FollowUpOption): string {
  return typeof option === "string" ? option : option.task;
}

/**
 * The follow-up a task's `onDead` or `onSuccess` (in `defaults`) asks for after `ended` ended,
 * `end()` giving its last error (onDead) or its result (onSuccess), read only if there is one;
 * the follow-up task's defaults from `defaultsOf`. Undefined when the task declares none; throws
 * what building the job throws.
 */
export function followUpOf(
  hook: "onDead" | "onSuccess",
  defaults: TaskDefaults | undefined,
  ended: EndedJob,
  end: () => unknown,
  defaultsOf: (task: string) => TaskDefaults | undefined,
): NewJob | undefined {
  const option = defaults?.[hook];
  if (option === undefined) return undefined;
  const payload = hook === "onDead" ? deadPayload(ended, end() as JobError) : successPayload(ended, end());
  return followUpJob(option, payload, defaultsOf(followUpTask(option)));
}

/** The payload of `onDead`'s follow-up. */
export function deadPayload(job: EndedJob, error: JobError): FollowUpPayload {
  const { payload, ...ended } = job;
  return { job: ended, payload, error };
}

/** The payload of `onSuccess`'s follow-up. */
export function successPayload(job: EndedJob, result: unknown): FollowUpPayload {
  const { payload, ...ended } = job;
  return { job: ended, payload, result };
}
