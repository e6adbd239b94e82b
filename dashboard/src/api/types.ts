/** The shapes the public /api/v1 answers with (see docs/http-api.md). */
export const JOB_STATES = ["scheduled", "queued", "running", "succeeded", "dead", "cancelled"] as const;
export type JobState = (typeof JOB_STATES)[number];
export type Scope = "admin" | "operator" | "viewer" | "metrics";

export interface JobError {
  code: string;
  message: string;
  retryable: boolean;
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
  progress: unknown;
  lastError: JobError | null;
  cancelRequested: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  version: number;
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
