/**
 * What happens after an attempt fails: pure functions of plain data. No clock and no
 * randomness inside; `now` and `random` (a number in [0, 1)) are passed in.
 */
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
 * Exponential: base * 2^(attempt-1), capped. Jitter j spreads the delay uniformly over
 * [d * (1 - j), d], so a burst of failures does not retry in lockstep and the cap is never exceeded.
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: number): number {
  const raw =
    policy.type === "fixed"
      ? policy.delayMs
      : Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 52));
  const spread = raw * policy.jitter * random;
  return Math.max(0, Math.round(raw - spread));
}

export type DeadReason = "permanent_error" | "max_attempts_exceeded" | "lease_expired";

/** The retry delay is relative: the store adds it to its own clock (the database's, on PostgreSQL). */
export type FailureDecision = { kind: "retry"; delayMs: number } | { kind: "dead"; reason: DeadReason };

export function decideAfterFailure(input: {
  attempts: number;
  maxAttempts: number;
  backoff: BackoffPolicy;
  error: JobError;
  random: number;
}): FailureDecision {
  if (!input.error.retryable) return { kind: "dead", reason: "permanent_error" };
  if (input.attempts >= input.maxAttempts) return { kind: "dead", reason: "max_attempts_exceeded" };
  return { kind: "retry", delayMs: backoffDelay(input.backoff, input.attempts, input.random) };
}

/** Turns whatever a handler threw into the error record kept on the attempt. */
export function toJobError(thrown: unknown): JobError {
  if (thrown instanceof Error) {
    const anyErr = thrown as Error & { code?: unknown; retryable?: unknown };
    const code = typeof anyErr.code === "string" && anyErr.code !== "" ? anyErr.code : thrown.name || "Error";
    const out: JobError = {
      code,
      message: thrown.message || String(thrown),
      retryable: anyErr.retryable !== false,
    };
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
