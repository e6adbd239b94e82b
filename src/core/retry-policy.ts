/**
 * What happens after an attempt fails: pure functions of plain data. No clock and no
 * randomness inside; `now` and `random` (a number in [0, 1)) are passed in.
 * `shouldRetry` is the one decision; the worker applies it, and the retry preview shows it.
 */
import { isConfidence } from "./confidence.js";
import { OverseerError } from "./errors.js";
import { matchesAny } from "./glob.js";
import type { BackoffPolicy, JobError } from "./types.js";

export const DEFAULT_BACKOFF: Extract<BackoffPolicy, { type: "exponential" }> = {
  type: "exponential",
  baseMs: 1_000,
  capMs: 60 * 60 * 1_000,
  jitter: 0.2,
};

export const DEFAULT_MAX_ATTEMPTS = 5;

/**
 * Delay before the retry that follows failed attempt number `attempt` (1-based).
 * Exponential: base * 2^(attempt-1), capped. Schedule: the list's entry for the attempt, or its
 * last. Jitter j spreads the delay uniformly over [d * (1 - j), d], so a burst of failures does
 * not retry in lockstep and the cap is never exceeded.
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: number): number {
  const step = Math.max(attempt - 1, 0);
  const raw =
    policy.type === "fixed"
      ? policy.delayMs
      : policy.type === "schedule"
        ? (policy.delaysMs[Math.min(step, policy.delaysMs.length - 1)] as number)
        : Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(step, 52));
  const spread = raw * policy.jitter * random;
  return Math.max(0, Math.round(raw - spread));
}

/**
 * Why a failed attempt was retried or not:
 * - `auto_retry`: a transient error with attempts left; retried after the backoff delay.
 * - `permanent_error`: the error is classified permanent (`retryable: false`, or the policy's lists).
 * - `retry_disabled`: the task's retry policy has `enabled: false`.
 * - `low_confidence`: the failed attempt said how sure it was (`confidence` on the error) and
 *   that is below the policy's `minConfidence`: a person should look before it runs again.
 * - `max_attempts_exceeded`: the failed attempt was the last one allowed.
 * - `lease_expired`: the worker vanished mid-attempt and that was the last attempt. Stores decide
 *   this one themselves when they recover expired leases; `shouldRetry` never returns it.
 */
export type RetryReason =
  | "auto_retry"
  | "permanent_error"
  | "retry_disabled"
  | "low_confidence"
  | "max_attempts_exceeded"
  | "lease_expired";

export const RETRY_REASONS: readonly RetryReason[] = [
  "auto_retry",
  "permanent_error",
  "retry_disabled",
  "low_confidence",
  "max_attempts_exceeded",
  "lease_expired",
];

/** Why a job went to `dead`: every reason but `auto_retry`. Stored in `job.dead` events as `reason`. */
export type DeadReason = Exclude<RetryReason, "auto_retry">;

/** `delayMs` is relative: the store adds it to its own clock (the database's, on PostgreSQL). */
export type RetryDecision =
  | { retry: true; reason: "auto_retry"; delayMs: number }
  | { retry: false; reason: DeadReason };

export type ErrorClass = "transient" | "permanent";

/**
 * How errors are sorted into transient (retry) and permanent (dead at once). Lists hold exact
 * values or `*` globs (`HTTP_5*`). Checked in this order, first hit wins:
 * `retryable: false` on the error, permanentCodes, transientCodes, permanentTypes,
 * transientTypes, then `defaultClass`. A code is more specific than a type, so
 * `transientCodes: ["HTTP_503"]` can carve an exception out of `permanentTypes: ["HttpError"]`.
 */
export interface ErrorClassification {
  /** Matched against `error.code` (the thrown error's `code`, or its name when it had none). */
  permanentCodes: readonly string[];
  transientCodes: readonly string[];
  /** Matched against `error.type` (the thrown error's class name) or, when absent, `error.code`. */
  permanentTypes: readonly string[];
  transientTypes: readonly string[];
  /** Errors no list names. `transient` (the default) retries anything not marked `retryable: false`. */
  defaultClass: ErrorClass;
}

export interface RetryPolicy {
  /** false: every failure is final (`retry_disabled`). */
  enabled: boolean;
  /** A failure whose error carries a `confidence` below this is final (`low_confidence`); null: never. */
  minConfidence: number | null;
  maxAttempts: number;
  backoff: BackoffPolicy;
  classification: ErrorClassification;
}

/** A task's `retry` option as users write it; every field is optional. */
export interface RetryOptions {
  enabled?: boolean;
  /** 0-1: a failed attempt that reports a lower `confidence` on its error is not retried automatically. */
  minConfidence?: number;
  permanentCodes?: readonly string[];
  transientCodes?: readonly string[];
  permanentTypes?: readonly string[];
  transientTypes?: readonly string[];
  defaultClass?: ErrorClass;
}

/** Today's behaviour: an error is transient unless it says `retryable: false`. */
export const DEFAULT_CLASSIFICATION: ErrorClassification = Object.freeze({
  permanentCodes: [],
  transientCodes: [],
  permanentTypes: [],
  transientTypes: [],
  defaultClass: "transient",
});

/** Which class an error falls in, and the rule that put it there (`retryable:false`, `permanentCodes`, ..., `defaultClass`). */
export function classifyError(
  error: Pick<JobError, "code" | "retryable" | "type">,
  c: ErrorClassification,
): { errorClass: ErrorClass; rule: string } {
  if (error.retryable === false) return { errorClass: "permanent", rule: "retryable:false" };
  if (matchesAny(c.permanentCodes, error.code)) return { errorClass: "permanent", rule: "permanentCodes" };
  if (matchesAny(c.transientCodes, error.code)) return { errorClass: "transient", rule: "transientCodes" };
  const type = error.type ?? error.code;
  if (matchesAny(c.permanentTypes, type)) return { errorClass: "permanent", rule: "permanentTypes" };
  if (matchesAny(c.transientTypes, type)) return { errorClass: "transient", rule: "transientTypes" };
  return { errorClass: c.defaultClass, rule: "defaultClass" };
}

/**
 * The decision after failed attempt number `attempt` (1-based, as counted on the job).
 * Order: a permanent error says so first (it is about this failure, whatever the policy);
 * then a disabled policy; then a confidence below the policy's floor; then the attempt budget. `random` in [0, 1) feeds the jitter;
 * 0 gives the full (longest) delay, which is what a preview shows.
 */
export function shouldRetry(
  attempt: number,
  error: Pick<JobError, "code" | "retryable" | "type" | "confidence">,
  policy: RetryPolicy,
  random = 0,
): RetryDecision {
  if (classifyError(error, policy.classification).errorClass === "permanent") {
    return { retry: false, reason: "permanent_error" };
  }
  if (!policy.enabled) return { retry: false, reason: "retry_disabled" };
  if (policy.minConfidence !== null && error.confidence !== undefined && error.confidence < policy.minConfidence) {
    return { retry: false, reason: "low_confidence" };
  }
  if (attempt >= policy.maxAttempts) return { retry: false, reason: "max_attempts_exceeded" };
  return { retry: true, reason: "auto_retry", delayMs: backoffDelay(policy.backoff, attempt, random) };
}

/** A job's policy: its stored attempt budget and backoff, with its task's `retry` option (validated). */
export function resolveRetryPolicy(
  job: { maxAttempts: number; backoff: BackoffPolicy },
  options: RetryOptions | undefined,
): RetryPolicy {
  const o = options ?? {};
  return {
    enabled: o.enabled ?? true,
    minConfidence: o.minConfidence ?? null,
    maxAttempts: job.maxAttempts,
    backoff: job.backoff,
    classification: {
      permanentCodes: o.permanentCodes ?? [],
      transientCodes: o.transientCodes ?? [],
      permanentTypes: o.permanentTypes ?? [],
      transientTypes: o.transientTypes ?? [],
      defaultClass: o.defaultClass ?? "transient",
    },
  };
}

const RETRY_OPTION_KEYS = [
  "enabled",
  "minConfidence",
  "permanentCodes",
  "transientCodes",
  "permanentTypes",
  "transientTypes",
  "defaultClass",
];
const LIST_KEYS = ["permanentCodes", "transientCodes", "permanentTypes", "transientTypes"] as const;

/** Checks a task's `retry` option; throws INVALID_ARGUMENT naming the field. Returns a frozen copy. */
export function parseRetryOptions(value: unknown, field = "retry"): RetryOptions {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new OverseerError("INVALID_ARGUMENT", `${field} must be an object`, { field });
  }
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (!RETRY_OPTION_KEYS.includes(key)) {
      throw new OverseerError(
        "INVALID_ARGUMENT",
        `unknown field ${field}.${key}; ${field} takes ${RETRY_OPTION_KEYS.join(", ")}`,
        { field: `${field}.${key}` },
      );
    }
  }
  const out: { -readonly [K in keyof RetryOptions]: RetryOptions[K] } = {};
  if (v.enabled !== undefined) {
    if (typeof v.enabled !== "boolean") {
      throw new OverseerError("INVALID_ARGUMENT", `${field}.enabled must be true or false`, {
        field: `${field}.enabled`,
      });
    }
    out.enabled = v.enabled;
  }
  if (v.minConfidence !== undefined) {
    if (!isConfidence(v.minConfidence)) {
      throw new OverseerError("INVALID_ARGUMENT", `${field}.minConfidence must be a number from 0 to 1`, {
        field: `${field}.minConfidence`,
      });
    }
    out.minConfidence = v.minConfidence;
  }
  for (const key of LIST_KEYS) {
    const list = v[key];
    if (list === undefined) continue;
    if (!Array.isArray(list) || !list.every((x) => typeof x === "string" && x.length > 0 && x.length <= 200)) {
      throw new OverseerError(
        "INVALID_ARGUMENT",
        `${field}.${key} must be a list of codes or * patterns (strings of 1-200 characters)`,
        { field: `${field}.${key}` },
      );
    }
    out[key] = Object.freeze([...(list as string[])]);
  }
  for (const [permanent, transient] of [
    ["permanentCodes", "transientCodes"],
    ["permanentTypes", "transientTypes"],
  ] as const) {
    const both = (out[permanent] ?? []).filter((x) => (out[transient] ?? []).includes(x));
    if (both.length > 0) {
      throw new OverseerError(
        "INVALID_ARGUMENT",
        `${field}: "${both[0]}" is in both ${permanent} and ${transient}; an error can be only one`,
        { field: `${field}.${transient}` },
      );
    }
  }
  if (v.defaultClass !== undefined) {
    if (v.defaultClass !== "transient" && v.defaultClass !== "permanent") {
      throw new OverseerError("INVALID_ARGUMENT", `${field}.defaultClass must be transient or permanent`, {
        field: `${field}.defaultClass`,
      });
    }
    out.defaultClass = v.defaultClass;
  }
  return Object.freeze(out);
}

/** @deprecated Use `shouldRetry`; kept for callers of the first API, and decides through it. */
export type FailureDecision = { kind: "retry"; delayMs: number } | { kind: "dead"; reason: DeadReason };

/** @deprecated Use `shouldRetry` with `resolveRetryPolicy`; this is `shouldRetry` with the default classification. */
export function decideAfterFailure(input: {
  attempts: number;
  maxAttempts: number;
  backoff: BackoffPolicy;
  error: JobError;
  random: number;
}): FailureDecision {
  const policy = resolveRetryPolicy(input, undefined);
  const d = shouldRetry(input.attempts, input.error, policy, input.random);
  return d.retry ? { kind: "retry", delayMs: d.delayMs } : { kind: "dead", reason: d.reason };
}

/** Turns whatever a handler threw into the error record kept on the attempt. */
export function toJobError(thrown: unknown): JobError {
  if (thrown instanceof Error) {
    const anyErr = thrown as Error & { code?: unknown; retryable?: unknown; confidence?: unknown };
    const code = typeof anyErr.code === "string" && anyErr.code !== "" ? anyErr.code : thrown.name || "Error";
    const out: JobError = {
      code,
      message: thrown.message || String(thrown),
      retryable: anyErr.retryable !== false,
    };
    // Kept only when it is one: a stray `confidence` of another meaning must not stop retries.
    if (isConfidence(anyErr.confidence)) out.confidence = anyErr.confidence;
    // The class name, for retry policies matching on types: only a subclass's name says anything
    // the code does not already say (plain `Error` is every error's type).
    if (thrown.name && thrown.name !== code && thrown.name !== "Error") out.type = thrown.name;
    if (thrown.stack) out.stack = thrown.stack;
    return out;
  }
  let message: string;
  try {
    message = typeof thrown === "string" ? thrown : (JSON.stringify(thrown) ?? String(thrown));
  } catch {
    // Something unserialisable (a cycle, a BigInt): its string form is all we can keep.
    message = stringOf(thrown);
  }
  return { code: "NON_ERROR_THROWN", message, retryable: true };
}

/** String() throws for objects without a prototype; the failure path must not throw itself. */
function stringOf(value: unknown): string {
  try {
    return String(value);
  } catch {
    return `unprintable ${typeof value} thrown`;
  }
}
