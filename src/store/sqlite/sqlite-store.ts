/**
 * The embedded backend: one SQLite file in WAL mode, shared safely by any number of processes
 * on one machine. Every write is one `BEGIN IMMEDIATE` transaction, so writers queue on the
 * file lock (up to `busyTimeoutMs`) instead of failing, and a method that returns has committed.
 * With `synchronous=NORMAL` (the default) a committed write survives any process crash;
 * `durability: "full"` also survives power loss, at the cost of an fsync per commit.
 */
import type { Alert, AlertNotification, NewAlert, NotificationReceipt } from "../../core/alert.js";
import type { Approval, Decider, DecisionChannel, NewApproval } from "../../core/approval.js";
import type { Claim, TakeClaimResult } from "../../core/claim.js";
import type { NewSignal, SignalRecord, StepKind, StepRecord } from "../../core/durable.js";
import { OverseerError } from "../../core/errors.js";
import { assertEventKind } from "../../core/events.js";
import type { Heartbeat, HeartbeatDefinition } from "../../core/heartbeat.js";
import type { NewJob } from "../../core/job-options.js";
import type { TaskRecord } from "../../core/known-tasks.js";
import type {
  ClaimedRun,
  NewRun,
  Run,
  RunControlRequest,
  RunFilter,
  RunLease,
  RunTurn,
  RunUpdate,
} from "../../core/run.js";
import type { RunState, RunTransitionName } from "../../core/run-state.js";
import type {
  Attempt,
  ClaimedJob,
  Job,
  JobState,
  Lease,
  OverseerEvent,
  QueueRecord,
  ScheduleDefinition,
  ScheduleRecord,
  TokenRecord,
  WorkerRecord,
} from "../../core/types.js";
import * as alerts from "../alerts/operations.js";
import * as approvals from "../approvals/operations.js";
import * as claims from "../claims/operations.js";
import * as durable from "../durable/operations.js";
import * as events from "../events/operations.js";
import * as heartbeats from "../heartbeats/operations.js";
import * as jobs from "../jobs/operations.js";
import * as queues from "../queues/operations.js";
import { prune } from "../retention/prune.js";
import { iso, toWorker, type WorkerRow } from "../rows.js";
import * as runs from "../runs/operations.js";
import * as schedules from "../schedules/operations.js";
import type {
  AlertEscalation,
  AlertFilter,
  ApprovalFilter,
  AttemptResult,
  CancelResult,
  ClaimRequest,
  EnqueueResult,
  EventQuery,
  FireTickResult,
  HeartbeatResult,
  JobFilter,
  LateHeartbeat,
  NewEvent,
  NewToken,
  PingHeartbeatResult,
  PruneOptions,
  PruneResult,
  RaiseAlertResult,
  RetentionPolicy,
  Store,
  SyncHeartbeatsResult,
  SyncSchedulesResult,
  TransactionHandle,
  WorkerRegistration,
} from "../store.js";
import * as tasks from "../tasks/operations.js";
import * as tokens from "../tokens/operations.js";
import { answer, type Db, type Op, runSync, type Tx } from "../tx.js";
import { ChangeWatcher } from "./change-watcher.js";
import { canMatch, claimInTransaction, startHeldInTransaction } from "./claim.js";
import { type ConnectionOptions, SqliteConnection } from "./connection.js";
import { finishInTransaction, recoverExpiredInTransaction } from "./finish.js";
import { foreignWriter, MAIN_FILE } from "./foreign-transaction.js";
import { insertJob } from "./insert-job.js";
import { MIGRATIONS } from "./migrations/index.js";
import { SqliteDb, SqliteTx } from "./sqlite-tx.js";
import * as sql from "./statements.js";

export type SqliteStoreOptions = ConnectionOptions;

export class SqliteStore implements Store {
  private readonly conn: SqliteConnection;
  private readonly watcher: ChangeWatcher;
  /** While claims keep finding work (a backlog draining), the readiness check would only cost time. */
  private lastClaimFoundWork = false;
  /** The database file, as SQLite names it; read when first needed. */
  private file: string | undefined;

  private constructor(conn: SqliteConnection, options: SqliteStoreOptions) {
    this.conn = conn;
    this.watcher = new ChangeWatcher(options.path, (err) =>
      conn.warn("database change watch failed; polling only", err),
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
        this.conn.exec(m.sql);
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
  private transact<T>(body: (tx: Tx) => Op<T>): T {
    const [result, notified] = this.conn.write(() => {
      // The clock is read once the file lock is held, so times follow the order of commits.
      const tx = new SqliteTx(this.conn, this.conn.clock());
      return [runSync(body(tx)), tx.notified] as const;
    });
    if (notified) this.watcher.notify();
    return result;
  }

  /** Runs a store operation that only reads. */
  private read<T>(body: (db: Db) => Op<T>): T {
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

  async nextScheduledAt(): Promise<number | null> {
    return this.read(jobs.nextScheduledAt);
  }

  async heartbeat(workerId: string, leases: readonly Lease[], leaseMs: number): Promise<HeartbeatResult> {
    return this.conn.write(() => {
      const now = this.conn.clock();
      const result: HeartbeatResult = { extended: [], lost: [], cancelRequested: [] };
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
      this.conn.stmt(sql.WORKER_HEARTBEAT).run(now, workerId);
      return result;
    });
  }

  async startHeld(leases: readonly Lease[]): Promise<string[]> {
    if (leases.length === 0) return [];
    return this.conn.write(() => startHeldInTransaction(this.conn, leases, this.conn.clock()));
  }

  async recordProgress(lease: Lease, progressJson: string): Promise<boolean> {
    return this.transact((tx) => jobs.recordProgress(tx, lease, progressJson));
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

  // -- workers ------------------------------------------------------------------------------

  async registerWorker(w: WorkerRegistration): Promise<void> {
    await this.transact((tx) => tasks.registerWorker(tx, w));
  }

  async setWorkerStatus(workerId: string, status: "stopping" | "stopped"): Promise<void> {
    this.conn.write(() => {
      const now = this.conn.clock();
      this.conn.stmt(sql.SET_WORKER_STATUS).run(status, now, workerId);
      if (status === "stopped") this.conn.event(now, "worker.stopped", null, workerId, {});
    });
  }

  async markLostWorkers(staleMs: number): Promise<string[]> {
    const cutoff = this.conn.clock() - staleMs;
    if (!(this.conn.stmt(sql.ANY_STALE_WORKER).get(cutoff) as { stale: number }).stale) return [];
    return this.conn.write(() => {
      const now = this.conn.clock();
      const rows = this.conn.stmt(sql.MARK_LOST_WORKERS).all(now - staleMs) as Array<{ id: string }>;
      for (const { id } of rows) this.conn.event(now, "worker.lost", null, id, { staleMs });
      return rows.map((r) => r.id);
    });
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return (this.conn.stmt(sql.LIST_WORKERS).all() as WorkerRow[]).map(toWorker);
  }

  async listTasks(): Promise<TaskRecord[]> {
    return this.read(tasks.listTasks);
  }

  // -- operating ----------------------------------------------------------------------------

  async getJob(id: string): Promise<Job | null> {
    return this.read((db) => jobs.getJob(db, id));
  }

  async listJobs(filter: JobFilter = {}): Promise<Job[]> {
    return this.read((db) => jobs.listJobs(db, filter));
  }

  async listAttempts(jobId: string): Promise<Attempt[]> {
    return this.read((db) => jobs.listAttempts(db, jobId));
  }

  async countJobs(): Promise<Record<JobState, number>> {
    return this.read(jobs.countJobs);
  }

  async cancelJob(id: string, expectedVersion?: number): Promise<CancelResult> {
    return this.transact((tx) => jobs.cancelJob(tx, id, expectedVersion));
  }

  async retryJob(id: string, expectedVersion?: number): Promise<Job> {
    return this.transact((tx) => jobs.retryJob(tx, id, expectedVersion));
  }

  async retryDeadJobs(filter: { queue?: string; task?: string; limit?: number }): Promise<number> {
    return this.transact((tx) => jobs.retryDeadJobs(tx, filter));
  }

  async discardJob(id: string, expectedVersion?: number): Promise<void> {
    this.transact((tx) => jobs.discardJob(tx, id, expectedVersion));
  }

  async setQueuePaused(name: string, paused: boolean, expectedVersion?: number): Promise<QueueRecord> {
    await this.transact((tx) => queues.setQueuePaused(tx, name, paused, expectedVersion));
    return this.read((db) => queues.queueAfterWrite(db, name, paused));
  }

  async listQueues(): Promise<QueueRecord[]> {
    return this.read(queues.listQueues);
  }

  // -- tokens -------------------------------------------------------------------------------

  async createToken(token: NewToken): Promise<TokenRecord> {
    return this.transact((tx) => tokens.createToken(tx, token));
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | null> {
    return this.read((db) => tokens.findTokenByHash(db, hash));
  }

  async listTokens(): Promise<TokenRecord[]> {
    return this.read(tokens.listTokens);
  }

  async revokeToken(name: string): Promise<TokenRecord> {
    return this.transact((tx) => tokens.revokeToken(tx, name));
  }

  // -- events -------------------------------------------------------------------------------

  async appendEvents(events: readonly NewEvent[]): Promise<number[]> {
    for (const e of events) assertEventKind(e.kind);
    return this.conn.write(() => {
      const now = this.conn.clock();
      return events.map((e) =>
        this.conn.event(now, e.kind, e.jobId ?? null, e.workerId ?? null, e.data ?? {}, e.runId ?? null),
      );
    });
  }

  async readEvents(query: EventQuery = {}): Promise<OverseerEvent[]> {
    return this.read((db) => events.readEvents(db, query));
  }

  async lastEventSeq(): Promise<number> {
    return this.read(events.lastEventSeq);
  }

  async getCursor(name: string): Promise<number | null> {
    return this.read((db) => events.getCursor(db, name));
  }

  async saveCursor(name: string, seq: number): Promise<void> {
    this.transact((tx) => events.saveCursor(tx, name, seq));
  }

  // -- schedules ----------------------------------------------------------------------------

  async syncSchedules(defs: readonly ScheduleDefinition[]): Promise<SyncSchedulesResult> {
    return this.transact((tx) => schedules.syncSchedules(tx, defs));
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return this.read(schedules.listSchedules);
  }

  async setScheduleEnabled(name: string, enabled: boolean): Promise<ScheduleRecord> {
    return this.transact((tx) => schedules.setScheduleEnabled(tx, name, enabled));
  }

  async fireScheduleTick(name: string, tickMs: number, job: NewJob): Promise<FireTickResult> {
    return this.transact((tx) => schedules.fireScheduleTick(tx, this.enqueueIn(tx), name, tickMs, job));
  }

  async runScheduleNow(name: string, job: NewJob): Promise<Job> {
    return this.transact((tx) => schedules.runScheduleNow(tx, this.enqueueIn(tx), name, job));
  }

  /** The hot path's insert (insert-job.ts), as a step of an operation in the open transaction `tx`. */
  private enqueueIn(tx: Tx): schedules.EnqueueJob {
    return (job) => answer(this.insertJob(job, tx.at));
  }

  // -- durable handlers ---------------------------------------------------------------------

  async listJobSteps(jobId: string): Promise<StepRecord[]> {
    return this.read((db) => durable.listJobSteps(db, jobId));
  }

  async recordStep(
    lease: Lease,
    step: { name: string; kind: StepKind; resultJson: string },
  ): Promise<StepRecord | null> {
    return this.transact((tx) => durable.recordStep(tx, lease, step));
  }

  async sleepJob(
    lease: Lease,
    sleep: { step: string; delayMs?: number; until?: number },
  ): Promise<{ parked: boolean; until: string } | null> {
    return this.transact((tx) => durable.sleepJob(tx, lease, sleep));
  }

  async waitForSignal(
    lease: Lease,
    wait: { step: string; name: string; match: Record<string, unknown> | null; timeoutMs: number },
  ): Promise<{ kind: "done"; step: StepRecord } | { kind: "parked"; until: string } | null> {
    return this.transact((tx) => durable.waitForSignal(tx, lease, wait));
  }

  async postSignal(signal: NewSignal): Promise<{ signal: SignalRecord; deliveredTo: string | null }> {
    return this.transact((tx) => durable.postSignal(tx, signal));
  }

  // -- approvals ----------------------------------------------------------------------------

  async requestApproval(
    lease: Lease,
    request: NewApproval,
  ): Promise<{ kind: "settled"; step: StepRecord } | { kind: "parked"; approval: Approval } | null> {
    return this.transact((tx) => approvals.requestApproval(tx, lease, request));
  }

  async decideApproval(
    id: string,
    decision: { decision: "approve" | "deny"; reason: string | null; channel: DecisionChannel },
    decider: Decider,
    expectedVersion?: number,
  ): Promise<Approval> {
    return this.transact((tx) => approvals.decideApproval(tx, id, decision, decider, expectedVersion));
  }

  async expireApprovals(limit = 100): Promise<Approval[]> {
    if (!this.read(approvals.anyApprovalDue)) return [];
    return this.transact((tx) => approvals.expireApprovals(tx, limit));
  }

  async nextApprovalExpiry(): Promise<number | null> {
    return this.read(approvals.nextApprovalExpiry);
  }

  async getApproval(id: string): Promise<Approval | null> {
    return this.read((db) => approvals.getApproval(db, id));
  }

  async listApprovals(filter: ApprovalFilter = {}): Promise<Approval[]> {
    return this.read((db) => approvals.listApprovals(db, filter));
  }

  // -- runs ---------------------------------------------------------------------------------

  async createRun(run: NewRun): Promise<Run> {
    return this.transact((tx) => runs.createRun(tx, run));
  }

  async getRun(id: string): Promise<Run | null> {
    return this.read((db) => runs.getRun(db, id));
  }

  async listRuns(filter: RunFilter = {}): Promise<Run[]> {
    return this.read((db) => runs.listRuns(db, filter));
  }

  async countRuns(): Promise<Record<RunState, number>> {
    return this.read(runs.countRuns);
  }

  async controlRun(id: string, request: RunControlRequest): Promise<{ run: Run; transition: RunTransitionName }> {
    return this.transact((tx) => runs.controlRun(tx, id, request));
  }

  async claimRun(workerId: string, leaseMs: number): Promise<ClaimedRun | null> {
    // A read first: supervisors look often, and most looks find nothing; only a find takes the write lock.
    if (!this.read(runs.anyRunClaimable)) return null;
    return this.transact((tx) => runs.claimRun(tx, workerId, leaseMs));
  }

  async heartbeatRun(lease: RunLease, leaseMs: number): Promise<Run | null> {
    return this.transact((tx) => runs.heartbeatRun(tx, lease, leaseMs));
  }

  async updateRun(lease: RunLease, update: RunUpdate): Promise<Run | null> {
    return this.transact((tx) => runs.updateRun(tx, lease, update));
  }

  async releaseRun(lease: RunLease): Promise<void> {
    this.transact((tx) => runs.releaseRun(tx, lease));
  }

  async listRunTurns(runId: string): Promise<RunTurn[]> {
    return this.read((db) => runs.listRunTurns(db, runId));
  }

  async readRunOutput(
    runId: string,
    turn: number,
    start: number,
    end?: number,
  ): Promise<{ data: Buffer; size: number } | null> {
    return this.read((db) => runs.readRunOutput(db, runId, turn, start, end));
  }

  // -- claims -------------------------------------------------------------------------------

  async takeClaim(key: string, owner: string, ttlMs: number): Promise<TakeClaimResult> {
    return this.transact((tx) => claims.takeClaim(tx, key, owner, ttlMs));
  }

  async refreshClaim(key: string, owner: string, ttlMs: number): Promise<Claim> {
    return this.transact((tx) => claims.refreshClaim(tx, key, owner, ttlMs));
  }

  async releaseClaim(key: string, owner: string): Promise<Claim> {
    return this.transact((tx) => claims.releaseClaim(tx, key, owner));
  }

  async getClaim(key: string): Promise<Claim | null> {
    return this.read((db) => claims.getClaim(db, key));
  }

  async listClaims(): Promise<Claim[]> {
    return this.read(claims.listClaims);
  }

  // -- alerts -------------------------------------------------------------------------------

  async raiseAlert(alert: NewAlert): Promise<RaiseAlertResult> {
    return this.transact((tx) => alerts.raiseAlert(tx, alert));
  }

  async getAlert(id: string): Promise<Alert | null> {
    return this.read((db) => alerts.getAlert(db, id));
  }

  async listAlerts(filter: AlertFilter = {}): Promise<Alert[]> {
    return this.read((db) => alerts.listAlerts(db, filter));
  }

  async acknowledgeAlert(id: string, by: string, expectedVersion?: number): Promise<Alert> {
    return this.transact((tx) => alerts.acknowledgeAlert(tx, id, by, expectedVersion));
  }

  async closeAlert(id: string, by: string, reason: string | null = null, expectedVersion?: number): Promise<Alert> {
    return this.transact((tx) => alerts.closeAlert(tx, id, by, reason, expectedVersion));
  }

  async escalateAlertNow(id: string, by: string, expectedVersion?: number): Promise<AlertEscalation> {
    return this.transact((tx) => alerts.escalateAlertNow(tx, id, by, expectedVersion));
  }

  async claimDueEscalations(limit = 100): Promise<AlertEscalation[]> {
    if (!this.read(alerts.anyEscalationDue)) return [];
    return this.transact((tx) => alerts.claimDueEscalations(tx, limit));
  }

  async recordNotification(
    id: number,
    status: "sent" | "failed",
    error?: string | null,
    receipt?: NotificationReceipt | null,
  ): Promise<AlertNotification> {
    return this.transact((tx) => alerts.recordNotification(tx, id, status, error, receipt));
  }

  async nextEscalationAt(): Promise<number | null> {
    return this.read(alerts.nextEscalationAt);
  }

  async listAlertNotifications(alertId: string): Promise<AlertNotification[]> {
    return this.read((db) => alerts.listAlertNotifications(db, alertId));
  }

  async listPlannedNotifications(limit: number): Promise<AlertNotification[]> {
    return this.read((db) => alerts.listPlannedNotifications(db, limit));
  }

  // -- heartbeats ---------------------------------------------------------------------------

  async syncHeartbeats(defs: readonly HeartbeatDefinition[]): Promise<SyncHeartbeatsResult> {
    return this.transact((tx) => heartbeats.syncHeartbeats(tx, defs));
  }

  async pingHeartbeat(name: string): Promise<PingHeartbeatResult> {
    return this.transact((tx) => heartbeats.pingHeartbeat(tx, name));
  }

  async checkHeartbeats(limit = 100): Promise<LateHeartbeat[]> {
    if (!this.read(heartbeats.anyHeartbeatDue)) return [];
    return this.transact((tx) => heartbeats.checkHeartbeats(tx, limit));
  }

  async nextHeartbeatDue(): Promise<number | null> {
    return this.read(heartbeats.nextHeartbeatDue);
  }

  async listHeartbeats(): Promise<Heartbeat[]> {
    return this.read(heartbeats.listHeartbeats);
  }

  // -- retention ----------------------------------------------------------------------------

  async prune(policy: RetentionPolicy, options: PruneOptions = {}): Promise<PruneResult> {
    return prune({ read: (body) => this.read(body), transact: (body) => this.transact(body) }, policy, options);
  }

  // -- plumbing -----------------------------------------------------------------------------

  private claimed(jobs: ClaimedJob[]): ClaimedJob[] {
    this.lastClaimFoundWork = jobs.length > 0;
    return jobs;
  }
}
