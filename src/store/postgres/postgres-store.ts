/**
 * The shared backend: PostgreSQL, for several nodes working one set of queues. Every write is
 * one READ COMMITTED transaction (a method that returns has committed); claims lock their rows
 * with SKIP LOCKED, so claimers on any number of nodes never wait for or take each other's jobs.
 * Times come from the database's clock, read once per transaction, unless a clock is injected.
 * Wakeups reach every node through LISTEN/NOTIFY.
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
import { answer, type Db, type Op, runAsync, type Tx as StoreTx } from "../tx.js";
import { ChangeListener } from "./change-listener.js";
import { canMatch, claimInTransaction, openClaim, startHeld } from "./claim.js";
import { LOCK, MANY_ROWS, PgConnection, type PgConnectionOptions, type Tx } from "./connection.js";
import { finishInTransaction, recoverExpiredInTransaction } from "./finish.js";
import { assertPgHandle, enqueueWithin } from "./foreign-transaction.js";
import { insertAtOnceScript, insertedAtOnce, insertJob, insertManyAtOnce, insertsAtOnce } from "./insert-job.js";
import { MIGRATIONS } from "./migrations/index.js";
import { PgDb, PgTx } from "./pg-tx.js";
import * as sql from "./statements.js";

export type PostgresStoreOptions = PgConnectionOptions;

export class PostgresStore implements Store {
  private readonly changes: ChangeListener;
  /**
   * Whether the next claim may skip its readiness read: while claims keep finding work (a
   * backlog draining), or just after a wakeup (new work is likely), it would only cost a round trip.
   */
  private workLikely = false;

  private readonly db: PgDb;

  private constructor(private readonly conn: PgConnection) {
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
   * it made work ready (others by its NOTIFY). `pgTx` is the same transaction, for a step of the
   * hot path (kept per backend) inside the operation.
   */
  private async transact<T>(body: (tx: StoreTx, pgTx: Tx) => Op<T>): Promise<T> {
    let woke = false;
    const result = await this.conn.write(async (pgTx) => {
      const tx = new PgTx(pgTx);
      const out = await runAsync(body(tx, pgTx));
      woke = tx.notified;
      return out;
    });
    if (woke) this.changes.notify();
    return result;
  }

  /** Runs a store operation that only reads. */
  private read<T>(body: (db: Db) => Op<T>): Promise<T> {
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

  /** Jobs that need nothing read first (see `insertsAtOnce`): a few in one round trip. */
  private async insertAtOnce(jobs: readonly NewJob[]): Promise<EnqueueResult[]> {
    if (jobs.length > MANY_ROWS) {
      return this.writeAndWake(
        (tx) => insertManyAtOnce(tx, jobs),
        () => true,
      );
    }
    const [inserted] = await this.conn.script((nowSql) => insertAtOnceScript(jobs, nowSql));
    const now = (inserted?.rows[0] as { created_at: number } | undefined)?.created_at;
    if (now === undefined) throw new Error("the insert returned no rows");
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
    const claimed = await this.conn.write((tx) => claimInTransaction(tx, req), openClaim(req));
    this.workLikely = claimed.length > 0;
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
        requeued = anyRequeued(results, applied);
        const claimed = canMatch(req) ? await claimInTransaction(tx, req) : [];
        return { applied, claimed };
      },
      canMatch(req) ? openClaim(req) : undefined,
    );
    this.workLikely = out.claimed.length > 0;
    if (requeued) this.changes.notify();
    return out;
  }

  async nextScheduledAt(): Promise<number | null> {
    return this.read(jobs.nextScheduledAt);
  }

  async heartbeat(workerId: string, leases: readonly Lease[], leaseMs: number): Promise<HeartbeatResult> {
    return this.conn.write(async (tx) => {
      const result: HeartbeatResult = { extended: [], lost: [], cancelRequested: [] };
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
      await tx.run(sql.WORKER_HEARTBEAT, [tx.now, workerId]);
      return result;
    });
  }

  async recordProgress(lease: Lease, progressJson: string): Promise<boolean> {
    return this.transact((tx) => jobs.recordProgress(tx, lease, progressJson));
  }

  async finish(results: readonly AttemptResult[]): Promise<boolean[]> {
    if (results.length === 0) return [];
    const applied = await this.conn.write((tx) => finishInTransaction(tx, results));
    if (anyRequeued(results, applied)) this.changes.notify();
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

  // -- workers ------------------------------------------------------------------------------

  async registerWorker(w: WorkerRegistration): Promise<void> {
    await this.transact((tx) => tasks.registerWorker(tx, w));
  }

  async setWorkerStatus(workerId: string, status: "stopping" | "stopped"): Promise<void> {
    await this.conn.write(async (tx) => {
      await tx.run(sql.SET_WORKER_STATUS, [status, tx.now, workerId]);
      if (status === "stopped") tx.event("worker.stopped", null, workerId, {});
    });
  }

  async markLostWorkers(staleMs: number): Promise<string[]> {
    const cutoff = (await this.conn.now()) - staleMs;
    if (!(await this.conn.one<{ stale: boolean }>(sql.ANY_STALE_WORKER, [cutoff]))?.stale) return [];
    return this.conn.write(async (tx) => {
      const rows = await tx.rows<{ id: string }>(sql.MARK_LOST_WORKERS, [tx.now - staleMs]);
      for (const { id } of rows) tx.event("worker.lost", null, id, { staleMs });
      return rows.map((r) => r.id);
    });
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return (await this.conn.rows<WorkerRow>(sql.LIST_WORKERS)).map(toWorker);
  }

  async listTasks(): Promise<TaskRecord[]> {
    return this.read(tasks.listTasks);
  }

  // -- operating ----------------------------------------------------------------------------

  getJob(id: string): Promise<Job | null> {
    return this.read((db) => jobs.getJob(db, id));
  }

  listJobs(filter: JobFilter = {}): Promise<Job[]> {
    return this.read((db) => jobs.listJobs(db, filter));
  }

  listAttempts(jobId: string): Promise<Attempt[]> {
    return this.read((db) => jobs.listAttempts(db, jobId));
  }

  countJobs(): Promise<Record<JobState, number>> {
    return this.read(jobs.countJobs);
  }

  cancelJob(id: string, expectedVersion?: number): Promise<CancelResult> {
    return this.transact((tx) => jobs.cancelJob(tx, id, expectedVersion));
  }

  retryJob(id: string, expectedVersion?: number): Promise<Job> {
    return this.transact((tx) => jobs.retryJob(tx, id, expectedVersion));
  }

  retryDeadJobs(filter: { queue?: string; task?: string; limit?: number }): Promise<number> {
    return this.transact((tx) => jobs.retryDeadJobs(tx, filter));
  }

  discardJob(id: string, expectedVersion?: number): Promise<void> {
    return this.transact((tx) => jobs.discardJob(tx, id, expectedVersion));
  }

  async setQueuePaused(name: string, paused: boolean, expectedVersion?: number): Promise<QueueRecord> {
    await this.transact((tx) => queues.setQueuePaused(tx, name, paused, expectedVersion));
    return this.read((db) => queues.queueAfterWrite(db, name, paused));
  }

  async listQueues(): Promise<QueueRecord[]> {
    return this.read(queues.listQueues);
  }

  // -- tokens -------------------------------------------------------------------------------

  createToken(token: NewToken): Promise<TokenRecord> {
    return this.transact((tx) => tokens.createToken(tx, token));
  }

  findTokenByHash(hash: string): Promise<TokenRecord | null> {
    return this.read((db) => tokens.findTokenByHash(db, hash));
  }

  listTokens(): Promise<TokenRecord[]> {
    return this.read(tokens.listTokens);
  }

  revokeToken(name: string): Promise<TokenRecord> {
    return this.transact((tx) => tokens.revokeToken(tx, name));
  }

  // -- events -------------------------------------------------------------------------------

  async appendEvents(events: readonly NewEvent[]): Promise<number[]> {
    for (const e of events) assertEventKind(e.kind);
    return this.conn.write(async (tx) => {
      for (const e of events) tx.event(e.kind, e.jobId ?? null, e.workerId ?? null, e.data ?? {}, e.runId ?? null);
      return tx.flushEvents();
    });
  }

  readEvents(query: EventQuery = {}): Promise<OverseerEvent[]> {
    return this.read((db) => events.readEvents(db, query));
  }

  lastEventSeq(): Promise<number> {
    return this.read(events.lastEventSeq);
  }

  getCursor(name: string): Promise<number | null> {
    return this.read((db) => events.getCursor(db, name));
  }

  saveCursor(name: string, seq: number): Promise<void> {
    return this.transact((tx) => events.saveCursor(tx, name, seq));
  }

  // -- schedules ----------------------------------------------------------------------------

  syncSchedules(defs: readonly ScheduleDefinition[]): Promise<SyncSchedulesResult> {
    return this.transact((tx) => schedules.syncSchedules(tx, defs));
  }

  listSchedules(): Promise<ScheduleRecord[]> {
    return this.read(schedules.listSchedules);
  }

  setScheduleEnabled(name: string, enabled: boolean): Promise<ScheduleRecord> {
    return this.transact((tx) => schedules.setScheduleEnabled(tx, name, enabled));
  }

  fireScheduleTick(name: string, tickMs: number, job: NewJob): Promise<FireTickResult> {
    return this.transact((tx, pgTx) => schedules.fireScheduleTick(tx, this.enqueueIn(pgTx), name, tickMs, job));
  }

  runScheduleNow(name: string, job: NewJob): Promise<Job> {
    return this.transact((tx, pgTx) => schedules.runScheduleNow(tx, this.enqueueIn(pgTx), name, job));
  }

  /** The hot path's insert (insert-job.ts), as a step of an operation running in `pgTx`. */
  private enqueueIn(pgTx: Tx): schedules.EnqueueJob {
    return (job) => answer(this.insertJob(pgTx, job));
  }

  // -- durable handlers ---------------------------------------------------------------------

  listJobSteps(jobId: string): Promise<StepRecord[]> {
    return this.read((db) => durable.listJobSteps(db, jobId));
  }

  recordStep(lease: Lease, step: { name: string; kind: StepKind; resultJson: string }): Promise<StepRecord | null> {
    return this.transact((tx) => durable.recordStep(tx, lease, step));
  }

  sleepJob(
    lease: Lease,
    sleep: { step: string; delayMs?: number; until?: number },
  ): Promise<{ parked: boolean; until: string } | null> {
    return this.transact((tx) => durable.sleepJob(tx, lease, sleep));
  }

  waitForSignal(
    lease: Lease,
    wait: { step: string; name: string; match: Record<string, unknown> | null; timeoutMs: number },
  ): Promise<{ kind: "done"; step: StepRecord } | { kind: "parked"; until: string } | null> {
    return this.transact((tx) => durable.waitForSignal(tx, lease, wait));
  }

  postSignal(signal: NewSignal): Promise<{ signal: SignalRecord; deliveredTo: string | null }> {
    return this.transact((tx) => durable.postSignal(tx, signal));
  }

  // -- approvals ----------------------------------------------------------------------------

  requestApproval(
    lease: Lease,
    request: NewApproval,
  ): Promise<{ kind: "settled"; step: StepRecord } | { kind: "parked"; approval: Approval } | null> {
    return this.transact((tx) => approvals.requestApproval(tx, lease, request));
  }

  decideApproval(
    id: string,
    decision: { decision: "approve" | "deny"; reason: string | null; channel: DecisionChannel },
    decider: Decider,
    expectedVersion?: number,
  ): Promise<Approval> {
    return this.transact((tx) => approvals.decideApproval(tx, id, decision, decider, expectedVersion));
  }

  async expireApprovals(limit = 100): Promise<Approval[]> {
    if (!(await this.read(approvals.anyApprovalDue))) return [];
    return this.transact((tx) => approvals.expireApprovals(tx, limit));
  }

  nextApprovalExpiry(): Promise<number | null> {
    return this.read(approvals.nextApprovalExpiry);
  }

  getApproval(id: string): Promise<Approval | null> {
    return this.read((db) => approvals.getApproval(db, id));
  }

  listApprovals(filter: ApprovalFilter = {}): Promise<Approval[]> {
    return this.read((db) => approvals.listApprovals(db, filter));
  }

  // -- runs ---------------------------------------------------------------------------------

  /** Wakes supervisors on every node (NOTIFY), so one claims the run at once. */
  createRun(run: NewRun): Promise<Run> {
    return this.transact((tx) => runs.createRun(tx, run));
  }

  getRun(id: string): Promise<Run | null> {
    return this.read((db) => runs.getRun(db, id));
  }

  listRuns(filter: RunFilter = {}): Promise<Run[]> {
    return this.read((db) => runs.listRuns(db, filter));
  }

  countRuns(): Promise<Record<RunState, number>> {
    return this.read(runs.countRuns);
  }

  /** Wakes every node: the run's supervisor may be on another one. */
  controlRun(id: string, request: RunControlRequest): Promise<{ run: Run; transition: RunTransitionName }> {
    return this.transact((tx) => runs.controlRun(tx, id, request));
  }

  /** No read first, unlike SQLite: a claim here locks one row, never the whole store. */
  claimRun(workerId: string, leaseMs: number): Promise<ClaimedRun | null> {
    return this.transact((tx) => runs.claimRun(tx, workerId, leaseMs));
  }

  heartbeatRun(lease: RunLease, leaseMs: number): Promise<Run | null> {
    return this.transact((tx) => runs.heartbeatRun(tx, lease, leaseMs));
  }

  updateRun(lease: RunLease, update: RunUpdate): Promise<Run | null> {
    return this.transact((tx) => runs.updateRun(tx, lease, update));
  }

  /** Wakes every node, so another supervisor may claim the run at once. */
  async releaseRun(lease: RunLease): Promise<void> {
    await this.transact((tx) => runs.releaseRun(tx, lease));
  }

  listRunTurns(runId: string): Promise<RunTurn[]> {
    return this.read((db) => runs.listRunTurns(db, runId));
  }

  readRunOutput(
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

  raiseAlert(alert: NewAlert): Promise<RaiseAlertResult> {
    return this.transact((tx) => alerts.raiseAlert(tx, alert));
  }

  getAlert(id: string): Promise<Alert | null> {
    return this.read((db) => alerts.getAlert(db, id));
  }

  listAlerts(filter: AlertFilter = {}): Promise<Alert[]> {
    return this.read((db) => alerts.listAlerts(db, filter));
  }

  acknowledgeAlert(id: string, by: string, expectedVersion?: number): Promise<Alert> {
    return this.transact((tx) => alerts.acknowledgeAlert(tx, id, by, expectedVersion));
  }

  closeAlert(id: string, by: string, reason: string | null = null, expectedVersion?: number): Promise<Alert> {
    return this.transact((tx) => alerts.closeAlert(tx, id, by, reason, expectedVersion));
  }

  escalateAlertNow(id: string, by: string, expectedVersion?: number): Promise<AlertEscalation> {
    return this.transact((tx) => alerts.escalateAlertNow(tx, id, by, expectedVersion));
  }

  async claimDueEscalations(limit = 100): Promise<AlertEscalation[]> {
    if (!(await this.read(alerts.anyEscalationDue))) return [];
    return this.transact((tx) => alerts.claimDueEscalations(tx, limit));
  }

  recordNotification(
    id: number,
    status: "sent" | "failed",
    error?: string | null,
    receipt?: NotificationReceipt | null,
  ): Promise<AlertNotification> {
    return this.transact((tx) => alerts.recordNotification(tx, id, status, error, receipt));
  }

  nextEscalationAt(): Promise<number | null> {
    return this.read(alerts.nextEscalationAt);
  }

  listAlertNotifications(alertId: string): Promise<AlertNotification[]> {
    return this.read((db) => alerts.listAlertNotifications(db, alertId));
  }

  listPlannedNotifications(limit: number): Promise<AlertNotification[]> {
    return this.read((db) => alerts.listPlannedNotifications(db, limit));
  }

  // -- heartbeats ---------------------------------------------------------------------------

  syncHeartbeats(defs: readonly HeartbeatDefinition[]): Promise<SyncHeartbeatsResult> {
    return this.transact((tx) => heartbeats.syncHeartbeats(tx, defs));
  }

  pingHeartbeat(name: string): Promise<PingHeartbeatResult> {
    return this.transact((tx) => heartbeats.pingHeartbeat(tx, name));
  }

  async checkHeartbeats(limit = 100): Promise<LateHeartbeat[]> {
    if (!(await this.read(heartbeats.anyHeartbeatDue))) return [];
    return this.transact((tx) => heartbeats.checkHeartbeats(tx, limit));
  }

  nextHeartbeatDue(): Promise<number | null> {
    return this.read(heartbeats.nextHeartbeatDue);
  }

  listHeartbeats(): Promise<Heartbeat[]> {
    return this.read(heartbeats.listHeartbeats);
  }

  // -- retention ----------------------------------------------------------------------------

  async prune(policy: RetentionPolicy, options: PruneOptions = {}): Promise<PruneResult> {
    return prune({ read: (body) => this.read(body), transact: (body) => this.transact(body) }, policy, options);
  }
}

/** Whether a recorded outcome sent a job back to wait (a retry, or a release at shutdown), so workers should look again. */
function anyRequeued(results: readonly AttemptResult[], applied: readonly boolean[]): boolean {
  return results.some((r, i) => applied[i] && (r.outcome === "retry" || r.outcome === "released"));
}
