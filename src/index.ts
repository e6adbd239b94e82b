/** Overseer's public API. Anything not exported here is internal and may change. */

// Config files (loadConfig, parseConfig) are at "overseer/config": their validators are loaded only by those who use them.
export {
  startTelegramDecisions,
  type TelegramDecisionOptions,
  type TelegramDecisionServices,
  type TelegramDecisions,
} from "./alerts/telegram-decisions.js";
export type { OverseerConfig, ScheduleConfig } from "./config/config.js";
export type { RunsConfig } from "./config/run-profiles.js";
export type {
  Approval,
  ApprovalDecision,
  ApprovalOutcome,
  ApprovalRequest,
  ApprovalState,
  OnTimeout,
  Risk,
} from "./core/approval.js";
export type { Claim, TakeClaimResult } from "./core/claim.js";
export type { SignalRecord, StepRecord } from "./core/durable.js";
export { ERROR_CODES, type ErrorCode, isOverseerError, OverseerError, PermanentError } from "./core/errors.js";
export { defineEventKind } from "./core/events.js";
export type { GateDecision, GatePolicy, GateRequest } from "./core/gate-policy.js";
export type { BackoffOption, EnqueueOptions, PriorityName, TaskDefaults } from "./core/job-options.js";
export { PRIORITY_NAMES } from "./core/job-options.js";
export {
  bucketEstimate,
  histogramPercentile,
  type JobRollupRow,
  LATENCY_BUCKETS,
  latencyBucket,
  type RollupCounts,
} from "./core/job-rollup.js";
export type { EnqueueWarning, TaskRecord } from "./core/known-tasks.js";
export type { Lesson, LessonFilter, LessonInput, LessonMatch, SimilarLesson, SimilarQuery } from "./core/lesson.js";
export type { Logger } from "./core/logger.js";
export type { RetryDecision, RetryPolicy } from "./core/retry-policy.js";
export type { Run, RunCompletion, RunError, RunSpec, RunStats, RunTurn } from "./core/run.js";
export type { RunControlAction, RunState } from "./core/run-state.js";
export { dueTicks, nextTick } from "./core/schedule.js";
export {
  type AbortReason,
  defineTask,
  type GateOptions,
  type GateResult,
  type JobContext,
  type TaskDefinition,
  type TaskHandler,
} from "./core/task.js";
export type {
  Attempt,
  AttemptOutcome,
  BackoffPolicy,
  Job,
  JobError,
  JobState,
  Lease,
  OverseerEvent,
  QueueRecord,
  ScheduleDefinition,
  ScheduleRecord,
  TokenRecord,
  TokenScope,
  WorkerRecord,
} from "./core/types.js";
export type { LessonEmbedder, Lessons, LessonsOptions, RecordedLesson, SimilarRequest } from "./engine/lessons.js";
export type { Prefetch } from "./engine/prefetch.js";
export type { RunSupervisor, RunSupervisorOptions } from "./engine/runs/run-supervisor.js";
export type { Scheduler, SchedulerOptions } from "./engine/scheduler.js";
export type { Worker, WorkerOptions } from "./engine/worker.js";
export { type NodeHttpOptions, type NodeOptions, type RunningNode, startNode } from "./sdk/node.js";
export {
  createOverseer,
  type EnqueueItem,
  type EnqueueOutcome,
  Overseer,
  type OverseerOptions,
  type SchedulerSetup,
  type StartRunRequest,
  type VersionCheck,
} from "./sdk/overseer.js";
export type {
  ConcurrencyKeyFilter,
  ConcurrencyKeyUsage,
  ConcurrencyTotals,
  EnqueueResult,
  FinishedTimes,
  JobFilter,
  JobRollupQuery,
  JobRollupRead,
  PgTransactionHandle,
  RetentionPolicy,
  RollUpResult,
  SqliteTransactionHandle,
  Store,
  TransactionHandle,
} from "./store/store.js";
