/**
 * Every type the client speaks in, in one place. Records and answers are the HTTP contract's
 * (src/http/contract), derived from the schemas the server serialises with, so a field added to
 * a schema reaches them with no other edit. What a caller sends keeps the SDK's own option types
 * (the server's schemas validate it), and a run's output is raw bytes. Type-only imports.
 */
import type { EnqueueOptions } from "../core/job-options.js";
import type { BulkAcknowledgeAlertsRequest } from "../http/contract/alerts.js";
import type { BulkDecisionRequest, DecisionRequest } from "../http/contract/approvals.js";
import type { RequeueRequest } from "../http/contract/requeue.js";
import type { RunControlRequest } from "../http/contract/runs.js";
import type { JobQuery } from "./jobs.js";

export type { EnqueueOptions } from "../core/job-options.js";
export type {
  Alert,
  AlertDetail,
  AlertNotification,
  AlertPolicies,
  AlertSource,
  AlertStatus,
  BulkAlertResult,
  EscalationPolicy,
  RaiseAlertRequest,
} from "../http/contract/alerts.js";
export type {
  Approval,
  ApprovalDetail,
  ApprovalState,
  BulkDecisionResult,
  DecisionResult,
} from "../http/contract/approvals.js";
export type { Attention } from "../http/contract/attention.js";
export type { Whoami } from "../http/contract/auth.js";
export type { Claim, TakeClaimResult } from "../http/contract/claims.js";
export type { EventPage, OverseerEvent } from "../http/contract/events.js";
export type { ExecutionState } from "../http/contract/execution.js";
export type { Heartbeat, HeartbeatPing as PingHeartbeatResult } from "../http/contract/heartbeats.js";
export type {
  Attempt,
  BulkResult,
  CancelResult,
  EnqueuedJob,
  Job,
  JobDetail,
  JobError,
  JobState,
  RetryPreview,
} from "../http/contract/jobs.js";
export type { Lesson, RecordLessonRequest, SimilarLesson } from "../http/contract/lessons.js";
export type {
  CreateOncallOverrideRequest,
  OncallOverrideRecord as OncallOverride,
  OncallStatus,
} from "../http/contract/oncall.js";
export type {
  ConcurrencyKey,
  ConcurrencyPage,
  Queue,
  SeriesRange,
  Stats,
  StatsSeries,
  Worker,
  WorkerJob,
} from "../http/contract/operating.js";
export type { RequeueResult as RequeueDeadResult } from "../http/contract/requeue.js";
export type {
  Run,
  RunDetail,
  RunMessage,
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

/** Which jobs a bulk operation (retry, cancel, discard) applies to: a listing's filters, up to `limit` (1-1,000). */
export interface JobBulkFilter extends Omit<JobQuery, "order"> {
  limit?: number;
}

/** `POST /jobs/requeue-dead`: the re-queue policy's knobs (see docs/alerts.md). */
export type RequeueDeadInput = RequeueRequest;

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

/** Which alerts a bulk acknowledge or close applies to: a listing's filters, up to `limit` (1-500). */
export type AlertBulkFilter = Omit<BulkAcknowledgeAlertsRequest, "note" | "limit"> & { limit?: number };

/** A decision on every pending request a filter matches, up to `limit` (1-500), with one reason. */
export type BulkDecisionInput = Omit<BulkDecisionRequest, "limit"> & { limit?: number };
