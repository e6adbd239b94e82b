/**
 * Every type the client speaks in, in one place: the records come from the core modules (as the
 * server serialises them), and the answers that wrap them are declared here once, after the
 * route schemas in src/http/routes. Type-only imports: nothing here reaches the bundle.
 */
import type { Alert, AlertNotification, EscalationPolicy } from "../core/alert.js";
import type { Approval } from "../core/approval.js";
import type { SignalRecord } from "../core/durable.js";
import type { Heartbeat } from "../core/heartbeat.js";
import type { EnqueueOptions } from "../core/job-options.js";
import type { EnqueueWarning } from "../core/known-tasks.js";
import type { RequeueDecision } from "../core/requeue-policy.js";
import type { RunCompletion, RunError, RunStats } from "../core/run.js";
import type { RunState } from "../core/run-state.js";
import type { Attempt, Job, JobState, OverseerEvent, QueueRecord, TokenScope, WorkerRecord } from "../core/types.js";

export type { Alert, AlertNotification, AlertSource, AlertStatus, EscalationPolicy } from "../core/alert.js";
export type { Approval, ApprovalState } from "../core/approval.js";
export type { Claim, TakeClaimResult } from "../core/claim.js";
export type { SignalRecord } from "../core/durable.js";
export type { Heartbeat } from "../core/heartbeat.js";
export type { EnqueueOptions } from "../core/job-options.js";
export type { EnqueueWarning } from "../core/known-tasks.js";
export type { RetryPreview } from "../core/retry-preview.js";
export type { Run, RunTurn } from "../core/run.js";
export type { RunControlAction, RunState } from "../core/run-state.js";
export type {
  Attempt,
  Job,
  JobState,
  OverseerEvent,
  QueueRecord,
  ScheduleRecord,
  TokenScope,
  WorkerRecord,
} from "../core/types.js";

/** One job to enqueue (`POST /jobs` takes one, or an array of up to 1,000 in one transaction). */
export interface EnqueueItem {
  task: string;
  payload?: unknown;
  options?: EnqueueOptions;
}

/** A job as an enqueue answers it: with whether its task is known, and the warnings if not. */
export type EnqueuedJob = Job & { taskRegistered: boolean; warnings: EnqueueWarning[] };

/** `GET /jobs/{id}`: the job, its attempts and its latest events. */
export interface JobDetail {
  job: Job;
  attempts: Attempt[];
  events: OverseerEvent[];
}

export interface CancelResult {
  job: Job;
  /** `cancelled` at once, or `requested` from the running handler. */
  effect: "cancelled" | "requested";
}

/** Which jobs a bulk operation (retry, cancel, discard) applies to, up to `limit` (1-1,000). */
export interface JobBulkFilter {
  state?: readonly JobState[];
  queue?: string;
  task?: string;
  q?: string;
  createdAfter?: string;
  createdBefore?: string;
  finishedAfter?: string;
  finishedBefore?: string;
  limit?: number;
}

export interface BulkResult {
  /** Jobs the filter matched (at most `limit`). */
  matched: number;
  changed: number;
  /** Jobs that changed while the operation ran, left as they were. */
  skipped: Array<{ id: string; code: string }>;
}

/** `POST /jobs/requeue-dead`: the re-queue policy's knobs (see docs/alerts.md). */
export interface RequeueDeadInput {
  maxRequeues?: number;
  maxAge?: string | number;
  max?: number;
  queue?: string;
  task?: string;
  dryRun?: boolean;
}

export interface RequeueDeadResult {
  dryRun: boolean;
  requeued: number;
  jobs: Array<RequeueDecision & { done: boolean }>;
}

export interface SignalResult {
  signal: SignalRecord;
  /** The job it woke, or null: kept for a later wait. */
  deliveredTo: string | null;
}

/** A queue with the age of its oldest waiting job. */
export type QueueView = QueueRecord & { oldestWaitingAgeMs: number | null };

/** A worker with its heartbeat's age and the jobs it runs now. */
export type WorkerView = WorkerRecord & { heartbeatAgeMs: number; runningJobs: string[] };

export interface Percentiles {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

interface ByOutcome {
  succeeded: number;
  dead: number;
  cancelled: number;
}

/** `GET /stats`: counts by state and queue, and the jobs finished in the last `minutes`. */
export interface Stats {
  counts: Record<JobState, number>;
  queues: Record<string, Record<JobState, number>>;
  window: {
    minutes: number;
    finished: ByOutcome;
    throughputPerMinute: ByOutcome;
    waitMs: Percentiles;
    runMs: Percentiles;
    truncated: boolean;
    perMinute: Array<ByOutcome & { start: string; runMsP50: number | null; runMsP95: number | null }>;
  };
}

/** A schedule as the API shows it (the store's bookkeeping left out). */
export interface Schedule {
  name: string;
  cron: string;
  timezone: string;
  task: string;
  queue: string | null;
  priority: number | null;
  enabled: boolean;
  removed: boolean;
  lastTickAt: string | null;
  nextRunAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** What to run: a profile of the server's config with its params, or (if allowed) a command of its own. */
export type StartRunRequest =
  | { profile: string; params?: Record<string, unknown> }
  | ({ profile?: undefined; command: string } & Record<string, unknown>);

export interface RunProfiles {
  profiles: Array<Record<string, unknown> & { name: string }>;
  allowAdHoc: boolean;
}

/** `GET /runs/{id}/status`: what a poller needs. */
export interface RunStatus {
  id: string;
  state: RunState;
  version: number;
  currentTurn: number;
  maxTurns: number;
  pid: number | null;
  stats: RunStats;
  completion: RunCompletion;
  error: RunError | null;
  updatedAt: string;
}

/** A turn's stored output, or the part of it a range asked for. */
export interface RunOutput {
  data: Uint8Array;
  /** The bytes stored for the turn so far (its X-Output-Size). */
  size: number;
  /** True for a range (206), false for the whole output. */
  partial: boolean;
}

export interface ApprovalDetail {
  approval: Approval;
  /** The job that asked; null if it was discarded since. */
  job: { id: string; state: JobState; task: string } | null;
}

export interface ApprovalDecision {
  decision: "approve" | "deny";
  reason?: string;
  /** Recorded with the decision; `api` unless told. */
  channel?: "api" | "dashboard" | "cli";
}

export interface AlertDetail {
  alert: Alert;
  /** The escalation timeline, oldest first (for an escalation: the notifications it planned). */
  notifications: AlertNotification[];
}

export interface RaiseAlertRequest {
  summary: string;
  details?: unknown;
  dedupKey?: string | null;
  policy?: string | null;
}

export interface PingHeartbeatResult {
  heartbeat: Heartbeat;
  /** The alert this ping closed (the heartbeat was late), or null. */
  closedAlert: Alert | null;
}

export interface AlertPolicies {
  policies: EscalationPolicy[];
}

/** One JSON page of the event log. */
export interface EventPage {
  items: OverseerEvent[];
  /** The newest seq in the log. */
  lastSeq: number;
  /** The oldest seq retention kept; null if none. */
  oldestSeq: number | null;
}

export interface Whoami {
  name: string;
  scope: TokenScope;
}

export interface StreamToken {
  token: string;
  expiresAt: string;
}
