/**
 * The HTTP contract as clients (the dashboard, the CLI) import it: the types of every record and
 * answer, derived from the schemas of the resource modules beside this one, so a field added to
 * a schema reaches them with no other edit; and the state lists the API speaks. Types only, but
 * for those lists: a browser bundle that imports this takes none of the schemas along.
 */
export { FINISHED_RUN_STATES, RUN_STATES } from "../../core/run-state.js";
export { ALERT_SOURCES, ALERT_STATUSES, APPROVAL_STATES, escalationExhausted } from "../../core/states.js";
export { JOB_STATES } from "../../core/types.js";
export type {
  Alert,
  AlertDetail,
  AlertNotification,
  AlertPage,
  AlertPolicies,
  AlertSource,
  AlertStatus,
  EscalationPolicy,
} from "./alerts.js";
export type {
  Approval,
  ApprovalDecision,
  ApprovalDetail,
  ApprovalPage,
  ApprovalState,
  DecisionResult,
} from "./approvals.js";
export type { Attention } from "./attention.js";
export type { Scope, Whoami } from "./auth.js";
export type { Claim, ClaimHistoryPage, TakeClaimResult } from "./claims.js";
export type { ErrorEnvelope } from "./error-envelope.js";
export type { EventPage, OverseerEvent } from "./events.js";
export type { ExecutionState } from "./execution.js";
export type { Heartbeat, HeartbeatPing } from "./heartbeats.js";
export type {
  Attempt,
  BulkOperation,
  BulkResult,
  CancelResult,
  EnqueuedJob,
  Job,
  JobCount,
  JobDetail,
  JobError,
  JobPage,
  JobState,
  JobStep,
  RetryPreview,
} from "./jobs.js";
export { BULK_STATES, COUNT_CAP } from "./jobs.js";
export type { Lesson, RecordLessonRequest, SimilarLesson } from "./lessons.js";
export type {
  CreateOncallOverrideRequest,
  OncallOverridePage,
  OncallOverrideRecord,
  OncallStatus,
} from "./oncall.js";
export type {
  ConcurrencyKey,
  ConcurrencyPage,
  Counts,
  MinuteBucket,
  Queue,
  SeriesRange,
  Stats,
  StatsSeries,
  Worker,
  WorkerJob,
} from "./operating.js";
export type { RequeueResult } from "./requeue.js";
export type {
  Run,
  RunCount,
  RunDetail,
  RunMessage,
  RunPage,
  RunParam,
  RunProfile,
  RunProfiles,
  RunState,
  RunStats,
  RunStatus,
  RunTurn,
} from "./runs.js";
export type { Schedule } from "./schedules.js";
export type { SignalResult } from "./signals.js";
export type { StreamToken } from "./stream-tokens.js";
