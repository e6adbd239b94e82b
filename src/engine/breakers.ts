/**
 * A worker's side of the queues' circuit breakers (core/breaker.ts): it counts the outcomes of the
 * attempts it ran in each queue with a breaker, trips the breaker when its window crosses the
 * threshold, and moves every breaker on at each maintenance pass (cool-down, probe verdict,
 * diverting due jobs). The state is the store's, so a breaker tripped on one node holds the
 * queue on all of them, and the probe is whichever worker claims the probe job.
 */
import { type BreakerOptions, type BreakerPolicy, OutcomeWindow, parseBreaker, shouldTrip } from "../core/breaker.js";
import { OverseerError } from "../core/errors.js";
import { deadPayload, followUpJob, followUpTask } from "../core/follow-up.js";
import { DEFAULT_QUEUE, describe, type NewJob, type TaskDefaults, validateName } from "../core/job-options.js";
import type { Logger } from "../core/logger.js";
import type { Job, JobError } from "../core/types.js";
import type { Store } from "../store/store.js";

/** Due jobs diverted per transaction, and transactions per pass (the rest wait for the next pass). */
const DIVERT_BATCH = 100;
const DIVERT_BATCHES = 10;

interface Breaker {
  policy: BreakerPolicy;
  window: OutcomeWindow;
  /** A trip being written: outcomes meanwhile are not counted twice into another. */
  tripping: boolean;
}

/** Parses `breakers` as a worker's options give them: queue name → options. */
export function parseBreakers(value: unknown, field = "breakers"): Map<string, BreakerPolicy> {
  const policies = new Map<string, BreakerPolicy>();
  if (value === undefined || value === null) return policies;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `${field} must map queue names to breaker options; got ${describe(value)}`,
      {
        field,
      },
    );
  }
  for (const [queue, options] of Object.entries(value as Record<string, BreakerOptions>)) {
    validateName(queue, `${field} queue name`);
    policies.set(queue, parseBreaker(options, `${field}.${queue}`));
  }
  return policies;
}

/** The tasks the breakers divert to: a worker that does not define one reads its defaults from the registry. */
export function divertTasks(policies: ReadonlyMap<string, BreakerPolicy>): string[] {
  return [...policies.values()].flatMap((p) => (p.divertTo === null ? [] : [followUpTask(p.divertTo)]));
}

export class Breakers {
  private readonly breakers = new Map<string, Breaker>();

  constructor(
    private readonly store: Pick<Store, "tripBreaker" | "breakerPass">,
    private readonly logger: Logger,
    policies: ReadonlyMap<string, BreakerPolicy>,
    /** The divert task's defaults, as the worker knows them. */
    private readonly defaultsOf: (task: string) => TaskDefaults | undefined,
    private readonly now: () => number = Date.now,
  ) {
    for (const [queue, policy] of policies) {
      this.breakers.set(queue, { policy, window: new OutcomeWindow(policy.windowMs), tripping: false });
      // Known now when the worker defines the divert task (or the option names a queue); else checked at each pass.
      if (this.knownDivertQueue(policy) === queue) {
        throw new OverseerError(
          "INVALID_ARGUMENT",
          `breakers.${queue}.divertTo would put the diverted jobs back in queue ${queue}; give it another queue`,
          { field: `breakers.${queue}.divertTo` },
        );
      }
    }
  }

  /**
   * Counts one recorded attempt of a job in `queue` (`error`: the failure, or null for a success);
   * trips its breaker when the window says so. A failure with an ignored code counts as nothing.
   */
  record(queue: string, error: JobError | null): void {
    const breaker = this.breakers.get(queue);
    if (breaker === undefined || breaker.tripping) return;
    const { ignoreErrors } = breaker.policy;
    if (
      error !== null &&
      (ignoreErrors.has(error.code) || (error.type !== undefined && ignoreErrors.has(error.type)))
    ) {
      return;
    }
    const failed = error !== null;
    const at = this.now();
    breaker.window.record(at, failed);
    const counts = breaker.window.counts(at);
    if (!failed || !shouldTrip(breaker.policy, counts)) return;
    breaker.tripping = true;
    void this.trip(queue, breaker, counts).finally(() => {
      breaker.tripping = false;
    });
  }

  /** Moves every breaker on; run at each maintenance pass. One queue's failure does not stop the others'. */
  async pass(): Promise<void> {
    for (const queue of this.breakers.keys()) await this.passSafely(queue);
  }

  private async passSafely(queue: string): Promise<void> {
    try {
      await this.passOne(queue);
    } catch (err) {
      this.logger.error({ err, queue }, "circuit breaker pass failed; will try at the next pass");
    }
  }

  private async trip(queue: string, breaker: Breaker, counts: { attempts: number; failures: number }): Promise<void> {
    const { policy } = breaker;
    const divertTo = policy.divertTo === null ? null : followUpTask(policy.divertTo);
    let opened: boolean;
    try {
      opened = await this.store.tripBreaker(
        queue,
        { ...counts, windowMs: policy.windowMs, divertTo },
        policy.cooldownMs,
      );
    } catch (err) {
      this.logger.error({ err, queue }, "could not trip the circuit breaker; will try at the next failure");
      return;
    }
    breaker.window.clear();
    if (!opened) return;
    this.logger.warn(
      { queue, ...counts, windowMs: policy.windowMs, cooldownMs: policy.cooldownMs, divertTo },
      divertTo === null
        ? "circuit breaker opened: the queue is held until a probe succeeds"
        : `circuit breaker opened: the queue's due jobs go to ${divertTo} until a probe succeeds`,
    );
    // Divert at once rather than at the next maintenance pass.
    await this.passSafely(queue);
  }

  private async passOne(queue: string): Promise<void> {
    const breaker = this.breakers.get(queue) as Breaker;
    const { policy } = breaker;
    const divertTo = policy.divertTo;
    let divert: ((job: Job) => NewJob) | null = null;
    if (divertTo !== null) {
      if ((this.knownDivertQueue(policy) ?? DEFAULT_QUEUE) === queue) {
        // Its task's defaults came from the registry (or nowhere): diverting would feed the queue its own jobs.
        this.logger.error(
          { queue, divertTo: followUpTask(divertTo) },
          "the breaker's divert task's jobs go to the breaker's own queue; holding the queue instead",
        );
      } else divert = (job: Job): NewJob => this.divertJob(divertTo, job);
    }
    // A backlog goes over in batches, each its own transaction.
    let pass = await this.store.breakerPass(queue, policy.cooldownMs, divert, DIVERT_BATCH);
    for (let batch = 1; batch < DIVERT_BATCHES && pass.diverted === DIVERT_BATCH; batch++) {
      pass = await this.store.breakerPass(queue, policy.cooldownMs, divert, DIVERT_BATCH);
    }
    // Attempts from before the breaker opened say nothing once it closes again.
    if (pass.state !== "closed") breaker.window.clear();
  }

  /**
   * The queue the divert task's jobs go to: the option's, or the task's defaults' as this worker
   * knows them (the default queue if they name none); undefined while it knows no defaults of the task.
   */
  private knownDivertQueue(policy: BreakerPolicy): string | undefined {
    if (policy.divertTo === null) return undefined;
    if (typeof policy.divertTo !== "string" && policy.divertTo.queue !== undefined) return policy.divertTo.queue;
    const defaults = this.defaultsOf(followUpTask(policy.divertTo));
    return defaults === undefined ? undefined : (defaults.queue ?? DEFAULT_QUEUE);
  }

  private divertJob(divertTo: NonNullable<BreakerPolicy["divertTo"]>, job: Job): NewJob {
    const ended = { id: job.id, task: job.task, queue: job.queue, attempts: job.attempts, payload: job.payload };
    const error = {
      code: "CIRCUIT_OPEN",
      message: `queue ${job.queue}'s circuit breaker is open: diverted without running`,
      retryable: false,
    };
    const diverted = followUpJob(divertTo, deadPayload(ended, error), this.defaultsOf(followUpTask(divertTo)));
    // In the trace the job was enqueued in, if any: the diverted job is where it went.
    diverted.traceContext = job.traceContext;
    return diverted;
  }
}
