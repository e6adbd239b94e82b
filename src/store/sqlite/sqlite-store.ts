import { OverseerError } from "../../core/errors.js";
import { assertEventKind } from "../../core/events.js";
import type { NewJob } from "../../core/job-options.js";
import type { ClaimedRun } from "../../core/run.js";
import type { ClaimedJob, Job, Lease } from "../../core/types.js";
import { iso } from "../rows.js";
import * as runs from "../runs/operations.js";
import type * as schedules from "../schedules/operations.js";
import { SqlStore } from "../sql-store.js";
import type {
  AttemptResult,
  ClaimRequest,
  EnqueueResult,
  HeartbeatResult,
  NewEvent,
  TransactionHandle,
  WorkerCounts,
} from "../store.js";
import { answer, type Db, type Op, runSync, type Tx } from "../tx.js";
import { ChangeWatcher } from "./change-watcher.js";
import { canMatch, claimInTransaction, startHeldInTransaction } from "./claim.js";
import { type ConnectionOptions, SqliteConnection } from "./connection.js";
import { finishInTransaction, recoverExpiredInTransaction } from "./finish.js";
import { foreignWriter, MAIN_FILE } from "./foreign-transaction.js";
import { insertJob } from "./insert-job.js";
import { MIGRATIONS, scriptOf } from "./migrations/index.js";
import { SqliteDb, SqliteTx } from "./sqlite-tx.js";
import * as sql from "./statements.js";

export type SqliteStoreOptions = ConnectionOptions;

export class SqliteStore extends SqlStore {
  readonly remote = false;
  private readonly conn: SqliteConnection;
  private readonly watcher: ChangeWatcher;
  /** While claims keep finding work (a backlog draining), the readiness check would only cost time. */
  private lastClaimFoundWork = false;
  /** The database file, as SQLite names it; read when first needed. */
  private file: string | undefined;

  private constructor(conn: SqliteConnection, options: SqliteStoreOptions) {
    super();
    this.conn = conn;
    this.watcher = new ChangeWatcher(
      options.path,
      () => conn.dataVersion(),
      (err) => conn.warn("database change watch failed; polling only", err),
    );
  }

  /** Opens (creating if needed) and migrates the database. Fails with DATABASE_UNAVAILABLE and writes nothing if it cannot. */
  static async open(options: SqliteStoreOptions): Promise<SqliteStore> {
    const conn = SqliteConnection.open(options);
    const store = new SqliteStore(conn, options);
    try {
      await store.migrate();
    } catch (err) {
      conn.close();
      if (err instanceof OverseerError) throw err;
      throw new OverseerError(
        "DATABASE_UNAVAILABLE",
        `cannot use database "${options.path}": ${(err as Error).message}`,
        {
          path: options.path,
        },
      );
    }
    conn.waitForLocksHere();
    return store;
  }

  async migrate(): Promise<{ applied: string[] }> {
    const applied: string[] = [];
    this.conn.write(() => {
      const current = this.conn.userVersion;
      const latest = MIGRATIONS.at(-1)?.version ?? 0;
      if (current > latest) {
        throw new OverseerError(
          "SCHEMA_TOO_NEW",
          `database schema is at version ${current}, but this Overseer knows only up to ${latest}; upgrade Overseer`,
        );
      }
      for (const m of MIGRATIONS) {
        if (m.version <= current) continue;
        this.conn.exec(scriptOf(m, (table, column) => this.conn.hasColumn(table, column)));
        this.conn.userVersion = m.version;
        applied.push(m.name);
      }
    });
    return { applied };
  }

  async now(): Promise<number> {
    return this.conn.clock();
  }

  async close(): Promise<void> {
    this.watcher.stop();
    this.conn.close();
  }

  onChange(listener: () => void): () => void {
    return this.watcher.subscribe(listener);
  }

  /**
   * Runs a store operation (../tx.ts) as one write transaction, or as part of the one open; wakes
   * workers (every process, through the WAL watch) if it made work ready.
   */
  protected transact<T>(body: (tx: Tx) => Op<T>): T {
    const [result, notified] = this.conn.write(() => {
      // The clock is read once the file lock is held, so times follow the order of commits.
      const tx = new SqliteTx(this.conn, this.conn.clock());
      return [runSync(body(tx)), tx.notified] as const;
    });
    if (notified) this.watcher.notify();
    return result;
  }

  /** Runs a store operation that only reads. */
  protected read<T>(body: (db: Db) => Op<T>): T {
    return runSync(body(new SqliteDb(this.conn)));
  }

  // -- producing ----------------------------------------------------------------------------

  async enqueue(job: NewJob): Promise<EnqueueResult> {
    const result = this.conn.write(() => this.insertJob(job, this.conn.clock()));
    if (result.created) this.watcher.notify();
    return result;
  }

  async enqueueMany(jobs: readonly NewJob[]): Promise<EnqueueResult[]> {
    if (jobs.length === 0) return [];
    const results = this.conn.write(() => {
      const now = this.conn.clock();
      return jobs.map((job) => this.insertJob(job, now));
    });
    this.watcher.notify();
    return results;
  }

  /**
   * Synchronous, as better-sqlite3 transactions are. Nothing wakes this process's workers here:
   * the user's commit reaches every process, this one included, through the WAL watch.
   */
  enqueueWithin(handle: TransactionHandle, job: NewJob): EnqueueResult {
    if (this.conn.isClosed) throw new OverseerError("SHUTTING_DOWN", "the store is closed");
    this.file ??= (this.conn.stmt(MAIN_FILE).get() as { file: string }).file;
    return insertJob(foreignWriter(handle, this.file), job, this.conn.clock());
  }

  private insertJob(job: NewJob, now: number): EnqueueResult {
    return insertJob(this.conn, job, now);
  }

  // -- claiming -----------------------------------------------------------------------------

  async claim(req: ClaimRequest): Promise<ClaimedJob[]> {
    if (!canMatch(req)) return [];
    // A read first, so idle workers never take the write lock just to find nothing. While
    // claims keep finding work (a backlog draining) the check would only cost time.
    if (!this.lastClaimFoundWork) {
      const { ready } = this.conn.stmt(sql.ANY_READY).get(JSON.stringify(req.tasks), this.conn.clock()) as {
        ready: number;
      };
      if (!ready) return [];
    }
    return this.conn.write(() => this.claimed(claimInTransaction(this.conn, req, this.conn.clock())));
  }

  async finishAndClaim(
    results: readonly AttemptResult[],
    req: ClaimRequest,
  ): Promise<{ applied: boolean[]; claimed: ClaimedJob[] }> {
    let requeued = false;
    const out = this.conn.write(() => {
      const now = this.conn.clock();
      const finished = finishInTransaction(this.conn, results, now);
      requeued = finished.requeued;
      const claimed = canMatch(req) ? this.claimed(claimInTransaction(this.conn, req, now)) : [];
      return { applied: finished.applied, claimed };
    });
    if (requeued) this.watcher.notify();
    return out;
  }

  async heartbeat(
    workerId: string,
    leases: readonly Lease[],
    leaseMs: number,
    counts?: WorkerCounts,
  ): Promise<HeartbeatResult> {
    return this.conn.write(() => {
      const now = this.conn.clock();
      const result: HeartbeatResult = { extended: [], lost: [], cancelRequested: [], command: null };
      const expiresAt = now + leaseMs;
      for (const lease of leases) {
        const row = this.conn.stmt(sql.EXTEND_LEASE).get(expiresAt, lease.jobId, lease.token) as
          | { cancel_requested: number }
          | undefined;
        if (!row) {
          result.lost.push(lease.jobId);
          continue;
        }
        result.extended.push({ ...lease, expiresAt: iso(expiresAt) });
        if (row.cancel_requested === 1) result.cancelRequested.push(lease.jobId);
      }
      const worker = this.conn
        .stmt(sql.WORKER_HEARTBEAT)
        .get(now, workerId, counts?.processed ?? null, counts?.failed ?? null) as
        | { command: "quiet" | "stop" | null }
        | undefined;
      result.command = worker?.command ?? null;
      return result;
    });
  }

  async startHeld(leases: readonly Lease[]): Promise<string[]> {
    if (leases.length === 0) return [];
    return this.conn.write(() => startHeldInTransaction(this.conn, leases, this.conn.clock()));
  }

  async finish(results: readonly AttemptResult[]): Promise<boolean[]> {
    if (results.length === 0) return [];
    const { applied, requeued } = this.conn.write(() => finishInTransaction(this.conn, results, this.conn.clock()));
    if (requeued) this.watcher.notify();
    return applied;
  }

  async recoverExpiredLeases(limit = 500): Promise<Job[]> {
    if (!(this.conn.stmt(sql.ANY_EXPIRED_LEASE).get(this.conn.clock()) as { expired: number }).expired) return [];
    const recovered = this.conn.write(() => recoverExpiredInTransaction(this.conn, limit, this.conn.clock()));
    if (recovered.length > 0) this.watcher.notify();
    return recovered;
  }

  // -- what this backend does its own way ---------------------------------------------------

  async appendEvents(events: readonly NewEvent[]): Promise<number[]> {
    for (const e of events) assertEventKind(e.kind);
    return this.conn.write(() => {
      const now = this.conn.clock();
      return events.map((e) =>
        this.conn.event(now, e.kind, e.jobId ?? null, e.workerId ?? null, e.data ?? {}, e.runId ?? null),
      );
    });
  }

  /** The hot path's insert (insert-job.ts), as a step of an operation in the open transaction `tx`. */
  protected enqueueIn(tx: Tx): schedules.EnqueueJob {
    return (job) => answer(this.insertJob(job, tx.at));
  }

  /** A read first: supervisors look often, and most looks find nothing; only a find takes the write lock. */
  override async claimRun(workerId: string, leaseMs: number): Promise<ClaimedRun | null> {
    if (!this.read(runs.anyRunClaimable)) return null;
    return super.claimRun(workerId, leaseMs);
  }

  // -- plumbing -----------------------------------------------------------------------------

  private claimed(jobs: ClaimedJob[]): ClaimedJob[] {
    this.lastClaimFoundWork = jobs.length > 0;
    return jobs;
  }
}
