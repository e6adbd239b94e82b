/**
 * Enqueue options, as users write them, turned into the plain record a store inserts.
 * This is the boundary for the hottest path in Overseer, so it is hand-written rather than a
 * schema library: it stays allocation-light and every message names the field at fault.
 * Nothing here touches a clock: relative delays are resolved by the store's clock.
 */
import { type Duration, parseDuration } from "./duration.js";
import { OverseerError } from "./errors.js";
import type { ExecutionMode } from "./execution.js";
import type { FollowUpOption } from "./follow-up.js";
import { newId } from "./ids.js";
import { DEFAULT_BACKOFF, DEFAULT_MAX_ATTEMPTS, type RetryOptions } from "./retry-policy.js";
import type { BackoffPolicy, ConcurrencyRule, RateLimitRule, TraceContext } from "./types.js";

export const PRIORITY_NAMES = { high: -10, default: 0, low: 10 } as const;
export type PriorityName = keyof typeof PRIORITY_NAMES;
const MAX_PRIORITY = 1_000_000;

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const DEFAULT_QUEUE = "default";
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

/**
 * How long a failed job waits before its next attempt. A list of delays (`["1m", "5m", "15m"]`)
 * is short for `{ type: "schedule", delays }`: the delay after failed attempt n is the list's
 * nth, and past its end its last (`maxAttempts` still decides when the job stops).
 */
export type BackoffOption =
  | { type: "exponential"; base?: Duration; cap?: Duration; jitter?: number }
  | { type: "fixed"; delay: Duration; jitter?: number }
  | { type: "schedule"; delays: readonly Duration[]; jitter?: number }
  | readonly Duration[];

/** Steps a retry schedule may have at most. */
export const MAX_SCHEDULE_DELAYS = 100;

export interface EnqueueOptions {
  /** Queue the job waits in; `default` unless the task or this option says otherwise. */
  queue?: string;
  /** Lower runs first. `high` = -10, `default` = 0, `low` = 10. */
  priority?: number | PriorityName;
  /** Earliest start: a Date, an ISO-8601 string or epoch milliseconds. */
  runAt?: Date | string | number;
  /** Earliest start relative to now: milliseconds or `30s`, `5m`... */
  delay?: Duration;
  maxAttempts?: number;
  backoff?: BackoffOption;
  /** A second enqueue with this key returns the existing job while it is unfinished or within `idempotencyTtl` after. */
  idempotencyKey?: string;
  idempotencyTtl?: Duration;
  /** Share a concurrency limit with every job of this key (limit from the task, or `concurrency`). */
  concurrencyKey?: string;
  concurrency?: { key: string; limit: number; onLimit?: "wait" | "reject" };
  rateLimit?: { key?: string; limit: number; period: Duration };
  /**
   * Who enqueued the job (the HTTP API sets the calling token's name). An approval the job
   * requests names them as its requester, so they cannot approve it themselves.
   */
  enqueuedBy?: string;
  /**
   * How long one attempt may run (milliseconds or `30s`, `5m`...): past it, the handler's signal
   * fires and the attempt fails with ATTEMPT_TIMEOUT, retried as the retry policy says.
   * Overrides the task's `timeout`.
   */
  timeout?: Duration;
}

/** Defaults a task gives its jobs; every field may be overridden per enqueue. */
export interface TaskDefaults {
  queue?: string;
  priority?: number | PriorityName;
  maxAttempts?: number;
  backoff?: BackoffOption;
  idempotencyTtl?: Duration;
  /** With a job's `concurrencyKey`: at most `limit` of them run at once. */
  concurrency?: { limit: number; onLimit?: "wait" | "reject" };
  /** At most `limit` jobs of this task (or of `key`) start per `period`. */
  rateLimit?: { key?: string; limit: number; period: Duration };
  /**
   * Which failures retry: `enabled`, error codes and types that are permanent or transient, and
   * the class of everything else (see docs/policies.md). Not stored on the job: the worker
   * applies the task's current policy when an attempt fails.
   */
  retry?: RetryOptions;
  /**
   * How long one attempt of its jobs may run, unless the enqueue gives its own `timeout`. Like
   * `retry`, not stored on the job: the worker applies the task's current one.
   */
  timeout?: Duration;
  /**
   * A job of this task that dies (its last attempt failed, its error is permanent, or its
   * worker vanished during its last attempt; not a cancel) enqueues a job of this task, in the
   * same transaction: `{ job, payload, error }` (see core/follow-up.ts).
   */
  onDead?: FollowUpOption;
  /** A job of this task that succeeds enqueues a job of this task, in the same transaction: `{ job, payload, result }`. */
  onSuccess?: FollowUpOption;
  /**
   * This task's execution mode, over the node's switch (core/execution.ts): `dry-run` keeps it dry
   * when execution is on; `enabled` lets a task whose side effects are harmless do them while the
   * switch is off. Its handlers read the result as `ctx.execution`. Not stored on the job.
   */
  execution?: ExecutionMode;
}

/** A validated job, ready for a store to insert. */
export interface NewJob {
  id: string;
  task: string;
  queue: string;
  payloadJson: string;
  priority: number;
  /** Absolute start in epoch ms, or null to start `delayMs` after the store's now. */
  runAtMs: number | null;
  delayMs: number;
  maxAttempts: number;
  backoff: BackoffPolicy;
  idempotencyKey: string | null;
  idempotencyTtlMs: number;
  concurrency: ConcurrencyRule | null;
  rateLimit: RateLimitRule | null;
  enqueuedBy: string | null;
  /** The enqueue's own `timeout`, or null to use the task's. */
  timeoutMs: number | null;
  /**
   * The trace the job joins: set by whoever enqueues it inside a span (the SDK's enqueue, a
   * worker's follow-up), never by an option. buildNewJob leaves it null.
   */
  traceContext: TraceContext | null;
}

/** Timers in Node hold at most 2^31 - 1 ms (about 24.8 days); a longer one would fire at once. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** An attempt timeout: a duration from 1 ms to MAX_TIMEOUT_MS. */
export function parseTimeout(value: Duration, field = "timeout"): number {
  const ms = parseDuration(value, field);
  if (ms < 1 || ms > MAX_TIMEOUT_MS) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `${field} must be from 1ms to ${MAX_TIMEOUT_MS}ms (about 24 days), got ${describe(value)}`,
      { field },
    );
  }
  return ms;
}

export function validateName(value: unknown, field: string): string {
  if (typeof value !== "string" || !NAME_PATTERN.test(value)) {
    throw new OverseerError(
      field === "task" ? "INVALID_TASK_NAME" : "INVALID_ARGUMENT",
      `${field} must be 1-128 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit; got ${describe(value)}`,
      { field },
    );
  }
  return value;
}

export function parsePriority(value: unknown, field = "priority"): number {
  // hasOwn, not `in`: "toString" or "constructor" must not resolve to Object.prototype's members.
  if (typeof value === "string" && Object.hasOwn(PRIORITY_NAMES, value)) return PRIORITY_NAMES[value as PriorityName];
  if (typeof value === "number" && Number.isInteger(value) && Math.abs(value) <= MAX_PRIORITY) return value;
  throw new OverseerError(
    "INVALID_ARGUMENT",
    `${field} must be an integer between -${MAX_PRIORITY} and ${MAX_PRIORITY} or one of high, default, low; got ${describe(value)}`,
    { field },
  );
}

/** JSON.stringify that refuses what it would otherwise drop or mangle silently. */
export function serializePayload(payload: unknown): string {
  if (payload === undefined) return "null";
  let json: string | undefined;
  try {
    json = JSON.stringify(payload, strictReplacer);
  } catch (err) {
    throw new OverseerError("INVALID_PAYLOAD", `payload is not JSON-serialisable: ${(err as Error).message}`, {
      field: "payload",
    });
  }
  if (json === undefined) {
    throw new OverseerError("INVALID_PAYLOAD", "payload is not JSON-serialisable", { field: "payload" });
  }
  return json;
}

function strictReplacer(this: unknown, key: string, value: unknown): unknown {
  switch (typeof value) {
    case "function":
    case "symbol":
    case "bigint":
      throw new TypeError(`${key === "" ? "the payload" : `field "${key}"`} is a ${typeof value}`);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`field "${key}" is ${value}`);
      return value;
    case "undefined":
      // undefined inside arrays becomes null silently; inside objects the key vanishes. Both lose data.
      throw new TypeError(`${key === "" ? "the payload" : `field "${key}"`} is undefined`);
    default:
      return value;
  }
}

function positiveInt(value: unknown, field: string, max = 1_000_000): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= max) return value;
  throw new OverseerError("INVALID_ARGUMENT", `${field} must be an integer from 1 to ${max}; got ${describe(value)}`, {
    field,
  });
}

function fraction(value: unknown, field: string): number {
  if (value === undefined) return DEFAULT_BACKOFF.jitter;
  if (typeof value === "number" && value >= 0 && value <= 1) return value;
  throw new OverseerError("INVALID_ARGUMENT", `${field} must be a number from 0 to 1; got ${describe(value)}`, {
    field,
  });
}

export function parseBackoff(value: BackoffOption | undefined, field = "backoff"): BackoffPolicy {
  if (value === undefined) return DEFAULT_BACKOFF;
  if (Array.isArray(value)) return scheduleBackoff(value, undefined, field, field);
  if (value === null || typeof value !== "object") {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `${field} must be a list of delays or an object with a type of exponential, fixed or schedule; got ${describe(value)}`,
      { field },
    );
  }
  const option = value as Exclude<BackoffOption, readonly Duration[]>;
  if (option.type === "exponential") {
    const base = option.base === undefined ? DEFAULT_BACKOFF.baseMs : parseDuration(option.base, `${field}.base`);
    const cap = option.cap === undefined ? DEFAULT_BACKOFF.capMs : parseDuration(option.cap, `${field}.cap`);
    if (cap < base) {
      throw new OverseerError("INVALID_ARGUMENT", `${field}.cap must not be smaller than ${field}.base`, { field });
    }
    return { type: "exponential", baseMs: base, capMs: cap, jitter: fraction(option.jitter, `${field}.jitter`) };
  }
  if (option.type === "fixed") {
    return {
      type: "fixed",
      delayMs: parseDuration(option.delay, `${field}.delay`),
      jitter: option.jitter === undefined ? 0 : fraction(option.jitter, `${field}.jitter`),
    };
  }
  if (option.type === "schedule") return scheduleBackoff(option.delays, option.jitter, `${field}.delays`, field);
  throw new OverseerError(
    "INVALID_ARGUMENT",
    `${field}.type must be exponential, fixed or schedule; got ${describe((option as { type?: unknown }).type)}`,
    { field: `${field}.type` },
  );
}

function scheduleBackoff(delays: unknown, jitter: unknown, field: string, policyField: string): BackoffPolicy {
  if (!Array.isArray(delays) || delays.length === 0 || delays.length > MAX_SCHEDULE_DELAYS) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `${field} must be a list of 1 to ${MAX_SCHEDULE_DELAYS} delays such as ["1m", "5m", "15m"]; got ${Array.isArray(delays) ? `a list of ${delays.length}` : describe(delays)}`,
      { field },
    );
  }
  return {
    type: "schedule",
    delaysMs: delays.map((d, i) => parseDuration(d as Duration, `${field}[${i}]`)),
    jitter: jitter === undefined ? 0 : fraction(jitter, `${policyField}.jitter`),
  };
}

function parseRunAt(value: unknown): number {
  const ms =
    value instanceof Date
      ? value.getTime()
      : typeof value === "string"
        ? Date.parse(value)
        : typeof value === "number"
          ? value
          : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `runAt must be a Date, an ISO-8601 timestamp or epoch milliseconds; got ${describe(value)}`,
      { field: "runAt" },
    );
  }
  return ms;
}

function optionalKey(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string" && value.length > 0 && value.length <= 512) return value;
  throw new OverseerError("INVALID_ARGUMENT", `${field} must be a string of 1-512 characters; got ${describe(value)}`, {
    field,
  });
}

function onLimit(value: unknown, field: string): "wait" | "reject" {
  if (value === undefined || value === "wait") return "wait";
  if (value === "reject") return "reject";
  throw new OverseerError("INVALID_ARGUMENT", `${field} must be wait or reject; got ${describe(value)}`, { field });
}

const OPTION_KEYS = new Set([
  "queue",
  "priority",
  "runAt",
  "delay",
  "maxAttempts",
  "backoff",
  "idempotencyKey",
  "idempotencyTtl",
  "concurrencyKey",
  "concurrency",
  "rateLimit",
  "enqueuedBy",
  "timeout",
]);

/** Validates one enqueue call and merges it over the task's defaults. Throws OverseerError; never returns half a job. */
export function buildNewJob(
  task: unknown,
  payload: unknown,
  options: EnqueueOptions | undefined,
  defaults: TaskDefaults | undefined,
): NewJob {
  const name = validateName(task, "task");
  const o: EnqueueOptions = options ?? {};
  const d: TaskDefaults = defaults ?? {};
  if (typeof o !== "object" || o === null || Array.isArray(o)) {
    throw new OverseerError("INVALID_ARGUMENT", "options must be an object", { field: "options" });
  }
  for (const key in o) {
    if (!OPTION_KEYS.has(key)) {
      throw new OverseerError("INVALID_ARGUMENT", `unknown enqueue option "${key}"`, { field: key });
    }
  }
  if (o.runAt !== undefined && o.delay !== undefined) {
    throw new OverseerError("INVALID_ARGUMENT", "give either runAt or delay, not both", { field: "delay" });
  }

  const concurrencyKey = optionalKey(o.concurrencyKey, "concurrencyKey");
  let concurrency: ConcurrencyRule | null = null;
  if (o.concurrency !== undefined) {
    const c = o.concurrency;
    if (c === null || typeof c !== "object") {
      throw new OverseerError("INVALID_ARGUMENT", "concurrency must be an object with key and limit", {
        field: "concurrency",
      });
    }
    concurrency = {
      key: optionalKey(c.key, "concurrency.key") ?? requiredKey("concurrency.key"),
      limit: positiveInt(c.limit, "concurrency.limit"),
      onLimit: onLimit(c.onLimit, "concurrency.onLimit"),
    };
  } else if (concurrencyKey !== null) {
    if (!d.concurrency) {
      throw new OverseerError(
        "INVALID_ARGUMENT",
        `concurrencyKey needs a limit: define the task with concurrency: { limit } or pass concurrency: { key, limit }`,
        { field: "concurrencyKey" },
      );
    }
    concurrency = {
      key: concurrencyKey,
      limit: positiveInt(d.concurrency.limit, "task concurrency.limit"),
      onLimit: onLimit(d.concurrency.onLimit, "task concurrency.onLimit"),
    };
  }

  const rate = o.rateLimit ?? d.rateLimit;
  let rateLimit: RateLimitRule | null = null;
  if (rate !== undefined) {
    if (rate === null || typeof rate !== "object") {
      throw new OverseerError("INVALID_ARGUMENT", "rateLimit must be an object with limit and period", {
        field: "rateLimit",
      });
    }
    const periodMs = parseDuration(rate.period, "rateLimit.period");
    if (periodMs < 1)
      throw new OverseerError("INVALID_ARGUMENT", "rateLimit.period must be at least 1ms", {
        field: "rateLimit.period",
      });
    rateLimit = {
      key: optionalKey(rate.key, "rateLimit.key") ?? `task:${name}`,
      limit: positiveInt(rate.limit, "rateLimit.limit", 1_000_000_000),
      periodMs,
    };
  }

  const runAtMs = o.runAt === undefined ? null : parseRunAt(o.runAt);
  return {
    id: newId(),
    task: name,
    queue: validateName(o.queue ?? d.queue ?? DEFAULT_QUEUE, "queue"),
    payloadJson: serializePayload(payload),
    priority:
      o.priority === undefined ? (d.priority === undefined ? 0 : parsePriority(d.priority)) : parsePriority(o.priority),
    runAtMs,
    delayMs: o.delay === undefined ? 0 : parseDuration(o.delay, "delay"),
    maxAttempts:
      o.maxAttempts !== undefined
        ? positiveInt(o.maxAttempts, "maxAttempts", 1_000)
        : d.maxAttempts !== undefined
          ? positiveInt(d.maxAttempts, "maxAttempts", 1_000)
          : DEFAULT_MAX_ATTEMPTS,
    backoff: o.backoff !== undefined ? parseBackoff(o.backoff) : parseBackoff(d.backoff),
    idempotencyKey: optionalKey(o.idempotencyKey, "idempotencyKey"),
    idempotencyTtlMs:
      o.idempotencyTtl !== undefined
        ? parseDuration(o.idempotencyTtl, "idempotencyTtl")
        : d.idempotencyTtl !== undefined
          ? parseDuration(d.idempotencyTtl, "idempotencyTtl")
          : DEFAULT_IDEMPOTENCY_TTL_MS,
    concurrency,
    rateLimit,
    enqueuedBy: optionalKey(o.enqueuedBy, "enqueuedBy"),
    timeoutMs: o.timeout === undefined ? null : parseTimeout(o.timeout),
    traceContext: null,
  };
}

function requiredKey(field: string): never {
  throw new OverseerError("INVALID_ARGUMENT", `${field} is required`, { field });
}

export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return value.length > 60 ? `"${value.slice(0, 57)}..."` : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  return typeof value;
}
