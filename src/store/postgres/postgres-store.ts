import { OverseerError } from "../../core/errors.js";
import { assertEventKind } from "../../core/events.js";
import type { NewJob } from "../../core/job-options.js";
import type { ClaimedJob, Job, Lease } from "../../core/types.js";
import { startCount } from "../leases.js";
import { madeWorkReady } from "../outcomes.js";
import { iso } from "../rows.js";
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
import { answer, type Db, type Op, runAsync, type Tx as StoreTx } from "../tx.js";
import { ChangeListener } from "./change-listener.js";
import { canMatch, claimAtOnce, claimInTransaction, openClaim, startHeld } from "./claim.js";
import { LOCK, openings, PgConnection, type PgConnectionOptions, type Tx } from "./connection.js";
import { finishInTransaction, openFinish, recoverExpiredInTransaction, succeedAll } from "./finish.js";
import { assertPgHandle, enqueueWithin } from "./foreign-transaction.js";
import { insertAtOnceScript, insertedAtOnce, insertJob, insertsAtOnce } from "./insert-job.js";
import { MIGRATIONS } from "./migrations/index.js";
import { PgDb, PgTx } from "./pg-tx.js";
import * as sql from "./statements.js";

export type PostgresStoreOptions = PgConnectionOptions;

export class PostgresStore extends SqlStore {
  readonly remote = true;
  private readonly changes: ChangeListener;
  /**
   * Whether the next claim may skip its readiness read: while claims come back full (a backlog
   * draining), or just after a wakeup (new work is likely), it would only cost a round trip. A
   * short claim took all there was.
   */
  private workLikely = false;

  private readonly db: PgDb;

  private constructor(private readonly conn: PgConnection) {
    super();
    this.changes = new ChangeListener(conn);
    this.db = new PgDb(conn);
  }

  /** Connects and migrates. Fails with DATABASE_UNAVAILABLE (password masked) if the database cannot be reached. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const conn = await PgConnection.open(options);
    const store = new PostgresStore(conn);
    try {
      await store.migrate();
    } catch (err) {
      await conn.close();
      if (err instanceof OverseerError) throw err;
      throw new OverseerError("DATABASE_UNAVAILABLE", `cannot use ${conn.target}: ${(err as Error).message}`, {
        database: conn.target,
      });
    }
    return store;
  }

  /**
   * One transaction under an advisory lock on this schema: a second node starting at the same
   * moment waits, then finds the work done. DDL is transactional here, so a failed migration
   * leaves the schema as it was.
   */
  async migrate(): Promise<{ applied: string[] }> {
    return this.conn.write(async (tx) => {
      await tx.run(sql.LOCK_MIGRATIONS, [LOCK.migrate]);
      await tx.run(sql.CREATE_MIGRATIONS_TABLE);
      const current = (await tx.one<{ version: number }>(sql.CURRENT_VERSION))?.version ?? 0;
      const latest = MIGRATIONS.at(-1)?.version ?? 0;
      if (current > latest) {
        throw new OverseerError(
          "SCHEMA_TOO_NEW",
          `database schema is at version ${current}, but this Overseer knows only up to ${latest}; upgrade Overseer`,
        );
      }
      const applied: string[] = [];
      for (const m of MIGRATIONS) {
        if (m.version <= current) continue;
        await tx.run(m.sql);
        await tx.run(sql.RECORD_MIGRATION, [m.version, m.name, tx.now]);
        applied.push(m.name);
      }
      return { applied };
    });
  }

  async now(): Promise<number> {
    return this.conn.now();
  }

  async close(): Promise<void> {
    if (this.conn.isClosed) return;
    await this.changes.stop();
    await this.conn.close();
  }

  onChange(listener: () => void): () => void {
    return this.changes.subscribe(() => {
      this.workLikely = true;
      listener();
    });
  }

  /** A write whose commit may have made jobs ready: wakes this process's listeners at once (others by NOTIFY). */
  private async writeAndWake<T>(fn: (tx: Tx) => Promise<T>, wake: (result: T) => boolean): Promise<T> {
    const result = await this.conn.write(async (tx) => {
      const out = await fn(tx);
      if (wake(out)) tx.notify();
      return out;
    });
    if (wake(result)) this.changes.notify();
    return result;
  }

  /**
   * Runs a store operation (../tx.ts) as one transaction; wakes this process's workers at once if
   * it made work ready (others by its NOTIFY).
   */
  protected async transact<T>(body: (tx: StoreTx) => Op<T>): Promise<T> {
    let woke = false;
    const result = await this.conn.write(async (pgTx) => {
      const tx = new PgTx(pgTx);
      const out = await runAsync(body(tx));
      woke = tx.notified;
      return out;
    });
    if (woke) this.changes.notify();
    return result;
  }

  /** Runs a store operation that only reads. */
  protected read<T>(body: (db: Db) => Op<T>): Promise<T> {
    return runAsync(body(this.db));
  }

  // -- producing ----------------------------------------------------------------------------

  async enqueue(job: NewJob): Promise<EnqueueResult> {
    if (insertsAtOnce(job)) return (await this.insertAtOnce([job]))[0] as EnqueueResult;
    return this.writeAndWake(
      (tx) => this.insertJob(tx, job),
      (r) => r.created,
    );
  }

  async enqueueMany(jobs: readonly NewJob[]): Promise<EnqueueResult[]> {
    if (jobs.length === 0) return [];
    if (jobs.every(insertsAtOnce)) return this.insertAtOnce(jobs);
    return this.writeAndWake(
      async (tx) => {
        const results: EnqueueResult[] = [];
        for (const job of jobs) results.push(await this.insertJob(tx, job));
        return results;
      },
      (r) => r.some((x) => x.created),
    );
  }

  /** Nothing wakes this process's workers here: the NOTIFY sent in the user's transaction does, when it commits. */
  enqueueWithin(handle: TransactionHandle, job: NewJob): Promise<EnqueueResult> {
    assertPgHandle(handle);
    return enqueueWithin(this.conn, handle, job);
  }

  /** Jobs that need nothing read first (see `insertsAtOnce`), however many, in one round trip. */
  private async insertAtOnce(jobs: readonly NewJob[]): Promise<EnqueueResult[]> {
    const [clock] = await this.conn.script((nowSql) => insertAtOnceScript(jobs, nowSql));
    const now = (clock?.rows[0] as { now: number } | undefined)?.now;
    if (now === undefined) throw new Error("the database did not return its clock");
    this.changes.notify();
    return insertedAtOnce(jobs, Number(now));
  }

  private insertJob(tx: Tx, job: NewJob): Promise<EnqueueResult> {
    return insertJob(tx, job);
  }

  // -- claiming -----------------------------------------------------------------------------

  async claim(req: ClaimRequest): Promise<ClaimedJob[]> {
    if (!canMatch(req)) return [];
    this.conn.assertOpen();
    // A read first, so idle workers polling many nodes open no transactions and lock nothing.
    if (!this.workLikely) {
      const ready = await this.conn.one<{ ready: boolean }>(sql.ANY_READY, [req.tasks, this.conn.clock?.() ?? null]);
      if (!ready?.ready) return [];
    }
    const first = await claimAtOnce(this.conn, req);
    let claimed = first.claimed;
    if (first.stopped && claimed.length < req.limit) {
      // The page stopped at a job with a concurrency key or rate limit: the rest, in a
      // transaction that weighs each such job under its key's lock.
      const rest = { ...req, limit: req.limit - claimed.length, start: Math.max(0, startCount(req) - claimed.length) };
      try {
        claimed = [...claimed, ...(await this.conn.write((tx) => claimInTransaction(tx, rest), openClaim(rest)))];
      } catch (err) {
        // The first page is committed: its jobs are this worker's, so they are returned, not
        // left leased to nobody. The next claim meets the failure again if it lasts.
        if (claimed.length === 0) throw err;
      }
    }
    this.workLikely = claimed.length === req.limit;
    return claimed;
  }

  async finishAndClaim(
    results: readonly AttemptResult[],
    req: ClaimRequest,
  ): Promise<{ applied: boolean[]; claimed: ClaimedJob[] }> {
    let requeued = false;
    const out = await this.conn.write(
      async (tx) => {
        const applied = await finishInTransaction(tx, results);
        requeued = madeWorkReady(results, applied);
        const claimed = canMatch(req) ? await claimInTransaction(tx, req) : [];
        return { applied, claimed };
      },
      openings(openFinish(results), canMatch(req) ? openClaim(req) : undefined),
    );
    this.workLikely = canMatch(req) && out.claimed.length === req.limit;
    if (requeued) this.changes.notify();
    return out;
  }

  async heartbeat(
    workerId: string,
    leases: readonly Lease[],
    leaseMs: number,
    counts?: WorkerCounts,
  ): Promise<HeartbeatResult> {
    return this.conn.write(async (tx) => {
      const result: HeartbeatResult = { extended: [], lost: [], cancelRequested: [], command: null };
      const expiresAt = tx.now + leaseMs;
      const held = new Map(
        (
          await tx.rows<{ id: string; lease_token: number; cancel_requested: number }>(sql.EXTEND_LEASES, [
            expiresAt,
            leases.map((l) => l.jobId),
            leases.map((l) => l.token),
          ])
        ).map((r) => [`${r.id}:${r.lease_token}`, r.cancel_requested]),
      );
      for (const lease of leases) {
        const cancel = held.get(`${lease.jobId}:${lease.token}`);
        if (cancel === undefined) {
          result.lost.push(lease.jobId);
          continue;
        }
        result.extended.push({ ...lease, expiresAt: iso(expiresAt) });
        if (cancel === 1) result.cancelRequested.push(lease.jobId);
      }
      const [worker] = await tx.rows<{ command: "quiet" | "stop" | null }>(sql.WORKER_HEARTBEAT, [
        tx.now,
        workerId,
        counts?.processed ?? null,
        counts?.failed ?? null,
      ]);
      result.command = worker?.command ?? null;
      return result;
    });
  }

  async finish(results: readonly AttemptResult[]): Promise<boolean[]> {
    if (results.length === 0) return [];
    if (results.every((r) => r.outcome === "succeeded" && r.followUp === undefined)) {
      return succeedAll(this.conn, results);
    }
    const applied = await this.conn.write((tx) => finishInTransaction(tx, results), openFinish(results));
    if (madeWorkReady(results, applied)) this.changes.notify();
    return applied;
  }

  async startHeld(leases: readonly Lease[]): Promise<string[]> {
    if (leases.length === 0) return [];
    this.conn.assertOpen();
    return startHeld(this.conn, leases);
  }

  async recoverExpiredLeases(limit = 500): Promise<Job[]> {
    const now = this.conn.clock?.() ?? null;
    if (!(await this.conn.one<{ expired: boolean }>(sql.ANY_EXPIRED_LEASE, [now]))?.expired) return [];
    return this.writeAndWake(
      (tx) => recoverExpiredInTransaction(tx, limit),
      (jobs) => jobs.some((j) => j.state === "queued"),
    );
  }

  // -- what this backend does its own way ---------------------------------------------------

  async appendEvents(events: readonly NewEvent[]): Promise<number[]> {
    for (const e of events) assertEventKind(e.kind);
    return this.conn.write(async (tx) => {
      for (const e of events) tx.event(e.kind, e.jobId ?? null, e.workerId ?? null, e.data ?? {}, e.runId ?? null);
      return tx.flushEvents();
    });
  }

  /** The hot path's insert (insert-job.ts), in the transaction `tx` wraps (every Tx this store makes is a PgTx). */
  protected enqueueIn(tx: StoreTx): schedules.EnqueueJob {
    return (job) => answer(this.insertJob((tx as PgTx).transaction, job));
  }
}

/** Whether a recorded outcome sent a job back to wait (a retry, or a release at shutdown), so workers should look again. */
