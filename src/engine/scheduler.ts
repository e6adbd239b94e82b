/**
 * The scheduler: a supervised loop that fires due ticks of the stored schedules. Any number of
 * schedulers may run against one database; the store's `fireScheduleTick` makes each tick
 * enqueue exactly one job, so this loop only has to be prompt, never exclusive.
 * It wakes at the next tick, and at least every `maxSleepMs`, so that schedules enabled or
 * changed by another process are noticed without a restart.
 */
import { type BackoffOption, buildNewJob, type EnqueueOptions, type TaskDefaults } from "../core/job-options.js";
import type { Logger } from "../core/logger.js";
import { toJobError } from "../core/retry-policy.js";
import { dueTicks, nextTick } from "../core/schedule.js";
import type { ScheduleDefinition, ScheduleRecord } from "../core/types.js";
import type { Store } from "../store/store.js";
import { SupervisedLoop } from "./supervised-loop.js";

export interface SchedulerOptions {
  /**
   * The schedules to register (synced into the store on start), or a function producing them
   * (called by `start`, which rejects if it does). Omit to fire what the store already holds.
   */
  schedules?: readonly ScheduleDefinition[] | (() => Promise<readonly ScheduleDefinition[]>);
  /** Task defaults (queue, priority, retries) for the jobs of a task, when this process knows the task. */
  defaultsFor?: (task: string) => TaskDefaults | undefined | Promise<TaskDefaults | undefined>;
  /** Longest sleep between passes. Default 1 s. */
  maxSleepMs?: number;
}

export interface SchedulerStats {
  fired: number;
  failures: number;
}

const MIN_SLEEP_MS = 5;

export class Scheduler {
  readonly stats: SchedulerStats = { fired: 0, failures: 0 };
  private readonly loop: SupervisedLoop;
  private readonly maxSleepMs: number;
  /** Schedules whose last attempt to fire failed, so a failure is reported once, not every second. */
  private readonly failing = new Set<string>();
  private started = false;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly options: SchedulerOptions = {},
  ) {
    this.maxSleepMs = options.maxSleepMs ?? 1_000;
    this.loop = new SupervisedLoop({
      name: "scheduler",
      body: () => this.pass(),
      logger,
      onFailure: (err) => {
        this.stats.failures++;
        this.report(null, err);
      },
    });
  }

  /** Registers the schedules (if given), then starts firing. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const given = this.options.schedules;
    if (given) {
      const schedules = typeof given === "function" ? await given() : given;
      const synced = await this.store.syncSchedules(schedules);
      this.logger.info({ ...synced }, "schedules synced");
    }
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** One pass: fire every due tick, then say how long to sleep until the next one. */
  async pass(): Promise<number> {
    const now = await this.store.now();
    const schedules = await this.store.listSchedules();
    let next = now + this.maxSleepMs;
    for (const s of schedules) {
      if (!s.enabled || s.removed) continue;
      await this.fireDue(s, now);
      const upcoming = nextTick(s.cron, s.timezone, now);
      if (upcoming !== null && upcoming < next) next = upcoming;
    }
    return Math.max(MIN_SLEEP_MS, next - (await this.store.now()));
  }

  private async fireDue(s: ScheduleRecord, now: number): Promise<void> {
    try {
      const ticks = dueTicks({
        cron: s.cron,
        timezone: s.timezone,
        lastTickMs: s.lastTickAt === null ? null : Date.parse(s.lastTickAt),
        sinceMs: Date.parse(s.activeSince),
        nowMs: now,
        catchUp: s.catchUp,
      });
      let first = true;
      for (const tick of ticks) {
        const options = { ...scheduledJobOptions(s), runAt: tick };
        const job = buildNewJob(s.task, s.payload, options, await this.options.defaultsFor?.(s.task));
        const { fired } = await this.store.fireScheduleTick(s.name, tick, job);
        if (fired) this.stats.fired++;
        // Only the scheduler that fired the first due tick reports the ticks skipped before it: once.
        if (fired && first) await this.reportMissed(s, tick);
        first = false;
      }
      this.failing.delete(s.name);
    } catch (err) {
      // One broken schedule must not stop the others: report it (once) and carry on.
      this.stats.failures++;
      if (!this.failing.has(s.name)) {
        this.failing.add(s.name);
        this.report(s.name, err);
      }
    }
  }

  /** Appends `schedule.missed` when owed ticks before `firstFired` were skipped (a down time longer than catchUp). */
  private async reportMissed(s: ScheduleRecord, firstFired: number): Promise<void> {
    const floor = Math.max(s.lastTickAt === null ? 0 : Date.parse(s.lastTickAt) + 1, Date.parse(s.activeSince));
    const missed: number[] = [];
    let t = nextTick(s.cron, s.timezone, floor - 1);
    while (t !== null && t < firstFired && missed.length < 10_000) {
      missed.push(t);
      t = nextTick(s.cron, s.timezone, t);
    }
    if (missed.length === 0) return;
    const data = {
      schedule: s.name,
      missed: missed.length,
      first: new Date(missed[0] as number).toISOString(),
      last: new Date(missed.at(-1) as number).toISOString(),
    };
    this.logger.warn(data, "a schedule missed ticks");
    await this.store.appendEvents([{ kind: "schedule.missed", data }]);
  }

  /** `schedule` is null when the loop itself failed (listing schedules, reading the clock). */
  private report(schedule: string | null, err: unknown): void {
    const error = toJobError(err);
    this.logger.error({ err, schedule }, "scheduler could not fire a schedule");
    this.store
      .appendEvents([{ kind: "schedule.fire_failed", data: { schedule, code: error.code, message: error.message } }])
      .catch((appendErr: unknown) =>
        this.logger.error({ err: appendErr, schedule }, "could not record a scheduler failure in the event log"),
      );
  }
}

/** The options of the jobs a schedule fires (at its ticks, or run now): what it sets; the task's defaults do the rest. */
export function scheduledJobOptions(s: ScheduleRecord): EnqueueOptions {
  return {
    ...(s.queue === null ? {} : { queue: s.queue }),
    ...(s.priority === null ? {} : { priority: s.priority }),
    ...(s.maxAttempts === null ? {} : { maxAttempts: s.maxAttempts }),
    ...(s.backoff === null ? {} : { backoff: s.backoff as BackoffOption }),
  };
}
