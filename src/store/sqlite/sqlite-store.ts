/**
 * The embedded backend: one SQLite file in WAL mode, shared safely by any number of processes
 * on one machine. Every write is one `BEGIN IMMEDIATE` transaction, so writers queue on the
 * file lock (up to `busyTimeoutMs`) instead of failing, and a method that returns has committed.
 * With `synchronous=NORMAL` (the default) a committed write survives any process crash;
 * `durability: "full"` also survives power loss, at the cost of an fsync per commit.
 */
import { statSync } from "node:fs";
import Database from "better-sqlite3";
import { OverseerError } from "../../core/errors.js";
import { assertEventKind } from "../../core/events.js";
import type { NewJob } from "../../core/job-options.js";
import { TRANSITIONS } from "../../core/job-state.js";
import {
  type Attempt,
  type ClaimedJob,
  JOB_STATES,
  type Job,
  type JobError,
  type JobState,
  type Lease,
  type OverseerEvent,
  type QueueRecord,
  type WorkerRecord,
} from "../../core/types.js";
import type {
  AttemptResult,
  CancelResult,
  ClaimRequest,
  EnqueueResult,
  EventQuery,
  HeartbeatResult,
  JobFilter,
  NewEvent,
  PruneBatch,
  PruneOptions,
  PruneResult,
  RetentionPolicy,
  Store,
  StoreCapabilities,
  WorkerRegistration,
} from "../store.js";
import { ChangeWatcher } from "./change-watcher.js";
import { MIGRATIONS } from "./migrations/index.js";
import {
  type AttemptRow,
  type EventRow,
  iso,
  type JobRow,
  jobRowFromArray,
  toAttempt,
  toEvent,
  toJob,
  toWorker,
  type WorkerRow,
} from "./rows.js";
import * as sql from "./statements.js";

export interface SqliteStoreOptions {
  /** Path of the database file; it is created if its folder exists. */
  path: string;
  /** `normal` (default): survives process crashes. `full`: also survives power loss. */
  durability?: "normal" | "full";
  /** How long a writer waits for the file lock held by another process. Default 10 s. */
  busyTimeoutMs?: number;
  /** The store's clock; tests inject one. */
  clock?: () => number;
  /** Where background problems (a failed file watch) are reported. */
  onWarning?: (message: string, err: Error) => void;
}

const DEFAULT_BUSY_TIMEOUT_MS = 10_000;
const FALLBACK_AUTOCHECKPOINT_FRAMES = 20_000;
/**
 * How soon after a write the background checkpoint runs. Each costs this process about 0.7 ms
 * plus 2 µs per WAL frame; checkpointing less often makes the log, and each stall, longer.
 */
const CHECKPOINT_DELAY_MS = 250;

/** Pages of candidates one claim reads at most when concurrency keys or rate limits turn jobs away. */
const CLAIM_PAGES = 8;
const PROMOTE_BATCH = 1_000;
const PRUNE_BATCH = 500;

export class SqliteStore implements Store {
  readonly capabilities: StoreCapabilities = { singleWriter: true, crossProcessWakeups: true, skipLocked: false };
  private readonly db: Database.Database;
  private readonly clock: () => number;
  private readonly watcher: ChangeWatcher;
  private readonly statements = new Map<string, Statement>();
  private closed = false;
  private lastClaimFoundWork = false;
  private checkpointTimer: NodeJS.Timeout | null = null;
  private readonly warn: (message: string, err: Error) => void;
  private readonly busyTimeoutMs: number;

  private constructor(db: Database.Database, options: SqliteStoreOptions) {
    this.db = db;
    this.clock = options.clock ?? Date.now;
    const warn = options.onWarning ?? ((): void => undefined);
    this.warn = warn;
    this.busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    this.watcher = new ChangeWatcher(options.path, (err) => warn("database change watch failed; polling only", err));
  }

  /** Opens (creating if needed) and migrates the database. Fails with DATABASE_UNAVAILABLE and writes nothing if it cannot. */
  static async open(options: SqliteStoreOptions): Promise<SqliteStore> {
    const path = options.path;
    if (typeof path !== "string" || path.trim() === "") {
      throw new OverseerError("DATABASE_UNAVAILABLE", "database path is empty");
    }
    if (path === ":memory:") {
      throw new OverseerError("DATABASE_UNAVAILABLE", "an in-memory database cannot be shared; give a file path");
    }
    let db: Database.Database;
    try {
      if (isDirectory(path)) throw new Error("it is a directory");
      db = new Database(path, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
    } catch (err) {
      throw new OverseerError("DATABASE_UNAVAILABLE", `cannot open database "${path}": ${reason(err)}`, { path });
    }
    try {
      // Small pages: every commit writes each page it touched to the WAL, so for small rows the
      // page size, not the row, sets the bytes written per enqueue. Only takes effect on a new file.
      db.pragma("page_size = 2048");
      db.pragma("journal_mode = WAL");
      db.pragma(`synchronous = ${options.durability === "full" ? "FULL" : "NORMAL"}`);
      db.pragma("foreign_keys = OFF");
      // SQLite's own default page cache (2 MiB); the driver's build raises it to 16 MiB, which
      // here only made workers bigger and, by cache locality, slower.
      db.pragma("cache_size = -2000");
      // Checkpoints copy the WAL into the database file and fsync it. Left to SQLite, they run
      // inside whichever commit crosses 1,000 frames, adding milliseconds to that enqueue or
      // claim. A timer runs them instead (see checkpointSoon); this high threshold only
      // bounds the WAL when a process writes in a burst that never lets timers run.
      db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_FRAMES}`);
      const store = new SqliteStore(db, options);
      await store.migrate();
      // From here on this store waits for locks itself (see waitForLock), in far finer steps
      // than SQLite's busy handler, whose first sleep is a whole millisecond.
      db.pragma("busy_timeout = 0");
      return store;
    } catch (err) {
      db.close();
      if (err instanceof OverseerError) throw err;
      throw new OverseerError("DATABASE_UNAVAILABLE", `cannot use database "${path}": ${reason(err)}`, { path });
    }
  }

  async migrate(): Promise<{ applied: string[] }> {
    const applied: string[] = [];
    this.write(() => {
      const current = this.db.pragma("user_version", { simple: true }) as number;
      const latest = MIGRATIONS.at(-1)?.version ?? 0;
      if (current > latest) {
        throw new OverseerError(
          "SCHEMA_TOO_NEW",
          `database schema is at version ${current}, but this Overseer knows only up to ${latest}; upgrade Overseer`,
        );
      }
      for (const m of MIGRATIONS) {
        if (m.version <= current) continue;
        this.db.exec(m.sql);
        this.db.pragma(`user_version = ${m.version}`);
        applied.push(m.name);
      }
    });
    return { applied };
  }

  async now(): Promise<number> {
    return this.clock();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    this.watcher.stop();
    this.db.close();
  }

  onChange(listener: () => void): () => void {
    return this.watcher.subscribe(listener);
  }

  // -- producing ----------------------------------------------------------------------------

  async enqueue(job: NewJob): Promise<EnqueueResult> {
    const result = this.write(() => this.insertJob(job, this.clock()));
    if (result.created) this.watcher.notify();
    return result;
  }

  async enqueueMany(jobs: readonly NewJob[]): Promise<EnqueueResult[]> {
    if (jobs.length === 0) return [];
    const results = this.write(() => {
      const now = this.clock();
      return jobs.map((job) => this.insertJob(job, now));
    });
    this.watcher.notify();
    return results;
  }

  private insertJob(job: NewJob, now: number): EnqueueResult {
    if (job.idempotencyKey !== null) {
      const existing = this.stmt(sql.FIND_BY_IDEMPOTENCY_KEY).get(job.task, job.idempotencyKey, now) as
        | JobRow
        | undefined;
      if (existing) return { job: toJob(existing), created: false };
    }
    const c = job.concurrency;
    if (c !== null && c.onLimit === "reject") {
      const { n } = this.stmt(sql.COUNT_UNFINISHED_BY_CONCURRENCY_KEY).get(c.key) as { n: number };
      if (n >= c.limit) {
        throw new OverseerError(
          "CONCURRENCY_LIMIT_REACHED",
          `concurrency key "${c.key}" already has ${n} unfinished job(s), its limit is ${c.limit}; task "${job.task}" rejects jobs over the limit`,
          { key: c.key, limit: c.limit, task: job.task },
        );
      }
    }
    const runAt = job.runAtMs ?? now + job.delayMs;
    const state: JobState = runAt > now ? "scheduled" : "queued";
    this.stmt(sql.INSERT_JOB).run(
      job.id,
      job.task,
      job.queue,
      state,
      job.payloadJson,
      job.priority,
      runAt,
      job.maxAttempts,
      backoffJson(job.backoff),
      job.idempotencyKey,
      job.idempotencyTtlMs,
      c?.key ?? null,
      c?.limit ?? null,
      c?.onLimit ?? null,
      job.rateLimit?.key ?? null,
      job.rateLimit?.limit ?? null,
      job.rateLimit?.periodMs ?? null,
      now,
    );
    const data: Record<string, unknown> = { task: job.task, queue: job.queue, priority: job.priority };
    const createdAt = iso(now);
    const runAtIso = runAt === now ? createdAt : iso(runAt);
    if (state === "scheduled") data.runAt = runAtIso;
    this.event(now, "job.enqueued", job.id, null, data);
    return {
      created: true,
      job: {
        id: job.id,
        task: job.task,
        queue: job.queue,
        state,
        payload: JSON.parse(job.payloadJson),
        result: null,
        priority: job.priority,
        runAt: runAtIso,
        attempts: 0,
        maxAttempts: job.maxAttempts,
        backoff: job.backoff,
        idempotencyKey: job.idempotencyKey,
        concurrency: c,
        rateLimit: job.rateLimit,
        progress: null,
        lastError: null,
        leaseOwner: null,
        leaseExpiresAt: null,
        cancelRequested: false,
        createdAt,
        startedAt: null,
        finishedAt: null,
        version: 1,
      },
    };
  }

  // -- claiming -----------------------------------------------------------------------------

  async claim(req: ClaimRequest): Promise<ClaimedJob[]> {
    if (!canMatch(req)) return [];
    // A read first, so idle workers never take the write lock just to find nothing. While
    // claims keep finding work (a backlog draining) the check would only cost time.
    if (!this.lastClaimFoundWork) {
      const { ready } = this.stmt(sql.ANY_READY).get(JSON.stringify(req.tasks), this.clock()) as { ready: number };
      if (!ready) return [];
    }
    return this.write(() => this.claimInTransaction(req, this.clock()));
  }

  async finishAndClaim(
    results: readonly AttemptResult[],
    req: ClaimRequest,
  ): Promise<{ applied: boolean[]; claimed: ClaimedJob[] }> {
    let requeued = false;
    const out = this.write(() => {
      const now = this.clock();
      const finished = this.finishInTransaction(results, now);
      requeued = finished.requeued;
      const claimed = canMatch(req) ? this.claimInTransaction(req, now) : [];
      return { applied: finished.applied, claimed };
    });
    if (requeued) this.watcher.notify();
    return out;
  }

  private claimInTransaction(req: ClaimRequest, now: number): ClaimedJob[] {
    const paused = this.stmt(sql.PAUSED_QUEUES, { raw: true }).all() as string[][];
    const select = this.stmt(
      sql.selectClaimable(
        req.tasks,
        req.queues,
        paused.map((p) => p[0] as string),
      ),
      {
        raw: true,
      },
    );
    if ((this.stmt(sql.ANY_DUE).get(now) as { due: number }).due) this.stmt(sql.PROMOTE_DUE).run(now, PROMOTE_BATCH);
    // Decide in claim order which candidates to take, then claim them all with one statement
    // per table: the cost of a batch hardly depends on its size. Candidates are read a page at
    // a time; another page is read only when keys or rate limits turned some away.
    const chosen: JobRow[] = [];
    const takenPerKey = new Map<string, number>();
    let after: [number, number, string] = [Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, ""];
    for (let page = 0; page < CLAIM_PAGES && chosen.length < req.limit; page++) {
      // The first page is exactly what is wanted (the common case: nothing is turned away); later
      // pages are wide, since whatever turned jobs away is likely to turn away their neighbours.
      const want = page === 0 ? req.limit : Math.max(32, 2 * (req.limit - chosen.length));
      const rows = (select.all(want, ...after) as unknown[][]).map(jobRowFromArray);
      for (const row of rows) {
        if (chosen.length >= req.limit) break;
        const key = row.concurrency_key;
        const taken = key === null ? 0 : (takenPerKey.get(key) ?? 0);
        if (key !== null && this.countRunning(key) + taken >= (row.concurrency_limit ?? 1)) continue;
        if (row.rate_key !== null && !this.takeRateSlot(row, now)) continue;
        if (key !== null) takenPerKey.set(key, taken + 1);
        chosen.push(row);
      }
      const last = rows.at(-1);
      if (rows.length < want || !last) break;
      after = [last.priority, last.run_at, last.id];
    }
    if (chosen.length === 0) {
      this.lastClaimFoundWork = false;
      return [];
    }
    const ids = JSON.stringify(chosen.map((r) => r.id));
    const expiresAt = now + req.leaseMs;
    const updated = new Map(
      (
        this.stmt(sql.CLAIM_JOBS).all(req.workerId, expiresAt, now, ids) as Array<{
          id: string;
          lease_token: number;
          attempts: number;
          version: number;
        }>
      ).map((u) => [u.id, u]),
    );
    this.stmt(sql.INSERT_CLAIMED_ATTEMPTS).run(req.workerId, now, ids);
    this.stmt(sql.INSERT_STARTED_EVENTS).run(now, req.workerId, ids);
    const claimed: ClaimedJob[] = [];
    for (const row of chosen) {
      const u = updated.get(row.id);
      if (!u) continue; // cannot happen inside this transaction; kept as a guard
      row.state = "running";
      row.attempts = u.attempts;
      row.lease_owner = req.workerId;
      row.lease_token = u.lease_token;
      row.lease_expires_at = expiresAt;
      row.started_at = now;
      row.cancel_requested = 0;
      row.version = u.version;
      claimed.push({
        job: toJob(row),
        lease: { jobId: row.id, workerId: req.workerId, token: u.lease_token, expiresAt: iso(expiresAt) },
      });
    }
    this.lastClaimFoundWork = claimed.length > 0;
    return claimed;
  }

  private countRunning(key: string): number {
    return (this.stmt(sql.COUNT_RUNNING_BY_CONCURRENCY_KEY).get(key) as { n: number }).n;
  }

  /** Fixed windows aligned to the epoch. Over the limit, the job waits for the next window. */
  private takeRateSlot(row: JobRow, now: number): boolean {
    const key = row.rate_key as string;
    const period = row.rate_period_ms ?? 1;
    const limit = row.rate_limit ?? 1;
    const windowStart = Math.floor(now / period) * period;
    const current = this.stmt(sql.GET_RATE_WINDOW).get(key) as { window_start: number; count: number } | undefined;
    const used = current && current.window_start === windowStart ? current.count : 0;
    if (used >= limit) {
      const next = windowStart + period;
      this.stmt(sql.THROTTLE_JOB).run(next, row.id);
      this.event(now, "job.throttled", row.id, null, { key, limit, periodMs: period, runAt: iso(next) });
      return false;
    }
    this.stmt(sql.PUT_RATE_WINDOW).run(key, windowStart, used + 1);
    return true;
  }

  async nextScheduledAt(): Promise<number | null> {
    return (this.stmt(sql.NEXT_SCHEDULED).get() as { at: number | null }).at;
  }

  async heartbeat(workerId: string, leases: readonly Lease[], leaseMs: number): Promise<HeartbeatResult> {
    return this.write(() => {
      const now = this.clock();
      const result: HeartbeatResult = { extended: [], lost: [], cancelRequested: [] };
      const expiresAt = now + leaseMs;
      for (const lease of leases) {
        const row = this.stmt(sql.EXTEND_LEASE).get(expiresAt, lease.jobId, lease.token) as
          | { cancel_requested: number }
          | undefined;
        if (!row) {
          result.lost.push(lease.jobId);
          continue;
        }
        result.extended.push({ ...lease, expiresAt: iso(expiresAt) });
        if (row.cancel_requested === 1) result.cancelRequested.push(lease.jobId);
      }
      this.stmt(sql.WORKER_HEARTBEAT).run(now, workerId);
      return result;
    });
  }

  async recordProgress(lease: Lease, progressJson: string): Promise<boolean> {
    return this.write(() => {
      const now = this.clock();
      const changed = this.stmt(sql.SET_PROGRESS).run(progressJson, lease.jobId, lease.token).changes === 1;
      if (changed) this.event(now, "job.progress", lease.jobId, lease.workerId, { progress: JSON.parse(progressJson) });
      return changed;
    });
  }

  async finish(results: readonly AttemptResult[]): Promise<boolean[]> {
    if (results.length === 0) return [];
    const { applied, requeued } = this.write(() => this.finishInTransaction(results, this.clock()));
    if (requeued) this.watcher.notify();
    return applied;
  }

  private finishInTransaction(
    results: readonly AttemptResult[],
    now: number,
  ): { applied: boolean[]; requeued: boolean } {
    let requeued = false;
    const succeeded = this.succeedMany(
      results.filter((r) => r.outcome === "succeeded"),
      now,
    );
    const applied = results.map((r) => {
      if (r.outcome === "succeeded") return succeeded.has(`${r.lease.jobId}:${r.lease.token}`);
      const ok = this.finishOne(r, now);
      if (ok && (r.outcome === "released" || r.outcome === "retry")) requeued = true;
      return ok;
    });
    return { applied, requeued };
  }

  /** Records successful attempts with one statement per table. Returns "jobId:token" of those whose lease held. */
  private succeedMany(results: readonly AttemptResult[], now: number): Set<string> {
    if (results.length === 0) return new Set();
    const input = results.map((r) => [r.lease.jobId, r.lease.token, (r as { resultJson: string }).resultJson]);
    const rows = this.stmt(sql.SUCCEED_JOBS).all(now, JSON.stringify(input)) as Array<{
      id: string;
      lease_token: number;
      started_at: number;
      attempts: number;
    }>;
    if (rows.length === 0) return new Set();
    const workerOf = new Map(results.map((r) => [r.lease.jobId, r.lease.workerId]));
    this.stmt(sql.FINISH_ATTEMPTS).run(now, "succeeded", JSON.stringify(rows.map((r) => [r.id, r.lease_token])));
    const events = rows.map((r) => [
      r.id,
      workerOf.get(r.id) ?? null,
      { attempt: r.attempts, durationMs: now - r.started_at },
    ]);
    this.stmt(sql.INSERT_EVENTS).run(now, "job.succeeded", JSON.stringify(events));
    return new Set(rows.map((r) => `${r.id}:${r.lease_token}`));
  }

  private finishOne(r: Exclude<AttemptResult, { outcome: "succeeded" }>, now: number): boolean {
    const { jobId, token, workerId } = r.lease;
    const attemptDone = (outcome: string, error: JobError | null) =>
      this.stmt(sql.FINISH_ATTEMPT).run(now, outcome, error === null ? null : JSON.stringify(error), jobId, token);
    switch (r.outcome) {
      case "retry": {
        const runAt = now + r.delayMs;
        const row = this.stmt(sql.SCHEDULE_RETRY).get(runAt, JSON.stringify(r.error), jobId, token) as
          | { attempts: number }
          | undefined;
        if (!row) return false;
        attemptDone("failed", r.error);
        this.event(now, "job.failed", jobId, workerId, { attempt: row.attempts, error: brief(r.error) });
        this.event(now, "job.retry_scheduled", jobId, workerId, {
          attempt: row.attempts,
          delayMs: r.delayMs,
          runAt: iso(runAt),
        });
        return true;
      }
      case "dead": {
        const row = this.stmt(sql.KILL_JOB).get(now, JSON.stringify(r.error), jobId, token) as
          | { attempts: number }
          | undefined;
        if (!row) return false;
        attemptDone("failed", r.error);
        this.event(now, "job.failed", jobId, workerId, { attempt: row.attempts, error: brief(r.error) });
        this.event(now, "job.dead", jobId, workerId, { attempt: row.attempts, reason: r.reason });
        return true;
      }
      case "cancelled": {
        const errorJson = r.error === null ? null : JSON.stringify(r.error);
        const row = this.stmt(sql.CANCEL_RUNNING_JOB).get(now, errorJson, jobId, token) as
          | { attempts: number }
          | undefined;
        if (!row) return false;
        attemptDone("cancelled", r.error);
        this.event(now, "job.cancelled", jobId, workerId, { attempt: row.attempts, while: "running" });
        return true;
      }
      case "released": {
        const row = this.stmt(sql.RELEASE_JOB).get(jobId, token) as { attempts: number } | undefined;
        if (!row) return false;
        attemptDone("released", null);
        this.event(now, "job.released", jobId, workerId, { reason: "shutdown" });
        return true;
      }
    }
  }

  async recoverExpiredLeases(limit = 500): Promise<Job[]> {
    const recovered = this.write(() => {
      const now = this.clock();
      const rows = this.stmt(sql.SELECT_EXPIRED_LEASES).all(now, limit) as JobRow[];
      const out: Job[] = [];
      for (const row of rows) {
        const error: JobError = {
          code: "LEASE_EXPIRED",
          message: `worker ${row.lease_owner} stopped renewing its lease (expired ${iso(row.lease_expires_at ?? now)})`,
          retryable: true,
        };
        const errorJson = JSON.stringify(error);
        // A cancel request outlives the worker that should have honoured it: running the job
        // again would ignore it (a new claim clears the flag), so the store cancels it instead.
        const next: JobState =
          row.cancel_requested === 1 ? "cancelled" : row.attempts >= row.max_attempts ? "dead" : "queued";
        const changed =
          next === "cancelled"
            ? this.stmt(sql.CANCEL_RUNNING_JOB).run(now, errorJson, row.id, row.lease_token).changes
            : next === "dead"
              ? this.stmt(sql.KILL_JOB).run(now, errorJson, row.id, row.lease_token).changes
              : this.stmt(sql.RECOVER_LOST_JOB).run(row.id, row.lease_token, errorJson).changes;
        if (changed !== 1) continue;
        this.stmt(sql.FINISH_ATTEMPT).run(now, "lost", errorJson, row.id, row.lease_token);
        this.event(now, "job.lost", row.id, row.lease_owner, { attempt: row.attempts, workerId: row.lease_owner });
        if (next === "dead") {
          this.event(now, "job.dead", row.id, null, { attempt: row.attempts, reason: "lease_expired" });
        }
        if (next === "cancelled") {
          this.event(now, "job.cancelled", row.id, null, { attempt: row.attempts, while: "running" });
        }
        // Read back rather than patch the row: finish time, lease expiry and version all changed.
        out.push(this.jobAfterWrite(row.id));
      }
      return out;
    });
    if (recovered.length > 0) this.watcher.notify();
    return recovered;
  }

  // -- workers ------------------------------------------------------------------------------

  async registerWorker(w: WorkerRegistration): Promise<void> {
    this.write(() => {
      const now = this.clock();
      this.stmt(sql.UPSERT_WORKER).run({
        id: w.id,
        name: w.name,
        host: w.host,
        pid: w.pid,
        queues: w.queues === null ? null : JSON.stringify(w.queues),
        tasks: JSON.stringify(w.tasks),
        concurrency: w.concurrency,
        now,
      });
      this.event(now, "worker.started", null, w.id, {
        name: w.name,
        host: w.host,
        pid: w.pid,
        queues: w.queues,
        tasks: w.tasks,
        concurrency: w.concurrency,
      });
    });
  }

  async setWorkerStatus(workerId: string, status: "stopping" | "stopped"): Promise<void> {
    this.write(() => {
      const now = this.clock();
      this.stmt(sql.SET_WORKER_STATUS).run(status, now, workerId);
      if (status === "stopped") this.event(now, "worker.stopped", null, workerId, {});
    });
  }

  async markLostWorkers(staleMs: number): Promise<string[]> {
    return this.write(() => {
      const now = this.clock();
      const rows = this.stmt(sql.MARK_LOST_WORKERS).all(now - staleMs) as Array<{ id: string }>;
      for (const { id } of rows) this.event(now, "worker.lost", null, id, { staleMs });
      return rows.map((r) => r.id);
    });
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return (this.stmt(sql.LIST_WORKERS).all() as WorkerRow[]).map(toWorker);
  }

  // -- operating ----------------------------------------------------------------------------

  async getJob(id: string): Promise<Job | null> {
    const row = this.stmt(sql.GET_JOB).get(id) as JobRow | undefined;
    return row ? toJob(row) : null;
  }

  async listJobs(filter: JobFilter = {}): Promise<Job[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.states && filter.states.length > 0) {
      where.push(`state IN (${filter.states.map(() => "?").join(",")})`);
      params.push(...filter.states);
    }
    if (filter.queue !== undefined) {
      where.push("queue = ?");
      params.push(filter.queue);
    }
    if (filter.task !== undefined) {
      where.push("task = ?");
      params.push(filter.task);
    }
    if (filter.beforeId !== undefined) {
      where.push("id < ?");
      params.push(filter.beforeId);
    }
    params.push(filter.limit ?? 50);
    const text = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
    return (this.stmt(text).all(...params) as JobRow[]).map(toJob);
  }

  async listAttempts(jobId: string): Promise<Attempt[]> {
    return (this.stmt(sql.LIST_ATTEMPTS).all(jobId) as AttemptRow[]).map(toAttempt);
  }

  async countJobs(): Promise<Record<JobState, number>> {
    const counts = emptyCounts();
    for (const r of this.stmt(sql.COUNT_BY_STATE).all() as Array<{ state: JobState; n: number }>) counts[r.state] = r.n;
    return counts;
  }

  async cancelJob(id: string): Promise<CancelResult> {
    return this.write(() => {
      const now = this.clock();
      const row = this.requireJob(id);
      if ((TRANSITIONS.cancel.from as readonly JobState[]).includes(row.state)) {
        this.stmt(sql.CANCEL_WAITING_JOB).run(now, id);
        this.event(now, "job.cancelled", id, null, { while: row.state });
        return { job: this.jobAfterWrite(id), effect: "cancelled" };
      }
      if (row.state === "running") {
        this.stmt(sql.REQUEST_CANCEL).run(id);
        this.event(now, "job.cancel_requested", id, row.lease_owner, {});
        return { job: this.jobAfterWrite(id), effect: "requested" };
      }
      throw invalidTransition(row, "cancelled", "scheduled, queued or running");
    });
  }

  async retryJob(id: string): Promise<Job> {
    const job = this.write(() => {
      const now = this.clock();
      const row = this.requireJob(id);
      if (this.stmt(sql.RETRY_JOB).run(now, id).changes !== 1) {
        throw invalidTransition(row, "retried", TRANSITIONS.retry.from.join(" or "));
      }
      this.event(now, "job.retried", id, null, { from: row.state });
      return this.jobAfterWrite(id);
    });
    this.watcher.notify();
    return job;
  }

  async retryDeadJobs(filter: { queue?: string; task?: string; limit?: number }): Promise<number> {
    const count = this.write(() => {
      const now = this.clock();
      const ids = this.stmt(sql.SELECT_DEAD_IDS).all(
        filter.queue ?? null,
        filter.task ?? null,
        filter.limit ?? 1_000_000,
      ) as Array<{ id: string }>;
      let n = 0;
      for (const { id } of ids) {
        if (this.stmt(sql.RETRY_JOB).run(now, id).changes !== 1) continue;
        this.event(now, "job.retried", id, null, { from: "dead", bulk: true });
        n++;
      }
      return n;
    });
    if (count > 0) this.watcher.notify();
    return count;
  }

  async discardJob(id: string): Promise<void> {
    this.write(() => {
      const now = this.clock();
      const row = this.requireJob(id);
      if (this.stmt(sql.DELETE_FINISHED_JOB).run(id).changes !== 1) {
        throw invalidTransition(row, "discarded", "succeeded, dead or cancelled");
      }
      this.stmt(sql.DELETE_ATTEMPTS).run(id);
      this.event(now, "job.discarded", id, null, { task: row.task, queue: row.queue, state: row.state });
    });
  }

  async setQueuePaused(name: string, paused: boolean): Promise<QueueRecord> {
    this.write(() => {
      const now = this.clock();
      this.stmt(sql.SET_QUEUE_PAUSED).run(name, paused ? 1 : 0, now);
      this.event(now, paused ? "queue.paused" : "queue.resumed", null, null, { queue: name });
    });
    if (!paused) this.watcher.notify();
    const queue = (await this.listQueues()).find((q) => q.name === name);
    return queue ?? { name, paused, counts: emptyCounts() };
  }

  async listQueues(): Promise<QueueRecord[]> {
    const queues = new Map<string, QueueRecord>();
    const get = (name: string) => {
      let q = queues.get(name);
      if (!q) {
        q = { name, paused: false, counts: emptyCounts() };
        queues.set(name, q);
      }
      return q;
    };
    for (const r of this.stmt(sql.LIST_QUEUE_FLAGS).all() as Array<{ name: string; paused: number }>) {
      get(r.name).paused = r.paused === 1;
    }
    for (const r of this.stmt(sql.COUNT_BY_QUEUE_STATE).all() as Array<{ queue: string; state: JobState; n: number }>) {
      get(r.queue).counts[r.state] = r.n;
    }
    return [...queues.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  // -- events -------------------------------------------------------------------------------

  async appendEvents(events: readonly NewEvent[]): Promise<number[]> {
    for (const e of events) assertEventKind(e.kind);
    return this.write(() => {
      const now = this.clock();
      return events.map((e) => this.event(now, e.kind, e.jobId ?? null, e.workerId ?? null, e.data ?? {}));
    });
  }

  async readEvents(query: EventQuery = {}): Promise<OverseerEvent[]> {
    const after = query.afterSeq ?? 0;
    const limit = query.limit ?? 1_000;
    const rows =
      query.jobId === undefined
        ? this.stmt(sql.READ_EVENTS).all(after, limit)
        : this.stmt(sql.READ_JOB_EVENTS).all(query.jobId, after, limit);
    return (rows as EventRow[]).map(toEvent);
  }

  async lastEventSeq(): Promise<number> {
    return (this.stmt(sql.LAST_EVENT_SEQ).get() as { seq: number }).seq;
  }

  // -- retention ----------------------------------------------------------------------------

  async prune(policy: RetentionPolicy, options: PruneOptions = {}): Promise<PruneResult> {
    const result: PruneResult = { jobs: { succeeded: 0, dead: 0, cancelled: 0 }, events: 0 };
    const now = this.clock();
    for (const state of ["succeeded", "dead", "cancelled"] as const) {
      const rule = policy.jobs[state];
      if (!rule) continue;
      const cutoff = rule.maxAgeMs === undefined ? Number.NEGATIVE_INFINITY : now - rule.maxAgeMs;
      const keep = rule.maxCount ?? -1;
      let seen = "";
      for (;;) {
        // A dry run cannot delete, so it pages through everything in one large read instead.
        const rows = this.stmt(sql.SELECT_PRUNABLE_JOBS).all(
          state,
          cutoff,
          keep,
          options.dryRun ? Number.MAX_SAFE_INTEGER : PRUNE_BATCH,
        ) as JobRow[];
        if (rows.length === 0 || rows[0]?.id === seen) break;
        if (options.dryRun) {
          result.jobs[state] += rows.length;
          break;
        }
        seen = rows[0]?.id ?? "";
        const batch: PruneBatch = {
          jobs: rows.map((r) => ({
            job: toJob(r),
            attempts: (this.stmt(sql.LIST_ATTEMPTS).all(r.id) as AttemptRow[]).map(toAttempt),
          })),
          events: [],
        };
        await options.archive?.(batch);
        result.jobs[state] += this.write(() => {
          let n = 0;
          for (const r of rows) {
            // The job may have been retried while the archive ran: then it stays, history and all.
            if (this.stmt(sql.DELETE_FINISHED_JOB).run(r.id).changes !== 1) continue;
            this.stmt(sql.DELETE_ATTEMPTS).run(r.id);
            n++;
          }
          return n;
        });
      }
    }
    if (policy.events) {
      const byAge = policy.events.maxAgeMs === undefined ? 0 : this.lastEventSeqBefore(now - policy.events.maxAgeMs);
      const byCount = policy.events.maxCount === undefined ? 0 : (await this.lastEventSeq()) - policy.events.maxCount;
      // Never the newest event: its sequence number is what keeps the next ones from reusing older ones.
      const upTo = Math.min(Math.max(byAge, byCount), (await this.lastEventSeq()) - 1);
      if (options.dryRun) {
        result.events = (this.stmt(sql.COUNT_EVENTS_UP_TO).get(upTo) as { n: number }).n;
      } else {
        for (;;) {
          const rows = this.stmt(sql.SELECT_EVENTS_UP_TO).all(upTo, PRUNE_BATCH * 4) as EventRow[];
          if (rows.length === 0) break;
          await options.archive?.({ jobs: [], events: rows.map(toEvent) });
          const last = rows.at(-1)?.seq ?? 0;
          result.events += this.write(() => this.stmt(sql.DELETE_EVENTS_UP_TO).run(last).changes);
        }
      }
    }
    if (!options.dryRun) {
      const workerCutoff = now - (policy.events?.maxAgeMs ?? 7 * 86_400_000);
      this.write(() => this.stmt(sql.DELETE_OLD_WORKERS).run(workerCutoff));
    }
    return result;
  }

  /**
   * The last event older than `cutoff`, by binary search over sequence numbers: events are
   * appended with the clock read inside the write lock, so `at` never decreases along `seq`,
   * and no index on `at` has to be kept up to date on every append.
   */
  private lastEventSeqBefore(cutoff: number): number {
    let lo = 0;
    let hi = (this.stmt(sql.LAST_EVENT_SEQ).get() as { seq: number }).seq;
    let found = 0;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      const row = this.stmt(sql.FIRST_EVENT_FROM).get(mid) as { seq: number; at: number } | undefined;
      if (!row || row.seq > hi) {
        hi = mid - 1;
      } else if (row.at < cutoff) {
        found = row.seq;
        lo = row.seq + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  // -- plumbing -----------------------------------------------------------------------------

  /** Runs `fn` in a write transaction, taking the file lock up front so it cannot deadlock on upgrade. */
  private write<T>(fn: () => T): T {
    if (this.closed) throw new OverseerError("SHUTTING_DOWN", "the store is closed");
    if (this.db.inTransaction) return fn();
    this.stmt("BEGIN IMMEDIATE").run();
    try {
      const result = fn();
      this.stmt("COMMIT").run();
      this.checkpointSoon();
      return result;
    } catch (err) {
      // SQLite may already have rolled back (e.g. on SQLITE_FULL); only roll back what is still open.
      if (this.db.inTransaction) this.stmt("ROLLBACK").run();
      throw err;
    }
  }

  /**
   * A passive checkpoint shortly after writes, outside any enqueue or claim: it never blocks
   * other readers or writers, and skips frames that a reader still needs.
   */
  private checkpointSoon(): void {
    if (this.checkpointTimer) return;
    this.checkpointTimer = setTimeout(() => {
      this.checkpointTimer = null;
      if (this.closed) return;
      try {
        this.db.pragma("wal_checkpoint(PASSIVE)");
      } catch (err) {
        this.warn("WAL checkpoint failed; SQLite will retry at its own threshold", err as Error);
      }
    }, CHECKPOINT_DELAY_MS);
    this.checkpointTimer.unref();
  }

  private stmt(text: string, options: { raw?: boolean } = {}): Statement {
    const key = options.raw ? `raw:${text}` : text;
    let s = this.statements.get(key);
    if (!s) {
      s = waitingForLocks(prepare(this.db, text, options.raw ?? false), this.busyTimeoutMs);
      this.statements.set(key, s);
    }
    return s;
  }

  private event(at: number, kind: string, jobId: string | null, workerId: string | null, data: object): number {
    return Number(this.stmt(sql.INSERT_EVENT).run(at, kind, jobId, workerId, JSON.stringify(data)).lastInsertRowid);
  }

  private requireJob(id: string): JobRow {
    const row = this.stmt(sql.GET_JOB).get(id) as JobRow | undefined;
    if (!row) throw new OverseerError("JOB_NOT_FOUND", `no job with id "${id}"`, { id });
    return row;
  }

  private jobAfterWrite(id: string): Job {
    return toJob(this.requireJob(id));
  }
}

/** The subset of a prepared statement the store uses, with positional arguments. */
interface Statement {
  run(...args: unknown[]): Database.RunResult;
  get(...args: unknown[]): unknown;
  all(...args: unknown[]): unknown[];
}

/**
 * Statements are written with numbered parameters (?1, ?2) so that one value can be used twice
 * and each statement's comment can name them. better-sqlite3 binds `?NNN` only by name, so they
 * are rewritten to plain `?` and the arguments reordered to match, which keeps binding
 * positional (the fastest kind). Statements with their own @names are used as they are.
 */
function prepare(db: Database.Database, text: string, raw: boolean): Statement {
  const numbers = [...text.matchAll(/\?(\d+)/g)].map((m) => Number(m[1]) - 1);
  const stmt = db.prepare(numbers.length === 0 ? text : text.replace(/\?\d+/g, "?"));
  if (raw) stmt.raw(true);
  if (numbers.length === 0) return stmt;
  if (numbers.every((n, i) => n === i)) return stmt;
  const bind = (args: unknown[]) => numbers.map((n) => args[n]);
  return {
    run: (...args) => stmt.run(bind(args)),
    get: (...args) => stmt.get(bind(args)),
    all: (...args) => stmt.all(bind(args)),
  };
}

/** Whether a claim could return anything at all (an empty task or queue list matches no job). */
function canMatch(req: ClaimRequest): boolean {
  return req.limit > 0 && req.tasks.length > 0 && (req.queues === null || req.queues.length > 0);
}

/** Most jobs share a few backoff policies (often the default object itself): serialise each once. */
const backoffTexts = new WeakMap<object, string>();
function backoffJson(policy: object): string {
  let text = backoffTexts.get(policy);
  if (text === undefined) {
    text = JSON.stringify(policy);
    backoffTexts.set(policy, text);
  }
  return text;
}

/**
 * Runs a statement, and if another process holds the lock it needs (SQLITE_BUSY), waits and
 * tries again: 50 µs at first, doubling up to 2 ms, until `timeoutMs`. A write transaction holds
 * the lock for a fraction of a millisecond, so these short waits cut the delay of a collision
 * from SQLite's 1-3 ms to about what the other writer actually needs. Waiting blocks this
 * process, as SQLite's own busy handler would.
 */
function waitingForLocks(stmt: Statement, timeoutMs: number): Statement {
  const retry = <T>(call: () => T): T => {
    try {
      return call();
    } catch (err) {
      if (!isBusy(err)) throw err;
      const deadline = performance.now() + timeoutMs;
      for (let waitMs = 0.05; ; waitMs = Math.min(2, waitMs * 2)) {
        Atomics.wait(SLEEP_CELL, 0, 0, waitMs);
        try {
          return call();
        } catch (again) {
          if (!isBusy(again)) throw again;
          if (performance.now() > deadline) {
            throw new OverseerError(
              "DATABASE_UNAVAILABLE",
              `the database stayed locked by another process for more than ${timeoutMs} ms`,
              { timeoutMs },
            );
          }
        }
      }
    }
  };
  return {
    run: (...args) => retry(() => stmt.run(...args)),
    get: (...args) => retry(() => stmt.get(...args)),
    all: (...args) => retry(() => stmt.all(...args)),
  };
}

const SLEEP_CELL = new Int32Array(new SharedArrayBuffer(4));

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

function emptyCounts(): Record<JobState, number> {
  return Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
}

function brief(error: JobError): Omit<JobError, "stack"> {
  return { code: error.code, message: error.message, retryable: error.retryable };
}

function invalidTransition(row: JobRow, verb: string, allowed: string): OverseerError {
  return new OverseerError("INVALID_TRANSITION", `job ${row.id} is ${row.state}; only ${allowed} jobs can be ${verb}`, {
    id: row.id,
    state: row.state,
  });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    // Does not exist yet: SQLite creates it (if its folder exists).
    return false;
  }
}

function reason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/directory does not exist/i.test(message)) return "its folder does not exist";
  return message;
}
