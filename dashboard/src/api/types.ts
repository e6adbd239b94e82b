/** The shapes the public /api/v1 answers with (see docs/http-api.md). */
export const JOB_STATES = [
  "scheduled",
  "queued",
  "running",
  "awaiting_approval",
  "succeeded",
  "dead",
  "cancelled",
] as const;
/** `awaiting_approval`: parked until a person (or the watchdog) settles its approval request. */
export type JobState = (typeof JOB_STATES)[number];
export type Scope = "admin" | "operator" | "viewer" | "metrics";

export interface JobError {
  code: string;
  message: string;
  retryable: boolean;
  /** The thrown error's class name, when it differs from code. */
  type?: string;
}

export type RetryReason =
  | "auto_retry"
  | "permanent_error"
  | "retry_disabled"
  | "max_attempts_exceeded"
  | "lease_expired";

/** GET /jobs/:id/retry-preview: what the retry policy says now, and what a Retry click does. */
export interface RetryPreview {
  job: string;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  policy: "task" | "default";
  classification: { errorClass: "transient" | "permanent"; rule: string } | null;
  decision: { retry: boolean; reason: RetryReason; delayMs?: number } | null;
  retryAt: string | null;
  manualRetry: { allowed: boolean; reason: "fresh_attempts" | "not_finished" | "succeeded"; message: string };
  summary: string;
}

export interface Job {
  id: string;
  task: string;
  queue: string;
  state: JobState;
  payload: unknown;
  result: unknown;
  priority: number;
  runAt: string;
  attempts: number;
  maxAttempts: number;
  idempotencyKey: string | null;
  /** The API token that enqueued it, if any; it may not approve the job's requests. */
  enqueuedBy: string | null;
  progress: unknown;
  lastError: JobError | null;
  cancelRequested: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  version: number;
  /** False when no worker has ever registered the task on this database: a waiting job waits until one does. */
  taskRegistered?: boolean;
}

export interface Attempt {
  number: number;
  workerId: string;
  startedAt: string;
  finishedAt: string | null;
  outcome: string;
  /** With the stack its handler's error had, if any (job detail only). */
  error: (JobError & { stack?: string }) | null;
}

export interface OverseerEvent {
  seq: number;
  at: string;
  kind: string;
  jobId?: string | null;
  /** Set on `run.*` events. */
  runId?: string | null;
  workerId?: string | null;
  data?: unknown;
}

export type Counts = Partial<Record<JobState, number>>;

export interface Queue {
  name: string;
  counts: Counts;
  oldestWaitingAgeMs: number | null;
  paused: boolean;
  version: number;
}

export interface Worker {
  id: string;
  name: string;
  host: string;
  pid: number;
  status: string;
  heartbeatAgeMs: number;
  runningJobs: string[];
  concurrency: number;
  queues: string[] | null;
}

type ByOutcome = { succeeded: number; dead: number; cancelled: number };
export interface Percentiles {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface Stats {
  counts: Counts;
  queues: Record<string, Counts>;
  window: {
    minutes: number;
    finished: ByOutcome;
    throughputPerMinute: ByOutcome;
    waitMs: Percentiles;
    runMs: Percentiles;
    /** The window in whole minutes, oldest first; the last one is still filling. */
    perMinute: MinuteBucket[];
  };
}

export interface MinuteBucket {
  start: string;
  succeeded: number;
  dead: number;
  cancelled: number;
  runMsP50: number | null;
  runMsP95: number | null;
}

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
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Whoami {
  name: string;
  scope: Scope;
}

/*
 * Runs (src/core/run.ts, src/core/run-state.ts): a run loops turns of a command until its
 * completion rule matches. Copied here, like JOB_STATES, so the dashboard builds on its own.
 */
export const RUN_STATES = [
  "queued",
  "running",
  "pausing",
  "paused",
  "cancelling",
  "cancelled",
  "completed",
  "failed",
] as const;
export type RunState = (typeof RUN_STATES)[number];
export const FINISHED_RUN_STATES: readonly RunState[] = ["cancelled", "completed", "failed"];

export interface RunStats {
  turns: number;
  tokens: { input: number; output: number };
  files: { read: number; written: number; deleted: number };
  tests: {
    runs: number;
    passed: number;
    failed: number;
    skipped: number;
    last: { passed: number; failed: number; skipped: number } | null;
  };
  outputBytes: number;
}

export interface RunCompletion {
  detected: "stop_file" | "pattern" | "exit_code" | null;
  line: string | null;
  turn: number | null;
}

export interface RunCompletionRule {
  stopFile?: string;
  pattern?: string;
  exitCode?: number;
}

export interface Run {
  id: string;
  profile: string | null;
  params: Record<string, unknown>;
  spec: {
    command: string;
    args: string[];
    cwd: string;
    maxTurns: number;
    turnTimeoutMs: number;
    graceMs: number;
    completion: RunCompletionRule;
    onTurnFailure: "fail" | "continue";
  };
  state: RunState;
  version: number;
  pid: number | null;
  currentTurn: number;
  stats: RunStats;
  completion: RunCompletion;
  error: { code: string; message: string; retryable: boolean } | null;
  workerId: string | null;
  createdBy: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
}

export interface RunTurn {
  runId: string;
  turn: number;
  outcome: "running" | "exited" | "timed_out" | "cancelled" | "interrupted" | "lost" | "spawn_failed";
  exitCode: number | null;
  signal: string | null;
  pid: number | null;
  host: string;
  workerId: string;
  outputBytes: number;
  startedAt: string;
  finishedAt: string | null;
}

export interface RunParamSchema {
  type: "string" | "number" | "integer" | "boolean";
  description?: string;
  required?: boolean;
  default?: string | number | boolean;
  enum?: Array<string | number>;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
}

export interface RunProfile {
  name: string;
  description: string | null;
  command: string;
  args: string[];
  params: Record<string, RunParamSchema>;
  maxTurns: number;
  turnTimeoutMs: number;
  graceMs: number;
  completion: RunCompletionRule;
}

export interface RunProfiles {
  profiles: RunProfile[];
  allowAdHoc: boolean;
}

/*
 * Approvals (src/core/approval.ts): a job asks a person and waits in `awaiting_approval`.
 * Copied here, like JOB_STATES, so the dashboard builds on its own.
 */
export const APPROVAL_STATES = ["pending", "approved", "denied", "timed_out", "cancelled"] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];
export type Risk = "low" | "medium" | "high" | "critical";
export type DecisionChannel = "api" | "cli" | "dashboard" | "telegram" | "watchdog";

export interface ApprovalDecision {
  decision: "approve" | "deny";
  by: string;
  channel: DecisionChannel;
  reason: string | null;
  at: string;
}

export interface Approval {
  id: string;
  jobId: string;
  title: string;
  details: unknown;
  risk: Risk;
  /** Token names, `group:<name>`, `telegram:<id>`; empty: any operator. */
  approvers: string[];
  quorum: number;
  requestedBy: string | null;
  onTimeout: "deny" | "approve" | "escalate";
  state: ApprovalState;
  decisions: ApprovalDecision[];
  outcome: {
    approved: boolean;
    decidedBy: string;
    channel: DecisionChannel;
    reason: string | null;
    at: string;
    timedOut: boolean;
  } | null;
  createdAt: string;
  expiresAt: string;
  settledAt: string | null;
  version: number;
}

/** GET /approvals/:id */
export interface ApprovalDetail {
  approval: Approval;
  job: { id: string; state: string; task: string } | null;
}

// Alerts (docs/alerts.md)

export const ALERT_STATUSES = ["triggered", "acknowledged", "closed"] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];
export const ALERT_SOURCES = [
  "approval",
  "job.dead",
  "worker.lost",
  "queue.depth",
  "queue.age",
  "schedule.missed",
  "heartbeat",
  "manual",
] as const;
export type AlertSource = (typeof ALERT_SOURCES)[number];

export interface EscalationPolicy {
  name: string;
  steps: { delayMs: number; notify: string[] }[];
  repeat: number;
  repeatDelayMs: number;
  ackTimeoutMs: number | null;
}

export interface Alert {
  id: string;
  source: AlertSource;
  summary: string;
  details?: unknown;
  dedupKey: string | null;
  status: AlertStatus;
  /** 1 + bumps (raises of the same dedup key while open). */
  count: number;
  policy: EscalationPolicy | null;
  escalation: { step: number; round: number };
  nextEscalationAt: string | null;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  closedBy: string | null;
  closedAt: string | null;
  closeReason: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** One target of one step: the escalation timeline. */
export interface AlertNotification {
  id: number;
  alertId: string;
  step: number;
  round: number;
  target: string;
  at: string;
  status: "planned" | "sent" | "failed";
  error: string | null;
  updatedAt: string;
}

/** GET /alerts/:id */
export interface AlertDetail {
  alert: Alert;
  notifications: AlertNotification[];
}

export interface Heartbeat {
  name: string;
  intervalMs: number;
  policyName: string | null;
  state: "ok" | "late";
  lastPingAt: string | null;
  dueAt: string;
  alertId: string | null;
  createdAt: string;
  updatedAt: string;
}
