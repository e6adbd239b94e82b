/**
 * Every type the client speaks in, in one place. Answers with no record of their own the CLI
 * shares with the local mode come from the HTTP contract (src/http/contract), derived from the
 * schemas the server serialises with; the records the CLI's two modes share still come from the
 * core modules, with the answers that wrap them. Type-only imports: nothing reaches the bundle.
 */
import type { EnqueueOptions } from "../core/job-options.js";
import type { EnqueueWarning } from "../core/known-tasks.js";
import type { Attempt, Job, JobState, OverseerEvent, QueueRecord, WorkerRecord } from "../core/types.js";
import type { DecisionRequest } from "../http/contract/approvals.js";
import type { RunControlRequest } from "../http/contract/runs.js";

export type { EnqueueOptions } from "../core/job-options.js";
export type { EnqueueWarning } from "../core/known-tasks.js";
export type {
  Attempt,
  Job,
  JobState,
  OverseerEvent,
  QueueRecord,
  WorkerRecord,
} from "../core/types.js";
export type {
  Alert,
  AlertDetail,
  AlertNotification,
  AlertPolicies,
  AlertSource,
  AlertStatus,
  EscalationPolicy,
  RaiseAlertRequest,
} from "../http/contract/alerts.js";
export type { Approval, ApprovalDetail, ApprovalState, DecisionResult } from "../http/contract/approvals.js";
export type { Whoami } from "../http/contract/auth.js";
export type { Claim, TakeClaimResult } from "../http/contract/claims.js";
export type { Heartbeat, HeartbeatPing as PingHeartbeatResult } from "../http/contract/heartbeats.js";
export type { BulkResult, RetryPreview } from "../http/contract/jobs.js";
export type { Stats } from "../http/contract/operating.js";
export type { RequeueResult as RequeueDeadResult } from "../http/contract/requeue.js";
export type {
  Run,
  RunDetail,
  RunProfiles,
  RunState,
  RunStatus,
  RunTurn,
  StartRunRequest,
} from "../http/contract/runs.js";
export type { Schedule } from "../http/contract/schedules.js";
export type { SignalResult } from "../http/contract/signals.js";
export type { StreamToken } from "../http/contract/stream-tokens.js";

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

/** `POST /jobs/requeue-dead`: the re-queue policy's knobs (see docs/alerts.md). */
export interface RequeueDeadInput {
  maxRequeues?: number;
  maxAge?: string | number;
  max?: number;
  queue?: string;
  task?: string;
  dryRun?: boolean;
}

/** A queue with the age of its oldest waiting job. */
export type QueueView = QueueRecord & { oldestWaitingAgeMs: number | null };

/** A worker with its heartbeat's age and the jobs it runs now. */
export type WorkerView = WorkerRecord & { heartbeatAgeMs: number; runningJobs: string[] };

/** What `POST /runs/{id}/control` does: pause, resume or cancel. */
export type RunControlAction = RunControlRequest["action"];

/** A turn's stored output, or the part of it a range asked for. */
export interface RunOutput {
  data: Uint8Array;
  /** The bytes stored for the turn so far (its X-Output-Size). */
  size: number;
  /** True for a range (206), false for the whole output. */
  partial: boolean;
}

/** A decision on an approval request as a caller sends it (the version goes with the options). */
export type ApprovalDecision = Omit<DecisionRequest, "version">;

/** One JSON page of the event log. */
export interface EventPage {
  items: OverseerEvent[];
  /** The newest seq in the log. */
  lastSeq: number;
  /** The oldest seq retention kept; null if none. */
  oldestSeq: number | null;
}
