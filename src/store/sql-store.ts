/**
 * The store's verbs written once, over the two things each backend gives: a write transaction
 * (`transact`) and a read (`read`), in which the operations of each area (./<area>/operations.ts)
 * run. A backend extends it with its driver, its migrations, its hot path (enqueue, claim,
 * finish, leases), its wakeups, and an override only where its driver is better served another
 * way (SQLite reads before it takes the file's one write lock, for instance).
 */
import type { Alert, AlertNotification, NewAlert, NotificationReceipt } from "../core/alert.js";
import type { Approval, Decider, DecisionChannel, NewApproval } from "../core/approval.js";
import type { BreakerTrip } from "../core/breaker.js";
import type { Claim, ClaimHolder, TakeClaimResult } from "../core/claim.js";
import type { NewSignal, SignalRecord, StepKind, StepRecord } from "../core/durable.js";
import {
  checkExecutionChange,
  DEFAULT_EXECUTION,
  type ExecutionChange,
  type ExecutionMode,
  type ExecutionSwitch,
} from "../core/execution.js";
import type { Heartbeat, HeartbeatDefinition } from "../core/heartbeat.js";
import type { NewJob, TaskDefaults } from "../core/job-options.js";
import type { JobRollupRow } from "../core/job-rollup.js";
import type { TaskRecord } from "../core/known-tasks.js";
import type { Lesson, LessonFilter, NewLesson, ParsedSimilarQuery, SimilarLesson } from "../core/lesson.js";
import type { NewOncallOverride, OncallOverride } from "../core/oncall.js";
import type {
  ClaimedRun,
  NewRun,
  Run,
  RunControlRequest,
  RunFilter,
  RunLease,
  RunMessage,
  RunTurn,
  RunUpdate,
} from "../core/run.js";
import type { RunState, RunTransitionName } from "../core/run-state.js";
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
  WorkerCommand,
  WorkerJob,
  WorkerRecord,
} from "../core/types.js";
import * as alerts from "./alerts/operations.js";
import * as approvals from "./approvals/operations.js";
import * as claims from "./claims/operations.js";
import * as concurrency from "./concurrency/operations.js";
import * as durable from "./durable/operations.js";
import * as events from "./events/operations.js";
import * as heartbeats from "./heartbeats/operations.js";
import { advanceFinishedMark } from "./jobs/finished-counts.js";
import * as jobs from "./jobs/operations.js";
import * as lessons from "./lessons/operations.js";
import * as oncall from "./oncall/operations.js";
import * as queues from "./queues/operations.js";
import { prune, type Runner } from "./retention/prune.js";
import * as rollups from "./rollups/operations.js";
import { rollUpJobs } from "./rollups/pass.js";
import * as runs from "./runs/operations.js";
import * as schedules from "./schedules/operations.js";
import * as settings from "./settings/operations.js";
import type {
  AlertEscalation,
  AlertFilter,
  ApprovalFilter,
  AttemptResult,
  BreakerPass,
  CancelResult,
  ClaimHistoryQuery,
  ClaimRequest,
  ConcurrencyKeyFilter,
  ConcurrencyKeyUsage,
  ConcurrencyTotals,
  DeadJobSummary,
  EnqueueResult,
  EventQuery,
  FinishedTimes,
  FireTickResult,
  HeartbeatResult,
  JobFilter,
  JobRollupQuery,
  JobRollupRead,
  LateHeartbeat,
  NewEvent,
  NewToken,
  PausedQueue,
  PingHeartbeatResult,
  PruneOptions,
  PruneResult,
  RaiseAlertResult,
  RetentionPolicy,
  RollUpResult,
  ScheduleRun,
  Store,
  SyncHeartbeatsResult,
  SyncSchedulesResult,
  TransactionHandle,
  WorkerCounts,
  WorkerRegistration,
} from "./store.js";
import * as tasks from "./tasks/operations.js";
import * as tokens from "./tokens/operations.js";
import type { Db, Op, Tx } from "./tx.js";
import * as workers from "./workers/operations.js";

/** How often a process moves the finished counts' mark forward, at most (see moveFinishedMark). */
const FINISHED_MARK_EVERY_MS = 10_000;

export abstract class SqlStore implements Store {
  /** Runs an operation as one write transaction; wakes workers if it called `tx.notify()`. */
  protected abstract transact<T>(body: (tx: Tx) => Op<T>): T | Promise<T>;

  /** Runs an operation that only reads. */
  protected abstract read<T>(body: (db: Db) => Op<T>): T | Promise<T>;

  abstract readonly remote: boolean;
  abstract migrate(): Promise<{ applied: string[] }>;
  abstract now(): Promise<number>;
  abstract close(): Promise<void>;
  abstract onChange(listener: () => void): () => void;
  abstract enqueue(job: NewJob): Promise<EnqueueResult>;
  abstract enqueueMany(jobs: readonly NewJob[]): Promise<EnqueueResult[]>;
  abstract enqueueWithin(handle: TransactionHandle, job: NewJob): EnqueueResult | Promise<EnqueueResult>;
  abstract claim(req: ClaimRequest): Promise<ClaimedJob[]>;
  abstract finishAndClaim(
    results: readonly AttemptResult[],
    req: ClaimRequest,
  ): Promise<{ applied: boolean[]; claimed: ClaimedJob[] }>;
  abstract heartbeat(
    workerId: string,
    leases: readonly Lease[],
    leaseMs: number,
    counts?: WorkerCounts,
  ): Promise<HeartbeatResult>;
  abstract startHeld(leases: readonly Lease[]): Promise<string[]>;
  abstract finish(results: readonly AttemptResult[]): Promise<boolean[]>;
  abstract recoverExpiredLeases(limit?: number): Promise<Job[]>;

  // -- working, off the hot path -----------------------------------------------------------

  async nextScheduledAt(): Promise<number | null> {
    return this.read(jobs.nextScheduledAt);
  }

  async recordProgress(lease: Lease, progressJson: string): Promise<boolean> {
    return this.transact((tx) => jobs.recordProgress(tx, lease, progressJson));
  }

  // -- workers ------------------------------------------------------------------------------

  async registerWorker(w: WorkerRegistration): Promise<void> {
    await this.transact((tx) => tasks.registerWorker(tx, w));
  }

  async setWorkerStatus(
    workerId: string,
    status: "active" | "quiet" | "stopping" | "stopped",
    released = 0,
  ): Promise<void> {
    await this.transact((tx) => workers.setWorkerStatus(tx, workerId, status, released));
  }

  async commandWorker(workerId: string, command: WorkerCommand, by: string): Promise<WorkerRecord> {
    return this.transact((tx) => workers.commandWorker(tx, workerId, command, by));
  }

  async getWorker(workerId: string): Promise<WorkerRecord | null> {
    return this.read((db) => workers.getWorker(db, workerId));
  }

  async listWorkerJobs(workerId: string | null): Promise<WorkerJob[]> {
    return this.read((db) => workers.listWorkerJobs(db, workerId));
  }

  async markLostWorkers(staleMs: number): Promise<string[]> {
    if (!(await this.read((db) => workers.anyStaleWorker(db, staleMs)))) return [];
    return this.transact((tx) => workers.markLostWorkers(tx, staleMs));
  }

  async listWorkers(): Promise<WorkerRecord[]> {
    return this.read(workers.listWorkers);
  }

  async busySlots(): Promise<Record<string, number>> {
    return this.read(workers.busySlots);
  }

  async taskDefaults(): Promise<Map<string, TaskDefaults>> {
    return this.read(tasks.taskDefaults);
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

  async countMatchingJobs(filter: JobFilter, cap: number): Promise<number> {
    return this.read((db) => jobs.countMatchingJobs(db, filter, cap));
  }

  async listAttempts(jobId: string): Promise<Attempt[]> {
    return this.read((db) => jobs.listAttempts(db, jobId));
  }

  async countJobs(): Promise<Record<JobState, number>> {
    await this.moveFinishedMark();
    return this.read(jobs.countJobs);
  }

  /** When this process last moved the finished counts' mark (performance.now()). */
  private finishedMarkMovedAt = Number.NEGATIVE_INFINITY;

  /**
   * Before a read that counts the finished jobs: moves the mark they are counted through forward
   * (see jobs/finished-counts.ts), at most every FINISHED_MARK_EVERY_MS in this process, so that
   * the count reads only the jobs finished in the last minute or so, however many are kept.
   */
  private async moveFinishedMark(): Promise<void> {
    const at = performance.now();
    if (at - this.finishedMarkMovedAt < FINISHED_MARK_EVERY_MS) return;
    this.finishedMarkMovedAt = at;
    try {
      await this.transact(advanceFinishedMark);
    } catch {
      // The counts are right wherever the mark stands (only slower to read the further behind it
      // is), so a read is not failed for it: a busy database or a read-only standby tries again
      // at the next read after FINISHED_MARK_EVERY_MS.
    }
  }

  async listFinishedTimes(since: number, limit: number): Promise<FinishedTimes[]> {
    return this.read((db) => jobs.listFinishedTimes(db, since, limit));
  }

  // -- rollups ------------------------------------------------------------------------------

  async rollUpJobs(graceMs?: number): Promise<RollUpResult> {
    return rollUpJobs(this.runner(), graceMs);
  }

  async writeJobRollups(rows: readonly JobRollupRow[]): Promise<void> {
    await this.transact((tx) => rollups.writeRows(tx, rows));
  }

  async readJobRollups(query: JobRollupQuery): Promise<JobRollupRead> {
    return this.read((db) => rollups.readRange(db, query));
  }

  async oldestJobRollup(): Promise<number | null> {
    return this.read(rollups.oldestMinute);
  }

  async summarizeDeadJobs(sample: number, cap: number): Promise<DeadJobSummary> {
    return this.read((db) => jobs.summarizeDeadJobs(db, sample, cap));
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
    await this.transact((tx) => jobs.discardJob(tx, id, expectedVersion));
  }

  async setQueuePaused(name: string, paused: boolean, expectedVersion?: number): Promise<QueueRecord> {
    await this.transact((tx) => queues.setQueuePaused(tx, name, paused, expectedVersion));
    return this.read((db) => queues.queueAfterWrite(db, name, paused));
  }

  async listQueues(): Promise<QueueRecord[]> {
    await this.moveFinishedMark();
    return this.read(queues.listQueues);
  }

  async listPausedQueues(): Promise<PausedQueue[]> {
    return this.read(queues.listPausedQueues);
  }

  async listConcurrencyKeys(filter: ConcurrencyKeyFilter): Promise<ConcurrencyKeyUsage[]> {
    return this.read((db) => concurrency.listConcurrencyKeys(db, filter));
  }

  async concurrencyTotals(): Promise<ConcurrencyTotals> {
    return this.read(concurrency.concurrencyTotals);
  }

  async tripBreaker(queue: string, trip: BreakerTrip, cooldownMs: number): Promise<boolean> {
    return this.transact((tx) => queues.tripBreaker(tx, queue, trip, cooldownMs));
  }

  async breakerPass(
    queue: string,
    cooldownMs: number,
    divert: ((job: Job) => NewJob) | null,
    limit = 100,
  ): Promise<BreakerPass> {
    if (!(await this.read((db) => queues.breakerNotClosed(db, queue)))) return { state: "closed", diverted: 0 };
    return this.transact((tx) => queues.breakerPass(tx, this.enqueueIn(tx), queue, cooldownMs, divert, limit));
  }

  async resetBreaker(queue: string, by: string): Promise<QueueRecord> {
    await this.transact((tx) => queues.resetBreaker(tx, queue, by));
    const record = (await this.listQueues()).find((q) => q.name === queue);
    return record as QueueRecord;
  }

  // -- tokens -------------------------------------------------------------------------------

  async createToken(token: NewToken): Promise<TokenRecord> {
    return this.transact((tx) => tokens.createToken(tx, token));
  }

  async seedToken(token: NewToken): Promise<TokenRecord> {
    return this.transact((tx) => tokens.seedToken(tx, token));
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

  /** Appends events in one transaction; their sequence numbers, in order. */
  abstract appendEvents(events: readonly NewEvent[]): Promise<number[]>;

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
    await this.transact((tx) => events.saveCursor(tx, name, seq));
  }

  // -- schedules ----------------------------------------------------------------------------

  async syncSchedules(defs: readonly ScheduleDefinition[]): Promise<SyncSchedulesResult> {
    return this.transact((tx) => schedules.syncSchedules(tx, defs));
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    return this.read(schedules.listSchedules);
  }

  async recentScheduleRuns(names: readonly string[], limit: number): Promise<Map<string, ScheduleRun[]>> {
    return this.read((db) => schedules.recentScheduleRuns(db, names, limit));
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

  /** The backend's own insert of a job (its hot path), as a step of an operation in the open transaction `tx`. */
  protected abstract enqueueIn(tx: Tx): schedules.EnqueueJob;

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
    if (!(await this.read(approvals.anyApprovalDue))) return [];
    return this.transact((tx) => approvals.expireApprovals(tx, limit));
  }

  async nextApprovalExpiry(): Promise<number | null> {
    return this.read(approvals.nextApprovalExpiry);
  }

  async getApproval(id: string): Promise<Approval | null> {
    return this.read((db) => approvals.getApproval(db, id));
  }

  async countPendingApprovals(): Promise<number> {
    return this.read(approvals.countPendingApprovals);
  }

  async countApprovals(filter: ApprovalFilter = {}): Promise<number> {
    return this.read((db) => approvals.countApprovals(db, filter));
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

  async countMatchingRuns(filter: RunFilter, cap: number): Promise<number> {
    return this.read((db) => runs.countMatchingRuns(db, filter, cap));
  }

  async countRuns(): Promise<Record<RunState, number>> {
    return this.read(runs.countRuns);
  }

  async controlRun(id: string, request: RunControlRequest): Promise<{ run: Run; transition: RunTransitionName }> {
    return this.transact((tx) => runs.controlRun(tx, id, request));
  }

  async claimRun(workerId: string, leaseMs: number): Promise<ClaimedRun | null> {
    return this.transact((tx) => runs.claimRun(tx, workerId, leaseMs));
  }

  async heartbeatRun(lease: RunLease, leaseMs: number): Promise<Run | null> {
    return this.transact((tx) => runs.heartbeatRun(tx, lease, leaseMs));
  }

  async updateRun(lease: RunLease, update: RunUpdate): Promise<Run | null> {
    return this.transact((tx) => runs.updateRun(tx, lease, update));
  }

  async releaseRun(lease: RunLease): Promise<void> {
    await this.transact((tx) => runs.releaseRun(tx, lease));
  }

  async sendRunMessage(message: {
    id: string;
    runId: string;
    body: string;
    sentBy: string | null;
  }): Promise<RunMessage> {
    return this.transact((tx) => runs.sendRunMessage(tx, message));
  }

  async listRunMessages(runId: string): Promise<RunMessage[]> {
    return this.read((db) => runs.listRunMessages(db, runId));
  }

  async waitingRunMessages(runId: string): Promise<RunMessage[]> {
    return this.read((db) => runs.waitingRunMessages(db, runId));
  }

  async listReruns(runId: string): Promise<string[]> {
    return this.read((db) => runs.listReruns(db, runId));
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

  async takeClaim(key: string, owner: string, ttlMs: number, holder?: ClaimHolder): Promise<TakeClaimResult> {
    return this.transact((tx) => claims.takeClaim(tx, key, owner, ttlMs, holder));
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

  async claimHistory(query: ClaimHistoryQuery = {}): Promise<OverseerEvent[]> {
    return this.read((db) => claims.claimHistory(db, query));
  }

  // -- settings -----------------------------------------------------------------------------

  async getExecution(): Promise<ExecutionSwitch | null> {
    return this.read(settings.getExecution);
  }

  async setExecution(change: ExecutionChange, unsetMode: ExecutionMode = DEFAULT_EXECUTION): Promise<ExecutionSwitch> {
    const checked = checkExecutionChange(change);
    return this.transact((tx) => settings.setExecution(tx, checked, unsetMode));
  }

  // -- on-call overrides --------------------------------------------------------------------

  async createOncallOverride(input: NewOncallOverride): Promise<OncallOverride> {
    return this.transact((tx) => oncall.createOverride(tx, input));
  }

  async cancelOncallOverride(id: number, by: string): Promise<OncallOverride> {
    return this.transact((tx) => oncall.cancelOverride(tx, id, by));
  }

  async currentOncallOverrides(rotations: readonly string[]): Promise<OncallOverride[]> {
    const now = await this.now();
    return this.read((db) => oncall.currentOverrides(db, rotations, now));
  }

  async listOncallOverrides(filter: {
    rotation?: string;
    beforeId?: number;
    limit: number;
  }): Promise<OncallOverride[]> {
    return this.read((db) => oncall.listOverrides(db, filter));
  }

  // -- lessons ------------------------------------------------------------------------------

  async recordLesson(lesson: NewLesson): Promise<Lesson> {
    return this.transact((tx) => lessons.recordLesson(tx, lesson));
  }

  async getLesson(id: string): Promise<Lesson | null> {
    return this.read((db) => lessons.getLesson(db, id));
  }

  async getLessonByKey(key: string): Promise<Lesson | null> {
    return this.read((db) => lessons.getLessonByKey(db, key));
  }

  async listLessons(filter: LessonFilter): Promise<Lesson[]> {
    return this.read((db) => lessons.listLessons(db, filter));
  }

  async deleteLesson(id: string): Promise<boolean> {
    return this.transact((tx) => lessons.deleteLesson(tx, id));
  }

  async similarLessons(query: ParsedSimilarQuery): Promise<SimilarLesson[]> {
    return this.read((db) => lessons.similarLessons(db, query));
  }

  async lessonsByEmbedding(
    query: ParsedSimilarQuery,
    vector: readonly number[],
    candidates: number,
  ): Promise<SimilarLesson[]> {
    return this.read((db) => lessons.lessonsByEmbedding(db, query, vector, candidates));
  }

  async lessonEmbeddingDimensions(): Promise<number | null> {
    return this.read(lessons.embeddingDimensions);
  }

  // -- alerts -------------------------------------------------------------------------------

  async raiseAlert(alert: NewAlert): Promise<RaiseAlertResult> {
    return this.transact((tx) => alerts.raiseAlert(tx, alert));
  }

  async getAlert(id: string): Promise<Alert | null> {
    return this.read((db) => alerts.getAlert(db, id));
  }

  async countOpenAlerts(): Promise<Record<"triggered" | "acknowledged", number>> {
    return this.read(alerts.countOpenAlerts);
  }

  async listAlerts(filter: AlertFilter = {}): Promise<Alert[]> {
    return this.read((db) => alerts.listAlerts(db, filter));
  }

  async alertEvents(id: string, limit: number): Promise<OverseerEvent[]> {
    return this.read((db) => alerts.alertEvents(db, id, limit));
  }

  async countAlerts(filter: AlertFilter = {}): Promise<number> {
    return this.read((db) => alerts.countAlerts(db, filter));
  }

  async acknowledgeAlert(id: string, by: string, expectedVersion?: number, note?: string | null): Promise<Alert> {
    return this.transact((tx) => alerts.acknowledgeAlert(tx, id, by, expectedVersion, note ?? null));
  }

  async closeAlert(id: string, by: string, reason: string | null = null, expectedVersion?: number): Promise<Alert> {
    return this.transact((tx) => alerts.closeAlert(tx, id, by, reason, expectedVersion));
  }

  async escalateAlertNow(id: string, by: string, expectedVersion?: number): Promise<AlertEscalation> {
    return this.transact((tx) => alerts.escalateAlertNow(tx, id, by, expectedVersion));
  }

  async claimDueEscalations(limit = 100): Promise<AlertEscalation[]> {
    if (!(await this.read(alerts.anyEscalationDue))) return [];
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

  async planFallback(id: number, target: string): Promise<AlertNotification | null> {
    return this.transact((tx) => alerts.planFallback(tx, id, target));
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
    if (!(await this.read(heartbeats.anyHeartbeatDue))) return [];
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
    return prune(this.runner(), policy, options);
  }

  /** The store's reads and write transactions, for the passes that run many of each (retention, rollups). */
  private runner(): Runner {
    return { read: (body) => this.read(body), transact: (body) => this.transact(body) };
  }
}
