/**
 * JSON schemas of what the API returns and accepts. Fastify validates requests and serialises
 * responses with them, and the OpenAPI document is generated from them, so the three cannot
 * drift apart. Shared records are registered once by `$id` and referenced as `Name#`.
 */
import { ALERT_SOURCES, ALERT_STATUSES, NOTIFICATION_STATUSES } from "../core/alert.js";
import { APPROVAL_STATES } from "../core/approval.js";
import { RISKS } from "../core/gate-policy.js";
import { HEARTBEAT_STATES } from "../core/heartbeat.js";
import { RUN_STATES } from "../core/run-state.js";
import { JOB_STATES } from "../core/types.js";
import { errorEnvelopeSchema } from "./errors.js";

const string = { type: "string" } as const;
const nullableString = { type: ["string", "null"] } as const;
const isoTime = { type: "string", format: "date-time" } as const;
const nullableTime = { type: ["string", "null"], format: "date-time" } as const;
const integer = { type: "integer" } as const;
/** Any JSON value: payloads, results and progress are the user's own. */
const anyJson = {} as const;

/**
 * A handler's error as job listings show it: code, message, retryable. The stack it recorded is
 * shown only with each attempt (below), where an operator debugging the job looks for it.
 */
const jobError = {
  type: ["object", "null"],
  required: ["code", "message", "retryable"],
  properties: { code: string, message: string, retryable: { type: "boolean" }, type: string },
} as const;

/**
 * An attempt's error, with the stack the handler's error had, if any. That stack is the job's
 * own record of the user's code failing, kept like its payload and result; the API's own
 * failures never carry a stack (see errors.ts).
 */
const attemptError = {
  type: ["object", "null"],
  required: ["code", "message", "retryable"],
  properties: { code: string, message: string, retryable: { type: "boolean" }, type: string, stack: string },
} as const;

const countsByState = {
  type: "object",
  required: [...JOB_STATES],
  properties: Object.fromEntries(JOB_STATES.map((s) => [s, integer])),
} as const;

export const jobSchema = {
  $id: "Job",
  type: "object",
  required: ["id", "task", "queue", "state", "priority", "runAt", "attempts", "maxAttempts", "createdAt", "version"],
  properties: {
    id: string,
    task: string,
    queue: string,
    state: { type: "string", enum: [...JOB_STATES] },
    payload: anyJson,
    result: anyJson,
    priority: integer,
    runAt: isoTime,
    attempts: { type: "integer", description: "Counted attempts since the job was enqueued or last retried." },
    maxAttempts: integer,
    backoff: {
      type: "object",
      properties: {
        type: { type: "string", enum: ["exponential", "fixed"] },
        baseMs: integer,
        capMs: integer,
        delayMs: integer,
        jitter: { type: "number" },
      },
    },
    idempotencyKey: nullableString,
    concurrency: {
      type: ["object", "null"],
      properties: { key: string, limit: integer, onLimit: { type: "string", enum: ["wait", "reject"] } },
    },
    rateLimit: {
      type: ["object", "null"],
      properties: { key: string, limit: integer, periodMs: integer },
    },
    enqueuedBy: {
      ...nullableString,
      description:
        "The API token that enqueued it (or the SDK caller's enqueuedBy); it may not approve the job's requests.",
    },
    progress: anyJson,
    lastError: jobError,
    leaseOwner: nullableString,
    leaseExpiresAt: nullableTime,
    cancelRequested: { type: "boolean" },
    createdAt: isoTime,
    startedAt: nullableTime,
    finishedAt: nullableTime,
    version: { type: "integer", description: "Bumped on every write; send it back in If-Match to write safely." },
    taskRegistered: {
      type: "boolean",
      description:
        "False when no worker has ever registered the job's task on this database (nor does this server define it): the job waits until one does. Given on enqueue, listings and a job's detail.",
    },
  },
} as const;

/** Something worth telling whoever enqueued a job, which was enqueued all the same. */
const enqueueWarning = {
  type: "object",
  required: ["code", "message", "task"],
  properties: {
    code: { type: "string", enum: ["TASK_NOT_REGISTERED"] },
    message: string,
    task: string,
  },
} as const;

/** What `POST /jobs` answers for each job: the job, and its warnings (none: an empty array). */
export const enqueuedJobSchema = {
  $id: "EnqueuedJob",
  type: "object",
  required: [...jobSchema.required, "taskRegistered", "warnings"],
  properties: {
    ...jobSchema.properties,
    warnings: {
      type: "array",
      items: enqueueWarning,
      description:
        "TASK_NOT_REGISTERED: no worker has ever registered this task here, so the job waits until one does (a typo in the name, or a worker never started).",
    },
  },
} as const;

export const attemptSchema = {
  $id: "Attempt",
  type: "object",
  required: ["jobId", "number", "workerId", "startedAt", "outcome"],
  properties: {
    jobId: string,
    number: integer,
    workerId: string,
    startedAt: isoTime,
    finishedAt: nullableTime,
    outcome: { type: "string", enum: ["running", "succeeded", "failed", "lost", "released", "cancelled", "parked"] },
    error: attemptError,
  },
} as const;

export const eventSchema = {
  $id: "Event",
  type: "object",
  required: ["seq", "at", "kind", "data"],
  properties: {
    seq: integer,
    at: isoTime,
    kind: string,
    jobId: nullableString,
    runId: nullableString,
    workerId: nullableString,
    data: { type: "object", additionalProperties: true },
  },
} as const;

export const queueSchema = {
  $id: "Queue",
  type: "object",
  required: ["name", "paused", "counts", "version"],
  properties: {
    name: string,
    paused: { type: "boolean" },
    counts: countsByState,
    version: { type: "integer", description: "Bumped by every pause or resume; 0 if never paused or resumed." },
    oldestWaitingAgeMs: {
      type: ["integer", "null"],
      description: "How long the oldest queued job has been due, in ms; null when none is queued.",
    },
  },
} as const;

export const workerSchema = {
  $id: "Worker",
  type: "object",
  required: ["id", "name", "host", "pid", "status", "heartbeatAt", "heartbeatAgeMs", "runningJobs"],
  properties: {
    id: string,
    name: string,
    host: string,
    pid: integer,
    queues: { type: ["array", "null"], items: string },
    tasks: { type: "array", items: string },
    concurrency: integer,
    status: { type: "string", enum: ["active", "stopping", "stopped", "lost"] },
    startedAt: isoTime,
    heartbeatAt: isoTime,
    stoppedAt: nullableTime,
    heartbeatAgeMs: integer,
    runningJobs: { type: "array", items: string, description: "Ids of the jobs it holds leases on." },
  },
} as const;

export const scheduleSchema = {
  $id: "Schedule",
  type: "object",
  required: ["name", "cron", "timezone", "task", "enabled", "removed", "lastTickAt", "nextRunAt"],
  properties: {
    name: string,
    cron: { type: "string", description: "Five or six cron fields, read in `timezone`." },
    timezone: { type: "string", description: "An IANA time zone, e.g. Europe/Berlin; UTC unless configured." },
    task: string,
    queue: nullableString,
    priority: { type: ["integer", "null"] },
    enabled: { type: "boolean" },
    removed: {
      type: "boolean",
      description: "The last config sync did not include it: it no longer fires, and comes back afresh if re-added.",
    },
    lastTickAt: { ...nullableTime, description: "The last tick that fired, or null." },
    nextRunAt: {
      ...nullableTime,
      description: "The next tick it would fire; null when disabled, removed, or the pattern never fires again.",
    },
    createdAt: isoTime,
    updatedAt: isoTime,
  },
} as const;

const openObject = { type: "object", additionalProperties: true } as const;
const nullableInteger = { type: ["integer", "null"] } as const;

const runStats = {
  type: "object",
  required: ["turns", "tokens", "files", "tests", "outputBytes"],
  properties: {
    turns: integer,
    tokens: { type: "object", properties: { input: integer, output: integer } },
    files: { type: "object", properties: { read: integer, written: integer, deleted: integer } },
    tests: {
      type: "object",
      properties: {
        runs: integer,
        passed: integer,
        failed: integer,
        skipped: integer,
        last: { type: ["object", "null"], properties: { passed: integer, failed: integer, skipped: integer } },
      },
    },
    outputBytes: integer,
  },
} as const;

const runCompletion = {
  type: "object",
  properties: {
    detected: { type: ["string", "null"], enum: ["stop_file", "pattern", "exit_code", null] },
    line: nullableString,
    turn: nullableInteger,
  },
} as const;

const runError = {
  type: ["object", "null"],
  required: ["code", "message", "retryable"],
  properties: { code: string, message: string, retryable: { type: "boolean" } },
} as const;

export const runSchema = {
  $id: "Run",
  type: "object",
  required: ["id", "state", "version", "currentTurn", "stats", "completion", "createdAt"],
  properties: {
    id: string,
    profile: nullableString,
    params: openObject,
    spec: {
      type: "object",
      description: "What each turn runs, fixed when the run was created.",
      properties: {
        command: string,
        args: { type: "array", items: string },
        cwd: string,
        env: { type: "array", items: string },
        maxTurns: integer,
        turnTimeoutMs: integer,
        graceMs: integer,
        completion: openObject,
        onTurnFailure: string,
      },
    },
    state: { type: "string", enum: [...RUN_STATES] },
    version: integer,
    pid: nullableInteger,
    currentTurn: integer,
    stats: runStats,
    completion: runCompletion,
    error: runError,
    workerId: nullableString,
    createdBy: nullableString,
    createdAt: isoTime,
    startedAt: nullableTime,
    finishedAt: nullableTime,
    updatedAt: isoTime,
  },
} as const;

export const runStatusSchema = {
  $id: "RunStatus",
  type: "object",
  required: ["id", "state", "version", "currentTurn", "maxTurns", "stats", "completion"],
  properties: {
    id: string,
    state: { type: "string", enum: [...RUN_STATES] },
    version: integer,
    currentTurn: integer,
    maxTurns: integer,
    pid: nullableInteger,
    stats: runStats,
    completion: runCompletion,
    error: runError,
    updatedAt: isoTime,
  },
} as const;

export const runTurnSchema = {
  $id: "RunTurn",
  type: "object",
  required: ["runId", "turn", "outcome", "startedAt"],
  properties: {
    runId: string,
    turn: integer,
    outcome: {
      type: "string",
      enum: ["running", "exited", "timed_out", "cancelled", "interrupted", "lost", "spawn_failed"],
    },
    exitCode: nullableInteger,
    signal: nullableString,
    pid: nullableInteger,
    host: string,
    workerId: string,
    outputBytes: integer,
    startedAt: isoTime,
    finishedAt: nullableTime,
  },
} as const;

export const claimSchema = {
  $id: "Claim",
  type: "object",
  required: ["key", "owner", "token", "ttlMs", "acquiredAt", "refreshedAt", "expiresAt"],
  properties: {
    key: string,
    owner: string,
    token: {
      type: "integer",
      description: "Fencing token: grows with every new holder of the key, never on a refresh.",
    },
    ttlMs: integer,
    acquiredAt: isoTime,
    refreshedAt: isoTime,
    expiresAt: { ...isoTime, description: "Held through this moment; anyone may take it over 1 ms later." },
  },
} as const;

const decisionChannel = { type: "string", enum: ["api", "cli", "dashboard", "telegram", "watchdog"] } as const;

export const approvalSchema = {
  $id: "Approval",
  type: "object",
  required: [
    "id",
    "jobId",
    "title",
    "risk",
    "approvers",
    "quorum",
    "requestedBy",
    "onTimeout",
    "state",
    "decisions",
    "outcome",
    "createdAt",
    "expiresAt",
    "settledAt",
    "version",
  ],
  properties: {
    id: string,
    jobId: string,
    step: { type: "string", description: "The job's step that holds the outcome." },
    title: string,
    details: { description: "What the handler gave to show the approvers: any JSON." },
    risk: { type: "string", enum: [...RISKS] },
    approvers: {
      type: "array",
      items: string,
      description: "Who may decide: token names, group:<name>, telegram:<id>; empty: any operator.",
    },
    quorum: { type: "integer", description: "Distinct approvals needed to approve; one denial denies." },
    requestedBy: { ...nullableString, description: "Who asked; they may not decide." },
    onTimeout: { type: "string", enum: ["deny", "approve", "escalate"] },
    state: { type: "string", enum: [...APPROVAL_STATES] },
    decisions: {
      type: "array",
      description: "Every decision, oldest first: who, through which channel, when and why.",
      items: {
        type: "object",
        required: ["decision", "by", "channel", "reason", "at"],
        properties: {
          decision: { type: "string", enum: ["approve", "deny"] },
          by: string,
          channel: decisionChannel,
          reason: nullableString,
          at: isoTime,
        },
      },
    },
    outcome: {
      type: ["object", "null"],
      description: "What the job's ctx.requestApproval returns; null while pending.",
      properties: {
        approved: { type: "boolean" },
        decidedBy: string,
        channel: decisionChannel,
        reason: nullableString,
        at: isoTime,
        timedOut: { type: "boolean" },
      },
    },
    createdAt: isoTime,
    expiresAt: { ...isoTime, description: "When the watchdog applies onTimeout if nobody settled it." },
    settledAt: nullableTime,
    version: { type: "integer", description: "Bumped on every decision; send it back in If-Match to decide safely." },
  },
} as const;

export const alertSchema = {
  $id: "Alert",
  type: "object",
  required: [
    "id",
    "source",
    "summary",
    "dedupKey",
    "status",
    "count",
    "policy",
    "escalation",
    "nextEscalationAt",
    "acknowledgedBy",
    "acknowledgedAt",
    "closedBy",
    "closedAt",
    "closeReason",
    "createdAt",
    "updatedAt",
    "version",
  ],
  properties: {
    id: string,
    source: { type: "string", enum: [...ALERT_SOURCES] },
    summary: string,
    details: { description: "Any JSON: the newest raise's details." },
    dedupKey: { ...nullableString, description: "Raises with this key while the alert is open bump its count." },
    status: { type: "string", enum: [...ALERT_STATUSES] },
    count: { type: "integer", description: "How many raises this alert stands for (1 + bumps)." },
    policy: {
      type: ["object", "null"],
      description: "The escalation policy as it was when the alert was raised; null: nobody is paged.",
      required: ["name", "steps", "repeat", "repeatDelayMs", "ackTimeoutMs"],
      properties: {
        name: string,
        steps: {
          type: "array",
          items: {
            type: "object",
            required: ["delayMs", "notify"],
            properties: { delayMs: integer, notify: { type: "array", items: string } },
          },
        },
        repeat: integer,
        repeatDelayMs: integer,
        ackTimeoutMs: { type: ["integer", "null"] },
      },
    },
    escalation: {
      type: "object",
      description: "The step last notified (-1: none yet) in round `round` (0-based).",
      required: ["step", "round"],
      properties: { step: integer, round: integer },
    },
    nextEscalationAt: { ...nullableTime, description: "When the next step (or the ack timeout) is due." },
    acknowledgedBy: nullableString,
    acknowledgedAt: nullableTime,
    closedBy: nullableString,
    closedAt: nullableTime,
    closeReason: nullableString,
    createdAt: isoTime,
    updatedAt: isoTime,
    version: { type: "integer", description: "Bumped on every change; send it back in If-Match to act safely." },
  },
} as const;

export const alertNotificationSchema = {
  $id: "AlertNotification",
  type: "object",
  required: ["id", "alertId", "step", "round", "target", "at", "status", "error", "updatedAt"],
  properties: {
    id: integer,
    alertId: string,
    step: { type: "integer", description: "0-based step of the policy." },
    round: { type: "integer", description: "0-based round (repeats)." },
    target: { type: "string", description: "A channel name or a person." },
    at: { ...isoTime, description: "When the step was due and claimed." },
    status: { type: "string", enum: [...NOTIFICATION_STATUSES] },
    error: nullableString,
    updatedAt: isoTime,
  },
} as const;

export const heartbeatSchema = {
  $id: "Heartbeat",
  type: "object",
  required: ["name", "intervalMs", "policyName", "state", "lastPingAt", "dueAt", "alertId", "createdAt", "updatedAt"],
  properties: {
    name: string,
    intervalMs: { type: "integer", description: "A ping is owed at least this often." },
    policyName: { ...nullableString, description: "The escalation policy its alert pages; null: nobody." },
    state: { type: "string", enum: [...HEARTBEAT_STATES] },
    lastPingAt: nullableTime,
    dueAt: { ...isoTime, description: "When it turns late without a ping." },
    alertId: { ...nullableString, description: "The open alert while late." },
    createdAt: isoTime,
    updatedAt: isoTime,
  },
} as const;

export const SHARED_SCHEMAS = [
  approvalSchema,
  alertSchema,
  alertNotificationSchema,
  heartbeatSchema,
  claimSchema,
  runSchema,
  runStatusSchema,
  runTurnSchema,
  errorEnvelopeSchema,
  jobSchema,
  enqueuedJobSchema,
  attemptSchema,
  eventSchema,
  queueSchema,
  workerSchema,
  scheduleSchema,
];

export const ref = (id: string) => ({ $ref: `${id}#` });

/** A listing's page: `{items, nextCursor}` of the shared record `id` (see http/cursor.ts). */
export function pageSchema(id: string) {
  return {
    type: "object",
    required: ["items", "nextCursor"],
    properties: {
      items: { type: "array", items: ref(id) },
      nextCursor: { type: ["string", "null"], description: "Pass as cursor for the next page." },
    },
  } as const;
}

/** Every error status a route may answer, all with the envelope. */
export function errorResponses(...statuses: number[]): Record<number, unknown> {
  return Object.fromEntries(statuses.map((s) => [s, ref("ErrorEnvelope")]));
}

export const jobIdParams = {
  type: "object",
  required: ["id"],
  additionalProperties: false,
  properties: { id: { type: "string", minLength: 1, maxLength: 64, description: "A job id (ULID)." } },
} as const;

export const runIdParams = {
  type: "object",
  required: ["id"],
  additionalProperties: false,
  properties: { id: { type: "string", minLength: 1, maxLength: 64, description: "A run id (ULID)." } },
} as const;

/** Optimistic concurrency in a body: the `version` the caller read. `If-Match` does the same. */
export const versionBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    version: {
      type: "integer",
      minimum: 0,
      description: "Refuse with 409 if the record is no longer at this version.",
    },
  },
} as const;
