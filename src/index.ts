/** Overseer's public API. Anything not exported here is internal and may change. */

// Config files (loadConfig, parseConfig) are at "overseer/config": their validators are loaded only by those who use them.
export type { OverseerConfig, ScheduleConfig } from "./config/config.js";
export { ERROR_CODES, type ErrorCode, isOverseerError, OverseerError, PermanentError } from "./core/errors.js";
export { defineEventKind } from "./core/events.js";
export type { BackoffOption, EnqueueOptions, PriorityName, TaskDefaults } from "./core/job-options.js";
export { PRIORITY_NAMES } from "./core/job-options.js";
export type { Logger } from "./core/logger.js";
export { dueTicks, nextTick } from "./core/schedule.js";
export { type AbortReason, defineTask, type JobContext, type TaskDefinition, type TaskHandler } from "./core/task.js";
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
export type { Scheduler, SchedulerOptions } from "./engine/scheduler.js";
export type { Worker, WorkerOptions } from "./engine/worker.js";
export {
  createOverseer,
  type EnqueueItem,
  Overseer,
  type OverseerOptions,
  type SchedulerSetup,
  type VersionCheck,
} from "./sdk/overseer.js";
export type {
  JobFilter,
  PgTransactionHandle,
  RetentionPolicy,
  SqliteTransactionHandle,
  Store,
  StoreCapabilities,
  TransactionHandle,
} from "./store/store.js";
