/**
 * A queue's circuit breaker: when the share of failed attempts among a worker's recent ones
 * crosses a threshold, the queue stops running jobs (it is held, or its due jobs are diverted to
 * a fallback task), and after a cool-down one probe job runs for real: its success closes the
 * breaker, its failure opens it for another cool-down. Like Polly's and resilience4j's breakers,
 * except that the state is the database's, shared by every node, and the probe is a job of the
 * queue, run by whichever worker claims it.
 *
 * Pure: the options as people write them, the window of outcomes a worker keeps, the trip rule,
 * the state machine and how a probe's job tells its verdict. The store keeps the state
 * (store/queues/operations.ts); the worker feeds outcomes and runs the passes (engine/breakers.ts).
 */
import { type Duration, parseDuration } from "./duration.js";
import { OverseerError } from "./errors.js";
import { type FollowUpOption, parseFollowUp } from "./follow-up.js";
import { describe } from "./job-options.js";
import type { AttemptOutcome, JobState } from "./types.js";

/** A breaker as a worker's options or the config file's `breakers.<queue>` declare it. */
export interface BreakerOptions {
  /** Trips when at least this share of the window's attempts failed (0-1]. Default 0.5. */
  failureRate?: number;
  /** ...and the window holds at least this many attempts. Default 10. */
  minAttempts?: number;
  /** How far back the worker counts its attempts. Default 1 minute. */
  window?: Duration;
  /** How long the breaker stays open before a probe runs. Default 30 s. */
  cooldown?: Duration;
  /**
   * Error codes (or error class names) that say nothing about what the queue's jobs call, such as
   * a callee that did not answer: attempts failing with them are not counted at all.
   */
  ignoreErrors?: readonly string[];
  /**
   * While open, the queue's due jobs end `cancelled` and each is handed to this task instead (a
   * follow-up job with the same payload shape as `onDead`'s, error code CIRCUIT_OPEN). Left out:
   * the queue is held, its jobs wait.
   */
  divertTo?: FollowUpOption;
}

export interface BreakerPolicy {
  failureRate: number;
  minAttempts: number;
  windowMs: number;
  cooldownMs: number;
  divertTo: FollowUpOption | null;
  ignoreErrors: ReadonlySet<string>;
}

export const BREAKER_DEFAULTS = { failureRate: 0.5, minAttempts: 10, windowMs: 60_000, cooldownMs: 30_000 } as const;

const OPTION_KEYS = new Set(["failureRate", "minAttempts", "window", "cooldown", "divertTo", "ignoreErrors"]);

/** The policy, or INVALID_ARGUMENT naming the field (`breakers.calls.failureRate`). */
export function parseBreaker(value: unknown, field: string): BreakerPolicy {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw invalid(field, `must be an object; got ${describe(value)}`);
  }
  const options = value as Record<string, unknown>;
  const unknown = Object.keys(options).find((key) => !OPTION_KEYS.has(key));
  if (unknown !== undefined) throw invalid(`${field}.${unknown}`, "is not a breaker option");
  const rate = options.failureRate ?? BREAKER_DEFAULTS.failureRate;
  if (typeof rate !== "number" || !(rate > 0 && rate <= 1)) {
    throw invalid(`${field}.failureRate`, `must be a number above 0 and at most 1; got ${describe(rate)}`);
  }
  const min = options.minAttempts ?? BREAKER_DEFAULTS.minAttempts;
  if (typeof min !== "number" || !Number.isInteger(min) || min < 1 || min > 1_000_000) {
    throw invalid(`${field}.minAttempts`, `must be a whole number from 1 to 1000000; got ${describe(min)}`);
  }
  const duration = (key: "window" | "cooldown", fallback: number): number => {
    const raw = options[key];
    if (raw === undefined) return fallback;
    if (typeof raw !== "number" && typeof raw !== "string") {
      throw invalid(`${field}.${key}`, `must be a duration such as "30s"; got ${describe(raw)}`);
    }
    const ms = parseDuration(raw, `${field}.${key}`);
    if (ms < 1_000 || ms > 7 * 86_400_000) throw invalid(`${field}.${key}`, "must be from 1s to 7d");
    return ms;
  };
  const ignore = options.ignoreErrors ?? [];
  if (
    !Array.isArray(ignore) ||
    ignore.length > 100 ||
    ignore.some((code) => typeof code !== "string" || code.length === 0 || code.length > 128)
  ) {
    throw invalid(`${field}.ignoreErrors`, `must be a list of at most 100 error codes; got ${describe(ignore)}`);
  }
  return {
    failureRate: rate,
    minAttempts: min,
    windowMs: duration("window", BREAKER_DEFAULTS.windowMs),
    cooldownMs: duration("cooldown", BREAKER_DEFAULTS.cooldownMs),
    divertTo: options.divertTo === undefined ? null : parseFollowUp(options.divertTo, `${field}.divertTo`),
    ignoreErrors: new Set(ignore as string[]),
  };
}

function invalid(field: string, message: string): OverseerError {
  return new OverseerError("INVALID_ARGUMENT", `${field} ${message}`, { field });
}

// -- the window a worker keeps ------------------------------------------------------------------

const BUCKETS = 12;

/**
 * Attempts and failures over the last `windowMs`, in twelve buckets: memory does not grow with
 * throughput, and the window slides a twelfth at a time.
 */
export class OutcomeWindow {
  private readonly bucketMs: number;
  private readonly starts = new Array<number>(BUCKETS).fill(Number.NEGATIVE_INFINITY);
  private readonly attempts = new Array<number>(BUCKETS).fill(0);
  private readonly failures = new Array<number>(BUCKETS).fill(0);

  constructor(windowMs: number) {
    this.bucketMs = Math.max(1, Math.ceil(windowMs / BUCKETS));
  }

  record(atMs: number, failed: boolean): void {
    const start = atMs - (atMs % this.bucketMs);
    const i = Math.floor(start / this.bucketMs) % BUCKETS;
    if (this.starts[i] !== start) {
      this.starts[i] = start;
      this.attempts[i] = 0;
      this.failures[i] = 0;
    }
    this.attempts[i] = (this.attempts[i] as number) + 1;
    if (failed) this.failures[i] = (this.failures[i] as number) + 1;
  }

  /** The counts of the buckets that began within the window before `atMs`. */
  counts(atMs: number): { attempts: number; failures: number } {
    let attempts = 0;
    let failures = 0;
    const oldest = atMs - BUCKETS * this.bucketMs;
    for (let i = 0; i < BUCKETS; i++) {
      const start = this.starts[i] as number;
      if (start > oldest && start <= atMs) {
        attempts += this.attempts[i] as number;
        failures += this.failures[i] as number;
      }
    }
    return { attempts, failures };
  }

  clear(): void {
    this.starts.fill(Number.NEGATIVE_INFINITY);
    this.attempts.fill(0);
    this.failures.fill(0);
  }
}

/** Whether these counts trip the breaker. */
export function shouldTrip(policy: BreakerPolicy, counts: { attempts: number; failures: number }): boolean {
  return counts.attempts >= policy.minAttempts && counts.failures >= policy.failureRate * counts.attempts;
}

// -- the shared state ---------------------------------------------------------------------------

export type BreakerState = "closed" | "open" | "half_open";

export const BREAKER_STATES: readonly BreakerState[] = ["closed", "open", "half_open"];

/**
 * `trip`: a worker's window crossed the threshold. `cooled`: the cool-down is over. `probe_ok` /
 * `probe_failed`: the probe job's verdict. `reset`: a person closed it.
 */
export type BreakerEvent = "trip" | "cooled" | "probe_ok" | "probe_failed" | "reset";

/** The state after `event`, or null where the event does not apply (a trip of an open breaker). */
export function nextBreakerState(state: BreakerState, event: BreakerEvent): BreakerState | null {
  switch (event) {
    case "trip":
      return state === "closed" ? "open" : null;
    case "cooled":
      return state === "open" ? "half_open" : null;
    case "probe_ok":
      return state === "half_open" ? "closed" : null;
    case "probe_failed":
      return state === "half_open" ? "open" : null;
    case "reset":
      return state === "closed" ? null : "closed";
  }
}

/** A breaker that is not closed, as a queue's record shows it. */
export interface QueueBreaker {
  state: Exclude<BreakerState, "closed">;
  openedAt: string;
  /** When an open breaker lets its probe run; when a half-open one picked its probe. */
  probeAt: string;
  /** The job running (or about to run) as the probe while half-open; null until one is due. */
  probeJobId: string | null;
  /** What tripped it: the window's counts as the tripping worker saw them. */
  trip: BreakerTrip;
}

export interface BreakerTrip {
  attempts: number;
  failures: number;
  windowMs: number;
  /** The task its due jobs go to while open; null: the queue is held. */
  divertTo: string | null;
}

/** The probe job as the breaker reads it: its state, and its last ended attempt (numbered by fencing token). */
export interface ProbeJob {
  state: JobState;
  lastAttempt: { number: number; outcome: AttemptOutcome } | null;
}

/**
 * What the probe says. `pending`: it has not run yet (or runs now); `ok`: its attempt ended
 * without failing (it succeeded, or a durable handler parked on a sleep or a wait, having done
 * its work up to there); `failed`: its attempt failed (the job waits for its retry, or is dead)
 * or its worker was lost; `gone`: it will not run now (cancelled, discarded, or waiting for a
 * person's approval), so another job is picked.
 */
export type ProbeVerdict = "pending" | "ok" | "failed" | "gone";

export function probeVerdict(job: ProbeJob | null, tokenAtPick: number): ProbeVerdict {
  if (job === null) return "gone";
  switch (job.state) {
    case "succeeded":
      return "ok";
    case "dead":
      return "failed";
    case "running":
      return "pending";
    case "queued":
    case "scheduled": {
      // Back in line after an attempt since the pick: it failed (or was lost) and waits for its
      // retry, or it parked. One handed back unrun (released) stays the probe.
      const last = job.lastAttempt;
      if (last === null || last.number <= tokenAtPick || last.outcome === "released") return "pending";
      return last.outcome === "parked" ? "ok" : "failed";
    }
    case "cancelled":
    case "awaiting_approval":
      return "gone";
  }
}
