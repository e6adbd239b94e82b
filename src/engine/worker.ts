/**
 * A worker claims ready jobs for the tasks it has handlers for and runs them, up to its
 * concurrency, each under a lease that a heartbeat keeps extending. Invariants:
 * - a job's result is recorded only with the lease it was claimed under (fencing token);
 * - a worker that loses a lease aborts that handler and records nothing for it;
 * - stopping never loses a job: unfinished handlers are aborted and their jobs handed back
 *   uncounted, or, if the process dies first, their leases expire and others take over;
 * - a quiet worker (an operator's command, read with each heartbeat) starts no job: it hands
 *   back, uncounted, the jobs it holds unstarted and any a claim in flight brings, and lets the
 *   ones it runs finish.
 */

import { hostname } from "node:os";
import type { Span } from "@opentelemetry/api";
import type { BreakerOptions } from "../core/breaker.js";
import { OverseerError } from "../core/errors.js";
import { followUpOf, followUpTask } from "../core/follow-up.js";
import { DEFAULT_GATE_POLICY, type GatePolicy } from "../core/gate-policy.js";
import { newId } from "../core/ids.js";
import { type NewJob, parseTimeout, serializePayload, type TaskDefaults } from "../core/job-options.js";
import type { Logger } from "../core/logger.js";
import { type DeadReason, resolveRetryPolicy, shouldRetry, toJobError } from "../core/retry-policy.js";
import type { AbortReason, TaskDefinition } from "../core/task.js";
import type { ClaimedJob, JobError, Lease } from "../core/types.js";
import type { AttemptResult, ClaimRequest, Store, WorkerCounts } from "../store/store.js";
import { Breakers, divertTasks, parseBreakers } from "./breakers.js";
import { ExecutionAbort } from "./execution-abort.js";
import { ExecutionReader } from "./execution-reader.js";
import { FinishBatcher } from "./finish-batcher.js";
import { HandlerContext, type HandlerServices } from "./handler-context.js";
import { Lessons } from "./lessons.js";
import { nextMeanRunMs, type Prefetch, plannedRunMs, prefetchFor } from "./prefetch.js";
import { msSince, type Stamp, StartBatcher, stamp, startMode } from "./start-batcher.js";
import { SupervisedLoop } from "./supervised-loop.js";
import { type ClaimMark, endAttemptSpan, inSpan, startAttemptSpan, traceContextOf } from "./tracing.js";
import { watchdogPass } from "./watchdogs.js";

/** After a claim that took fewer jobs than it asked for, how soon the worker looks again (see `claimPass`). */
export const SHORT_CLAIM_RECHECK_MS = 25;

export interface WorkerOptions {
  /** Jobs run at once. Default 10. */
  concurrency?: number;
  /**
   * Jobs claimed ahead of free slots and held here, leased, until a slot frees. Default "auto":
   * as many as the slots finish in about 100 ms at the handlers' recent pace (none for long jobs;
   * see prefetch.ts). Many short jobs then cost one claim per batch instead of one per freed
   * slot: a few network round trips on PostgreSQL, a transaction on SQLite. A held job counts as
   * running (and is heartbeated) from its claim, and no other worker can take it meanwhile. Its
   * attempt starts only when it takes a slot, and counts once that start is recorded (mostly
   * within 50 ms after its handler began, see start-batcher.ts): if this process dies first, its
   * lease expires and it goes back to the queue without losing an attempt.
   */
  prefetch?: Prefetch;
  /** Queues to claim from; all queues if omitted. */
  queues?: readonly string[] | null;
  /** Lease length. Default 30 s. A job whose worker stops heartbeating runs again after this. */
  leaseMs?: number;
  /** How often leases are extended. Default a third of the lease, at most 5 s. */
  heartbeatMs?: number;
  /** Safety-net poll when no wakeup arrives. Default 1 s. */
  pollMs?: number;
  /** How often this worker looks for expired leases and lost workers. Default 1 s. */
  maintenanceMs?: number;
  /** A worker that has not heartbeated for this long is marked lost. Default max(2 x lease, 30 s). */
  workerStaleMs?: number;
  /** On stop, how long running jobs may finish before they are aborted. Default 10 s. */
  shutdownTimeoutMs?: number;
  /** After aborting, how long handlers get to settle before their jobs are handed back regardless. Default 1 s. */
  abortGraceMs?: number;
  name?: string;
  /** The gate policy `ctx.gate` consults. Default: the built-in one (docs/policies.md). */
  gates?: GatePolicy;
  /** An approval request's timeout when its handler gives none. Default 24 h. */
  approvalTimeoutMs?: number;
  /**
   * The approver groups the config defines (`approvals.groups`): a request naming any other
   * `group:` is refused. Null or left out: not checked (the SDK passes its config's groups when
   * it defines any).
   */
  approvalGroups?: readonly string[] | null;
  /** Where `ctx.recordLesson` stores lessons (with the Overseer's embedder). Default: the store, without one. */
  lessons?: Lessons;
  /** Reads the node's execution switch; the SDK passes its own, which sees its changes at once. */
  execution?: ExecutionReader;
  /**
   * More work for each maintenance pass (the escalation dispatcher and alert rules, see
   * alerts/delivery.ts); like the rest of the pass it should read first and write only when due.
   */
  onMaintenance?: () => Promise<void>;
  /**
   * Circuit breakers by queue name (see core/breaker.ts): this worker counts its attempts' outcomes
   * in those queues, trips a queue's breaker when too many fail, and moves the breakers on at each
   * maintenance pass. The config file's `breakers` come here for workers the SDK starts.
   */
  breakers?: Readonly<Record<string, BreakerOptions>>;
}

interface Running {
  claimed: ClaimedJob;
  lease: Lease;
  /** A held job's start being recorded first (see `startMode`): its handler waits for it. Null otherwise. */
  starting: Promise<boolean> | null;
  abort: ExecutionAbort;
  /** Settles when the handler has settled and its result is recorded (or dropped). */
  done: Promise<void>;
  /** Set once its outcome has been decided elsewhere (handed back at shutdown). */
  detached: boolean;
  /** The handler parked the job (a sleep or a wait): the park was its outcome. */
  parked: boolean;
  /** When its handler began, on this process's monotonic clock; null until it has. */
  began: number | null;
  /** Its handler has returned (or never ran): only its outcome is left to record. */
  ended: boolean;
  /** The claim that took it (its time and size), for its attempt's span. */
  claim: ClaimMark;
  /** Its attempt's span while its handler runs, when an OpenTelemetry SDK is installed; else null. */
  span: Span | null;
}

export interface WorkerStats {
  claimed: number;
  succeeded: number;
  failed: number;
  leasesLost: number;
  loopFailures: number;
}

export class Worker {
  readonly id: string;
  readonly name: string;
  readonly stats: WorkerStats = { claimed: 0, succeeded: 0, failed: 0, leasesLost: 0, loopFailures: 0 };
  private readonly concurrency: number;
  private readonly prefetch: Prefetch;
  /** Running mean of handler run times (see prefetch.ts); null until one has finished. */
  private meanRunMs: number | null = null;
  /**
   * Claimed with prefetch, waiting for a free slot, by job id, oldest first. `started`: the claim
   * recorded its start already (it was meant to start at once), so it needs no start of its own.
   * `confirmedAt`: when the request that took or last extended its lease was sent. `claim`:
   * the claim that took it.
   */
  private readonly held = new Map<
    string,
    { claimed: ClaimedJob; lease: Lease; started: boolean; confirmedAt: Stamp; claim: ClaimMark }
  >();
  /** Handlers running now. A slot frees when its handler returns, before its outcome is recorded. */
  private active = 0;
  /** Slots asked for by claims still in flight, so that two claims at once never over-fill. */
  private reserved = 0;
  /** Of those, the ones whose jobs the claims start at once (see `startRoom`). */
  private reservedStarts = 0;
  private readonly queues: readonly string[] | null;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly pollMs: number;
  private readonly maintenanceMs: number;
  /** What every handler's context shares (see handler-context.ts). */
  private readonly handlerServices: HandlerServices;
  private readonly workerStaleMs: number;
  private readonly shutdownTimeoutMs: number;
  private readonly abortGraceMs: number;
  private readonly tasks: ReadonlyMap<string, TaskDefinition>;
  /**
   * The task registry's defaults (`Store.taskDefaults`): a follow-up of a task this worker does
   * not define takes them. Read at start and at each maintenance pass, only by a worker whose
   * tasks name such a follow-up (`readsRegistry`).
   */
  private registry = new Map<string, TaskDefaults>();
  private readonly readsRegistry: boolean;
  private readonly taskNames: string[];
  private readonly running = new Map<string, Running>();
  private readonly finisher: FinishBatcher;
  private readonly starter: StartBatcher;
  private readonly claimLoop: SupervisedLoop;
  private readonly heartbeatLoop: SupervisedLoop;
  private readonly maintenanceLoop: SupervisedLoop;
  private readonly onMaintenance: (() => Promise<void>) | null;
  private readonly breakers: Breakers;
  private unsubscribe: (() => void) | null = null;
  /** `quiet`: running, claiming nothing (see `obey`). */
  private state: "new" | "running" | "quiet" | "stopping" | "stopped" = "new";
  private stopping: Promise<void> | null = null;
  /** The quiet and resume status writes, in the order they happened; a stop waits for them. */
  private statusWrites: Promise<void> = Promise.resolve();
  private stoppedByCommand: () => void = () => undefined;
  /**
   * Settles once this worker has stopped because an operator asked it to (`stop` command): what
   * a process that runs nothing else waits for to exit. Never settles otherwise.
   */
  readonly commandedStop: Promise<void> = new Promise<void>((resolve) => {
    this.stoppedByCommand = resolve;
  });

  constructor(
    private readonly store: Store,
    tasks: Iterable<TaskDefinition>,
    options: WorkerOptions = {},
    private readonly logger: Logger,
  ) {
    this.id = newId();
    this.name = options.name ?? `${hostname()}:${process.pid}`;
    this.concurrency = positive(options.concurrency ?? 10, "concurrency");
    this.prefetch = options.prefetch ?? "auto";
    if (this.prefetch !== "auto" && (!Number.isInteger(this.prefetch) || this.prefetch < 0)) {
      throw new OverseerError(
        "INVALID_ARGUMENT",
        `prefetch must be "auto" or a non-negative integer, got ${String(this.prefetch)}`,
        { field: "prefetch" },
      );
    }
    this.queues = options.queues && options.queues.length > 0 ? [...options.queues] : null;
    this.leaseMs = positive(options.leaseMs ?? 30_000, "leaseMs");
    this.heartbeatMs = positive(options.heartbeatMs ?? Math.min(5_000, Math.floor(this.leaseMs / 3)), "heartbeatMs");
    this.pollMs = positive(options.pollMs ?? 1_000, "pollMs");
    this.maintenanceMs = positive(options.maintenanceMs ?? 1_000, "maintenanceMs");
    this.handlerServices = {
      store,
      logger,
      workerId: this.id,
      gates: options.gates ?? DEFAULT_GATE_POLICY,
      approvalTimeoutMs: positive(options.approvalTimeoutMs ?? 24 * 3_600_000, "approvalTimeoutMs"),
      approvalGroups: options.approvalGroups ?? null,
      lessons: options.lessons ?? new Lessons(store, {}, logger),
      execution: options.execution ?? new ExecutionReader(store),
    };
    this.workerStaleMs = positive(options.workerStaleMs ?? Math.max(2 * this.leaseMs, 30_000), "workerStaleMs");
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
    this.abortGraceMs = options.abortGraceMs ?? 1_000;
    this.onMaintenance = options.onMaintenance ?? null;
    if (this.heartbeatMs >= this.leaseMs) {
      throw new OverseerError("INVALID_ARGUMENT", "heartbeatMs must be shorter than leaseMs", { field: "heartbeatMs" });
    }
    const map = new Map<string, TaskDefinition>();
    for (const t of tasks) map.set(t.name, t);
    this.tasks = map;
    const breakerPolicies = parseBreakers(options.breakers);
    this.readsRegistry =
      [...map.values()].some((t) =>
        [t.defaults.onDead, t.defaults.onSuccess].some((o) => o !== undefined && !map.has(followUpTask(o))),
      ) || divertTasks(breakerPolicies).some((task) => !map.has(task));
    this.breakers = new Breakers(
      store,
      logger,
      breakerPolicies,
      (task) => this.tasks.get(task)?.defaults ?? this.registry.get(task),
    );
    this.taskNames = [...map.keys()];
    const reportFailure = (loop: string) => (err: unknown) => {
      this.stats.loopFailures++;
      this.reportLoopFailure(loop, err);
    };
    // On SQLite each batch of outcomes claims for the slots that are free by then, so a claim pass
    // is needed only once no batch is pending (or when a claim had no room); see recordAndRefill.
    this.finisher = new FinishBatcher(
      (results) => this.recordAndRefill(results),
      logger,
      () => this.claimLoop.poke(),
    );
    this.starter = new StartBatcher((leases) => this.store.startHeld(leases), {
      running: (lease) => this.runningUnder(lease) !== null,
      failed: (err, leases) =>
        this.logger.error(
          { err, jobIds: leases.map((l) => l.jobId) },
          "recording held jobs' starts failed; they run on, uncounted should this worker die",
        ),
    });
    this.claimLoop = new SupervisedLoop({
      name: "claim",
      body: () => this.claimPass(),
      logger,
      onFailure: reportFailure("claim"),
    });
    this.heartbeatLoop = new SupervisedLoop({
      name: "heartbeat",
      body: () => this.heartbeatPass(),
      logger,
      onFailure: reportFailure("heartbeat"),
    });
    this.maintenanceLoop = new SupervisedLoop({
      name: "maintenance",
      body: () => this.maintenancePass(),
      logger,
      onFailure: reportFailure("maintenance"),
    });
  }

  /** Handlers running now. */
  get activeJobs(): number {
    return this.active;
  }

  /** Started and not stopping: running jobs, or quiet. */
  get isRunning(): boolean {
    return this.state === "running" || this.state === "quiet";
  }

  /** Quiet: an operator asked it to claim nothing more; it finishes the jobs it runs. */
  get isQuiet(): boolean {
    return this.state === "quiet";
  }

  /**
   * Reads the command an operator left for it now rather than at its next heartbeat (the SDK
   * calls it after a command made in this process).
   */
  checkCommands(): void {
    if (this.isRunning) this.heartbeatLoop.poke();
  }

  async start(): Promise<void> {
    if (this.state !== "new") throw new OverseerError("INVALID_ARGUMENT", "a worker can be started only once");
    this.state = "running";
    await this.store.registerWorker({
      id: this.id,
      name: this.name,
      host: hostname(),
      pid: process.pid,
      queues: this.queues,
      tasks: this.taskNames,
      concurrency: this.concurrency,
      defaults: Object.fromEntries([...this.tasks].map(([name, task]) => [name, JSON.stringify(task.defaults)])),
    });
    await this.readRegistry();
    // Known before the first job starts; kept fresh by each maintenance pass and by `current`.
    await this.handlerServices.execution.read();
    this.unsubscribe = this.store.onChange(() => this.claimLoop.poke());
    this.claimLoop.start();
    this.heartbeatLoop.start();
    this.maintenanceLoop.start();
    this.logger.info(
      { workerId: this.id, tasks: this.taskNames, queues: this.queues ?? "all", concurrency: this.concurrency },
      "worker started",
    );
  }

  /** Aborts one running job's handler now (a cancel made in this process). */
  abortJob(jobId: string, reason: AbortReason): boolean {
    const h = this.held.get(jobId);
    if (h) {
      // Not started yet: nothing to abort, only the outcome to record.
      this.held.delete(jobId);
      void this.recordUnstarted(h.lease, reason === "cancelled" ? "cancelled" : "released");
      return true;
    }
    const r = this.running.get(jobId);
    if (!r) return false;
    r.abort.abort(reason);
    return true;
  }

  /**
   * Graceful stop: claim nothing more, let running jobs finish for up to `shutdownTimeoutMs`,
   * then abort them and hand their jobs back without counting the attempt.
   */
  stop(options: { timeoutMs?: number } = {}): Promise<void> {
    this.stopping ??= this.shutdown(options.timeoutMs ?? this.shutdownTimeoutMs);
    return this.stopping;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    if (this.state === "new") {
      this.state = "stopped";
      return;
    }
    this.state = "stopping";
    this.unsubscribe?.();
    await this.claimLoop.stop();
    await this.statusWrites;
    // Held jobs never started: back to the queue at once, uncounted.
    const held = [...this.held.values()];
    this.held.clear();
    await Promise.all(held.map((h) => this.recordUnstarted(h.lease, "released")));
    await this.safely("mark worker stopping", () => this.store.setWorkerStatus(this.id, "stopping"));
    if (this.running.size > 0) {
      this.logger.info({ workerId: this.id, running: this.running.size, timeoutMs }, "waiting for running jobs");
      await waitAll(
        [...this.running.values()].map((r) => r.done),
        timeoutMs,
      );
    }
    if (this.running.size > 0) {
      this.logger.warn(
        { workerId: this.id, running: this.running.size },
        "aborting jobs still running at the deadline",
      );
      for (const r of this.running.values()) r.abort.abort("shutdown");
      await waitAll(
        [...this.running.values()].map((r) => r.done),
        this.abortGraceMs,
      );
      // Handlers that ignore their signal keep their lease: handing the job back now would let
      // another worker start it while this handler still runs. Without heartbeats the lease
      // expires, and the job runs again elsewhere with this attempt recorded as lost.
      const stuck = [...this.running.values()];
      for (const r of stuck) r.detached = true;
      if (stuck.length > 0) {
        this.logger.warn(
          { workerId: this.id, jobs: stuck.map((r) => r.claimed.job.id) },
          "handlers ignored their abort signal; their jobs run again once their leases expire",
        );
      }
    }
    // Starts still to be recorded (of handlers that ignored their signal, or that began just now).
    await this.starter.flushLater();
    await this.finisher.drain();
    await this.heartbeatLoop.stop();
    await this.maintenanceLoop.stop();
    await this.safely("record the worker's final counts", () =>
      this.store.heartbeat(this.id, [], this.leaseMs, this.counts()),
    );
    await this.safely("mark worker stopped", () => this.store.setWorkerStatus(this.id, "stopped"));
    this.state = "stopped";
    this.logger.info({ workerId: this.id, stats: this.stats }, "worker stopped");
  }

  // -- loops --------------------------------------------------------------------------------

  private async claimPass(): Promise<number> {
    if (this.state !== "running") return this.pollMs;
    const free = this.room();
    if (free <= 0) return this.pollMs; // a finishing job pokes us
    const starts = Math.min(free, this.startRoom());
    const claimed = await this.claimInto(
      free,
      starts,
      () => this.store.claim(this.claimRequest(free, starts)),
      (jobs) => jobs,
    );
    if (claimed.length === free) return this.pollMs; // full: wait for a slot to free
    // Short: all there was, but for rows another claim held locked then (and may leave), which
    // nothing announces. A look shortly after (a read, on PostgreSQL) finds those, without a
    // second claim in flight while this one's jobs start.
    if (claimed.length > 0) return SHORT_CLAIM_RECHECK_MS;
    // Empty: what becomes ready later wakes this loop (a poke during a pass runs the next at
    // once), or is due at `next`.
    const next = await this.store.nextScheduledAt();
    if (next === null) return this.pollMs;
    const until = next - (await this.store.now());
    return Math.max(1, Math.min(this.pollMs, until));
  }

  private async heartbeatPass(): Promise<number> {
    this.trimHeld();
    const leases = [
      ...[...this.running.values()].filter((r) => !r.detached).map((r) => r.lease),
      ...[...this.held.values()].map((h) => h.lease),
    ];
    const sent = new Map(leases.map((l) => [l.jobId, l.token]));
    const sentAt = stamp();
    const result = await this.store.heartbeat(this.id, leases, this.leaseMs, this.counts());
    for (const lease of result.extended) {
      const r = this.running.get(lease.jobId);
      if (r && r.lease.token === lease.token) r.lease = lease;
      const h = this.held.get(lease.jobId);
      if (h && h.lease.token === lease.token) {
        h.lease = lease;
        h.confirmedAt = sentAt;
      }
    }
    for (const jobId of result.lost) {
      const h = this.held.get(jobId);
      if (h && h.lease.token === sent.get(jobId)) {
        this.held.delete(jobId);
        this.stats.leasesLost++;
        continue;
      }
      const r = this.running.get(jobId);
      // Only the execution whose lease we sent: this worker may hold a newer lease on the job by now.
      if (r && !r.detached && r.lease.token === sent.get(jobId)) this.loseLease(r);
    }
    for (const jobId of result.cancelRequested) this.abortJob(jobId, "cancelled");
    this.obey(result.command);
    return this.heartbeatMs;
  }

  /** Attempts run to an outcome, and the failed (or cancelled) ones among them, as the store keeps them. */
  private counts(): WorkerCounts {
    return { processed: this.stats.succeeded + this.stats.failed, failed: this.stats.failed };
  }

  /**
   * Follows the command an operator left (see `Store.commandWorker`): `quiet` and `stop` quiet a
   * running worker; `stop` then stops it as `stop()` does (its jobs get the shutdown timeout to
   * finish); none wakes a quiet worker (a resume). Not awaited here: a stop waits for this loop.
   */
  private obey(command: "quiet" | "stop" | null): void {
    if (this.state === "running" && command !== null) this.quietDown();
    else if (this.state === "quiet" && command === null) this.wakeUp();
    if (command === "stop" && this.state === "quiet") {
      this.logger.info({ workerId: this.id, running: this.running.size }, "stopping: an operator asked");
      void this.stop().then(() => this.stoppedByCommand());
    }
  }

  /**
   * Claims nothing more. The held jobs, which have not started, go back to the queue uncounted
   * at once rather than wait here for a slot: others can run them now, and none starts after
   * the worker went quiet. The jobs it runs go on to their outcome.
   */
  private quietDown(): void {
    this.state = "quiet";
    const held = [...this.held.values()];
    this.held.clear();
    this.logger.info({ workerId: this.id, running: this.running.size, released: held.length }, "worker quiet");
    this.statusWrites = this.statusWrites.then(async () => {
      await Promise.all(held.map((h) => this.recordUnstarted(h.lease, "released", "quiet")));
      await this.safely("mark worker quiet", () => this.store.setWorkerStatus(this.id, "quiet", held.length));
    });
  }

  /** A quiet worker claims again (the operator took the quiet back). */
  private wakeUp(): void {
    this.state = "running";
    this.logger.info({ workerId: this.id }, "worker resumed claiming");
    this.statusWrites = this.statusWrites.then(() =>
      this.safely("mark worker active", () => this.store.setWorkerStatus(this.id, "active")),
    );
    this.claimLoop.poke();
  }

  private async readRegistry(): Promise<void> {
    if (this.readsRegistry) this.registry = await this.store.taskDefaults();
  }

  private async maintenancePass(): Promise<number> {
    await this.readRegistry();
    await this.handlerServices.execution.read();
    const recovered = await this.store.recoverExpiredLeases();
    for (const job of recovered) {
      this.logger.warn({ jobId: job.id, task: job.task, state: job.state }, "recovered a job whose lease expired");
    }
    const lost = await this.store.markLostWorkers(this.workerStaleMs);
    for (const id of lost) this.logger.warn({ lostWorkerId: id }, "marked a worker lost: no heartbeat");
    await watchdogPass(this.store, this.logger);
    await this.breakers.pass();
    if (this.onMaintenance) await this.onMaintenance();
    // Spread passes so that many workers do not scan in lockstep.
    return Math.round(this.maintenanceMs * (0.75 + Math.random() * 0.5));
  }

  /**
   * Records finished attempts and, on SQLite, while the worker is running, claims jobs for the
   * slots they free in the same transaction: a busy worker commits once per batch instead of
   * twice. Where claims cross a network (PostgreSQL), outcomes and claims go in transactions of
   * their own, on two connections at once, so that neither waits for the other (draining no-op
   * jobs at concurrency 10: 7,519 to 11,071 jobs/s, medians of 3 alternated pairs; on SQLite
   * the single transaction is faster, one commit being what costs there).
   */
  private async recordAndRefill(results: AttemptResult[]): Promise<boolean[]> {
    const free = this.state === "running" && !this.store.remote ? this.room() : 0;
    if (free <= 0) return this.store.finish(results);
    const starts = Math.min(free, this.startRoom());
    const { applied } = await this.claimInto(
      free,
      starts,
      () => this.store.finishAndClaim(results, this.claimRequest(free, starts)),
      (out) => out.claimed,
    );
    return applied;
  }

  /** How many more jobs this worker may claim: free slots plus room to hold prefetched ones. */
  private room(): number {
    return this.concurrency + this.prefetchNow() - this.active - this.held.size - this.reserved;
  }

  /** How many jobs to hold now (see prefetch.ts), planning with the handlers running now too. */
  private prefetchNow(): number {
    const now = performance.now();
    const runningFor = [...this.running.values()].flatMap((r) => (r.began === null ? [] : [now - r.began]));
    return prefetchFor(this.prefetch, this.concurrency, plannedRunMs(this.meanRunMs, runningFor));
  }

  /**
   * With "auto" prefetch, hands back, uncounted, the held jobs beyond what it holds now, newest
   * first: its jobs turned out to take longer, and others may run them sooner.
   */
  private trimHeld(): void {
    if (this.prefetch !== "auto" || this.state !== "running") return;
    const keep = this.prefetchNow();
    if (this.held.size <= keep) return;
    for (const h of [...this.held.values()].slice(keep)) {
      this.held.delete(h.claimed.job.id);
      void this.recordUnstarted(h.lease, "released", "prefetch_reduced");
    }
  }

  /**
   * How many of a claim's jobs can start at once: the free slots that no claim in flight has
   * asked for, none if held jobs wait for them. Slots only free up while a claim is in flight,
   * so each of these finds its slot when the claim returns; the claim records their start with
   * it, and only the rest, held, need a start of their own.
   */
  private startRoom(): number {
    if (this.held.size > 0) return 0;
    return Math.max(0, this.concurrency - this.active - this.reservedStarts);
  }

  /** A slot that is free and not kept for a job a claim in flight starts (see `startRoom`). */
  private hasFreeSlot(): boolean {
    return this.active + this.reservedStarts < this.concurrency;
  }

  /**
   * Runs a claim with its slots reserved, then accepts what it claimed: the first `starts` jobs
   * were started by the claim. The reservation ends in the same synchronous step as the accepts,
   * so no handler finishing in between can take a slot kept for a job the claim started (that
   * job would then wait, held, charged an attempt it has not begun).
   */
  private async claimInto<T>(
    slots: number,
    starts: number,
    claim: () => Promise<T>,
    claimedOf: (result: T) => readonly ClaimedJob[],
  ): Promise<T> {
    this.reserved += slots;
    this.reservedStarts += starts;
    const sentAt = stamp();
    let result: T;
    try {
      result = await claim();
    } finally {
      this.reserved -= slots;
      this.reservedStarts -= starts;
    }
    const claimed = claimedOf(result);
    const mark: ClaimMark = { at: performance.now(), jobs: claimed.length };
    for (const [i, c] of claimed.entries()) this.accept(c, i < starts, sentAt, mark);
    // The slots this claim kept for its starts are free again, whatever it found: jobs that
    // another claim held meanwhile, because those slots were kept, take them now. Nothing else
    // would start them while no handler runs.
    this.startHeld();
    return result;
  }

  /**
   * A claimed job runs now if a slot is free, or waits, held, for one. `started`: the claim
   * recorded its start; otherwise its start is recorded in a batch (see `startMode`).
   */
  private accept(claimed: ClaimedJob, started: boolean, confirmedAt: Stamp, claim: ClaimMark): void {
    this.stats.claimed++;
    // A claim that was in flight when the worker went quiet: its jobs go back unstarted.
    if (this.state === "quiet") {
      void this.recordUnstarted(claimed.lease, "released", "quiet");
      return;
    }
    if (this.hasFreeSlot() && (started || this.held.size === 0)) {
      this.execute(claimed, started ? null : this.recordStart(claimed, confirmedAt), claim);
    } else {
      this.held.set(claimed.job.id, { claimed, lease: claimed.lease, started, confirmedAt, claim });
    }
  }

  /** Held jobs take the slots that are free; the starts of those the claim did not start are recorded in batches. */
  private startHeld(): void {
    for (const [jobId, next] of this.held) {
      if (!this.hasFreeSlot() || this.state !== "running") return;
      this.held.delete(jobId);
      const claimed = { job: next.claimed.job, lease: next.lease };
      this.execute(claimed, next.started ? null : this.recordStart(claimed, next.confirmedAt), next.claim);
    }
  }

  /** Has a held job's start recorded: first (the handler waits for it) or later (null: it runs at once). */
  private recordStart(claimed: ClaimedJob, confirmedAt: Stamp): Promise<boolean> | null {
    if (startMode(claimed.job, msSince(confirmedAt), this.leaseMs) === "first") {
      return this.starter.first(claimed.lease);
    }
    this.starter.later(claimed.lease);
    return null;
  }

  /**
   * The execution running here under this lease whose attempt goes on, if any: its handler has
   * not returned, and has not parked the job (a park ends the attempt as an outcome does).
   */
  private runningUnder(lease: Lease): Running | null {
    const entry = this.running.get(lease.jobId);
    return entry && entry.lease.token === lease.token && !entry.ended && !entry.parked ? entry : null;
  }

  /** The outcome of a held job that never started (released at shutdown, or cancelled). */
  private async recordUnstarted(
    lease: Lease,
    outcome: "released" | "cancelled",
    reason: "shutdown" | "prefetch_reduced" | "quiet" = "shutdown",
  ): Promise<void> {
    const result: AttemptResult = outcome === "released" ? { lease, outcome, reason } : { lease, outcome, error: null };
    try {
      await this.finisher.add(result);
    } catch (err) {
      this.logger.error({ err, jobId: lease.jobId }, "recording a held job's outcome failed; its lease will expire");
    }
  }

  private claimRequest(limit: number, start: number): ClaimRequest {
    return { workerId: this.id, limit, start, tasks: this.taskNames, queues: this.queues, leaseMs: this.leaseMs };
  }

  // -- running one job ----------------------------------------------------------------------

  private execute(claimed: ClaimedJob, starting: Promise<boolean> | null, claim: ClaimMark): void {
    const entry: Running = {
      claimed,
      lease: claimed.lease,
      starting,
      abort: new ExecutionAbort(),
      done: Promise.resolve(),
      detached: false,
      parked: false,
      began: null,
      ended: false,
      claim,
      span: null,
    };
    const previous = this.running.get(claimed.job.id);
    // Claimed again while an earlier execution here still runs: that one's lease expired and was
    // recovered (a stalled heartbeat), so it is lost, even if no heartbeat has said so yet.
    if (previous && !previous.detached) this.loseLease(previous);
    this.running.set(claimed.job.id, entry);
    this.active++;
    entry.done = this.runHandler(entry).then(
      () => this.settle(entry),
      (err: unknown) => {
        this.logger.error({ err, jobId: claimed.job.id }, "recording a job's outcome failed; its lease will expire");
        this.settle(entry);
      },
    );
  }

  private settle(entry: Running): void {
    // A lost execution settling late must not remove a newer execution of the same job.
    if (this.running.get(entry.claimed.job.id) === entry) this.running.delete(entry.claimed.job.id);
    // On SQLite, while outcomes are still being recorded, that batch claims for the free slots; a
    // pass of its own would be one more transaction for nothing. The batcher pokes when it goes idle.
    if (!this.finisher.busy || this.store.remote) this.claimLoop.poke();
  }

  private async runHandler(entry: Running): Promise<void> {
    let result: AttemptResult | null;
    try {
      result = entry.starting === null || (await this.begin(entry, entry.starting)) ? await this.attempt(entry) : null;
    } finally {
      // The slot is free once the handler is done; the outcome is recorded in the next batch,
      // so a held job can start (and finish) before this one's transaction commits.
      entry.ended = true;
      this.active--;
      this.startHeld();
    }
    if (result === null || entry.detached) return;
    const applied = await this.finisher.add(result);
    if (!applied) {
      this.stats.leasesLost++;
      this.logger.warn({ workerId: this.id, jobId: entry.claimed.job.id }, "lease lost before the result was recorded");
    } else if (result.outcome === "succeeded") {
      this.stats.succeeded++;
      this.breakers.record(entry.claimed.job.queue, null);
    } else if (result.outcome !== "released") {
      this.stats.failed++;
      // What a breaker counts as a failure: an error worth retrying (a timeout, an outage), not a
      // permanent one, which says the job is wrong rather than what it calls.
      if (result.outcome === "retry" || (result.outcome === "dead" && result.reason !== "permanent_error")) {
        this.breakers.record(entry.claimed.job.queue, result.error);
      }
    }
  }

  /** Waits until a held job's start is recorded; false if it must not run here (and nothing more is recorded for it). */
  private async begin(entry: Running, starting: Promise<boolean>): Promise<boolean> {
    const jobId = entry.claimed.job.id;
    try {
      if (await starting) return true;
      // Its lease expired and the job was handed back (a stalled heartbeat): it never ran here.
      if (!entry.detached) this.stats.leasesLost++;
      entry.detached = true;
      this.logger.warn({ workerId: this.id, jobId }, "lease lost before a held job started; it did not run here");
      return false;
    } catch (err) {
      // Whether the start committed is unknown, but the handler has not run either way: hand it back uncounted.
      this.logger.error({ err, jobId }, "recording a held job's start failed; handing the job back");
      entry.detached = true;
      await this.recordUnstarted(entry.lease, "released");
      return false;
    }
  }

  /** Runs the handler and returns the outcome to record (null: nothing to record). */
  private async attempt(entry: Running): Promise<AttemptResult | null> {
    const { job } = entry.claimed;
    const task = this.tasks.get(job.task) as TaskDefinition;
    // Aborted while its start was being recorded (shutdown, cancel, lost lease): the handler does
    // not run, and the abort decides the outcome as if the handler had stopped for it at once.
    if (entry.abort.reason !== null) {
      return this.failureResult(entry, task, new Error("aborted before its handler started"));
    }
    // The task's own mode, else the switch as last read (never a wait here: see ExecutionReader).
    const mode = task.defaults.execution ?? this.handlerServices.execution.current();
    const ctx = new HandlerContext(job, entry, this.handlerServices, mode);
    // Null unless an OpenTelemetry SDK is installed: then the handler runs with it active.
    const span = startAttemptSpan(job, this.id, entry.claim);
    entry.span = span;
    let result: AttemptResult | null;
    let failure: unknown = null;
    const began = performance.now();
    entry.began = began;
    try {
      const timeoutMs = job.timeoutMs ?? taskTimeoutMs(task);
      const handling =
        span === null ? task.handler(job.payload, ctx) : inSpan(span, () => task.handler(job.payload, ctx));
      const value = timeoutMs === null ? await handling : await this.within(entry, handling, timeoutMs);
      result = this.successResult(entry, value);
    } catch (thrown) {
      failure = thrown;
      result = this.failureResult(entry, task, thrown);
    }
    await ctx.settled();
    this.meanRunMs = nextMeanRunMs(this.meanRunMs, performance.now() - began);
    if (span !== null) {
      const outcome = entry.parked ? "parked" : (result?.outcome ?? "lease_lost");
      endAttemptSpan(span, outcome, result !== null && "error" in result ? result.error : null, failure);
      entry.span = null;
    }
    // Parked: the store already ended the attempt; whatever the handler did after is not recorded.
    return entry.parked ? null : result;
  }

  /**
   * The handler's outcome, or past `timeoutMs` an ATTEMPT_TIMEOUT failure: its signal fires, and
   * it gets the abort grace to stop, after which the failure is recorded and its slot freed
   * whether it stopped or not. One that ignores its signal goes on unrecorded, perhaps alongside
   * its job's retry: nothing in JavaScript can stop it.
   */
  private async within(entry: Running, handling: unknown, timeoutMs: number): Promise<unknown> {
    const outcome = Promise.resolve(handling);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<typeof TIMED_OUT>((resolve) => {
      // Unref'd: a handler that outlives a stop (it ignored its abort) must not keep the process up.
      timer = setTimeout(resolve, timeoutMs, TIMED_OUT).unref();
    });
    try {
      const first = await Promise.race([outcome, expired]);
      if (first !== TIMED_OUT) return first;
    } finally {
      clearTimeout(timer);
    }
    entry.abort.abort("timeout");
    if (!(await settlesWithin(outcome, this.abortGraceMs))) {
      this.logger.warn(
        { workerId: this.id, jobId: entry.claimed.job.id, timeoutMs },
        "handler ignored its abort signal at its timeout; the attempt is recorded as failed while it goes on",
      );
    }
    const error = new Error(`the attempt ran longer than its timeout of ${timeoutMs} ms and was aborted`);
    // Where the timer fired says nothing about the handler: no stack.
    error.stack = undefined;
    throw Object.assign(error, { code: "ATTEMPT_TIMEOUT" });
  }

  private successResult(entry: Running, value: unknown): AttemptResult {
    let resultJson: string;
    try {
      resultJson = serializePayload(value ?? null);
    } catch (err) {
      const error: JobError = {
        code: "INVALID_RESULT",
        message: `the handler's return value cannot be stored as JSON: ${(err as Error).message}`,
        retryable: false,
      };
      return this.deadResult(entry, error, "permanent_error");
    }
    const followUp = this.followUp(entry, "onSuccess", () => JSON.parse(resultJson));
    return { lease: entry.lease, outcome: "succeeded", resultJson, ...(followUp ? { followUp } : {}) };
  }

  private deadResult(entry: Running, error: JobError, reason: DeadReason): AttemptResult {
    const followUp = this.followUp(entry, "onDead", () => error);
    return { lease: entry.lease, outcome: "dead", error, reason, ...(followUp ? { followUp } : {}) };
  }

  /**
   * The job the task's `onDead` or `onSuccess` asks for, with the follow-up task's defaults as
   * this worker defines them, or else as the task registry has them; the store inserts it with
   * the outcome, or not at all.
   */
  private followUp(entry: Running, hook: "onDead" | "onSuccess", end: () => unknown): NewJob | undefined {
    const { job } = entry.claimed;
    const ended = { id: job.id, task: job.task, queue: job.queue, attempts: job.attempts, payload: job.payload };
    try {
      const followUp = followUpOf(
        hook,
        this.tasks.get(job.task)?.defaults,
        ended,
        end,
        (task) => this.tasks.get(task)?.defaults ?? this.registry.get(task),
      );
      // It joins the trace: a child of this attempt's span, or, untraced here, of the job's enqueue.
      if (followUp !== undefined) {
        followUp.traceContext = (entry.span === null ? null : traceContextOf(entry.span)) ?? job.traceContext;
      }
      return followUp;
    } catch (err) {
      // defineTask checked the hook; should building its job fail all the same, the outcome still counts.
      this.logger.error(
        { err, jobId: job.id, task: job.task, hook },
        "could not build the follow-up job; none enqueued",
      );
      return undefined;
    }
  }

  private failureResult(entry: Running, task: TaskDefinition, thrown: unknown): AttemptResult | null {
    const error = toJobError(thrown);
    const reason = entry.abort.reason;
    if (reason !== null) {
      if (reason === "lease_lost") return null;
      // A cancel wins over the reason that came first: someone asked for this job to stop for good.
      if (entry.abort.cancelRequested) return { lease: entry.lease, outcome: "cancelled", error };
      if (reason === "shutdown") return { lease: entry.lease, outcome: "released" };
    }
    const { job } = entry.claimed;
    // The stored job brings the attempt budget and backoff; the task in this process brings the
    // classification (which errors are permanent), so changing it needs no migration.
    const decision = shouldRetry(job.attempts, error, resolveRetryPolicy(job, task.defaults.retry), Math.random());
    return decision.retry
      ? { lease: entry.lease, outcome: "retry", error, delayMs: decision.delayMs }
      : this.deadResult(entry, error, decision.reason);
  }

  /** Stops an execution whose lease is gone; whatever it returns is not recorded. */
  private loseLease(entry: Running): void {
    this.stats.leasesLost++;
    this.logger.warn(
      { workerId: this.id, jobId: entry.claimed.job.id },
      "lease lost; aborting the handler, its result will not be recorded",
    );
    entry.detached = true;
    entry.abort.abort("lease_lost");
  }

  // -- reporting ----------------------------------------------------------------------------

  private reportLoopFailure(loop: string, err: unknown): void {
    const error = toJobError(err);
    this.store
      .appendEvents([
        {
          kind: "worker.loop_failed",
          workerId: this.id,
          data: { loop, code: error.code, message: error.message, failures: this.stats.loopFailures },
        },
      ])
      .catch((appendErr: unknown) =>
        this.logger.error({ err: appendErr, loop }, "could not record a loop failure in the event log"),
      );
  }

  private async safely(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.logger.error({ err, workerId: this.id }, `${what} failed`);
    }
  }
}

function positive(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new OverseerError("INVALID_ARGUMENT", `${field} must be a positive integer, got ${value}`, { field });
  }
  return value;
}

const TIMED_OUT = Symbol("timed out");

/** The task's attempt timeout in ms (defineTask has checked it), or null for none. */
function taskTimeoutMs(task: TaskDefinition): number | null {
  const timeout = task.defaults.timeout;
  return timeout === undefined ? null : parseTimeout(timeout);
}

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  const mark = () => {
    settled = true;
  };
  await waitAll([promise.then(mark, mark)], ms);
  return settled;
}

async function waitAll(promises: Promise<void>[], timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(promises),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}
