/**
 * /api/v1/jobs: the job and attempt records, and each operation's schema: enqueue, list with
 * filters, a job's detail and retry preview, and retry, cancel or discard one job or, through a
 * filter, many. Writes on one job take the version read (`If-Match` or `version`).
 */
import { RETRY_REASONS } from "../../core/retry-policy.js";
import { STEP_KINDS } from "../../core/step-kinds.js";
import { FINISHED_STATES, JOB_STATES } from "../../core/types.js";
import {
  type Accepted,
  anyJson,
  errorResponses,
  idParams,
  integer,
  isoTime,
  nullableString,
  nullableTime,
  pageSchema,
  ref,
  type Served,
  string,
  versionBody,
} from "./schema.js";

const errorProperties = {
  code: string,
  message: string,
  retryable: { type: "boolean" },
  type: string,
  confidence: { type: "number", minimum: 0, maximum: 1 },
} as const;

/**
 * A handler's error as job listings show it: code, message, retryable. The stack it recorded is
 * shown only with each attempt (below), where an operator debugging the job looks for it.
 */
const jobError = {
  type: ["object", "null"],
  required: ["code", "message", "retryable"],
  properties: errorProperties,
} as const;

/**
 * An attempt's error, with the stack the handler's error had, if any. That stack is the job's
 * own record of the user's code failing, kept like its payload and result; the API's own
 * failures never carry a stack (see http/errors.ts).
 */
const attemptError = {
  type: ["object", "null"],
  required: ["code", "message", "retryable"],
  properties: { ...errorProperties, stack: string },
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
        type: { type: "string", enum: ["exponential", "fixed", "schedule"] },
        baseMs: integer,
        capMs: integer,
        delayMs: integer,
        delaysMs: {
          type: "array",
          items: integer,
          description: "schedule: the delay after failed attempt n is the nth; past the list, its last.",
        },
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
    timeoutMs: {
      type: ["integer", "null"],
      description: "The enqueue's own attempt timeout in ms; null when it gave none (the task's, if any, applies).",
    },
    traceContext: {
      type: ["object", "null"],
      required: ["traceparent", "tracestate"],
      properties: {
        traceparent: { type: "string", description: "W3C traceparent: 00-<trace id>-<span id>-<flags>." },
        tracestate: nullableString,
      },
      description:
        "The W3C trace context of the span it was enqueued under: each attempt's span is its child (see docs/tracing.md). Null when enqueued outside a trace, or with no OpenTelemetry SDK installed.",
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

export const jobIdParams = idParams("A job id (ULID).");

/** How many of a job's latest events its detail shows. */
export const RECENT_EVENTS = 100;

/** The states each bulk operation applies to, as in core/job-state.ts. */
export const BULK_STATES = {
  retry: ["dead", "cancelled"],
  cancel: ["scheduled", "queued", "awaiting_approval", "running"],
  discard: [...FINISHED_STATES],
} as const satisfies Record<string, readonly JobState[]>;

export type BulkOperation = keyof typeof BULK_STATES;

const time = (description: string) => ({ type: "string", format: "date-time", description }) as const;

/** The filter fields, in the query string of a listing and in the body of a bulk operation. */
export const jobFilterProperties = {
  queue: { type: "string", minLength: 1, maxLength: 128, description: "Only jobs of this queue." },
  task: { type: "string", minLength: 1, maxLength: 128, description: "Only jobs of this task." },
  q: { type: "string", minLength: 1, maxLength: 200, description: "Text the job id or idempotency key contains." },
  createdAfter: time("Created at or after this time (ISO-8601)."),
  createdBefore: time("Created before this time."),
  finishedAfter: time("Finished at or after this time."),
  finishedBefore: time("Finished before this time."),
} as const;

/**
 * `payload.<path>`: jobs whose payload holds this value at the path, e.g. `payload.phone=+15550100`
 * or `payload.customer.id=42` (a string equal to it, or a number written as it); up to 5.
 */
export const payloadFilterProperties = {
  "^payload\\.": {
    type: "string",
    maxLength: 500,
    description:
      "payload.<path> (keys of letters, digits, _ or -, joined by dots, up to 5 deep): jobs whose payload holds this value there, a string equal to it or a number written as it.",
  },
} as const;

const durationLike = {
  type: ["string", "integer"],
  description: "Milliseconds, or a duration such as 30s, 5m.",
} as const;

const enqueueOptions = {
  type: "object",
  additionalProperties: false,
  description: "The SDK's enqueue options; see docs/concepts.md.",
  properties: {
    queue: { type: "string" },
    priority: { type: ["integer", "string"], description: "Lower runs first; or high, default, low." },
    runAt: { type: ["string", "integer"], description: "ISO-8601 time or epoch ms." },
    delay: durationLike,
    maxAttempts: { type: "integer" },
    backoff: {
      type: ["object", "array"],
      description:
        'An object with a type of exponential (base, cap, jitter), fixed (delay, jitter) or schedule (delays, jitter); or a list of delays, short for a schedule: ["1m", "5m", "15m"].',
    },
    idempotencyKey: { type: "string", maxLength: 512 },
    idempotencyTtl: durationLike,
    concurrencyKey: { type: "string", maxLength: 512 },
    concurrency: { type: "object" },
    rateLimit: { type: "object" },
    timeout: {
      ...durationLike,
      description:
        "How long one attempt may run (1 ms to about 24 days); past it the attempt fails with ATTEMPT_TIMEOUT and is retried per the retry policy. Overrides the task's timeout.",
    },
  },
} as const;

const enqueueItem = {
  type: "object",
  required: ["task"],
  additionalProperties: false,
  properties: { task: { type: "string" }, payload: {}, options: enqueueOptions },
} as const;

const enqueued = { anyOf: [ref("EnqueuedJob"), { type: "array", items: ref("EnqueuedJob") }] } as const;

export const enqueueJobs = {
  tags: ["jobs"],
  operationId: "enqueueJobs",
  summary: "Enqueue one job, or an array of jobs in one transaction",
  description:
    "201 when created; 200 when an idempotency key returned the existing job(s). A job of a task no worker has ever registered is enqueued all the same, with taskRegistered false and a TASK_NOT_REGISTERED warning.",
  body: { anyOf: [enqueueItem, { type: "array", minItems: 1, maxItems: 1000, items: enqueueItem }] },
  response: {
    200: enqueued,
    201: enqueued,
    ...errorResponses(400, 401, 403, 404, 409),
  },
} as const;

export const listJobs = {
  tags: ["jobs"],
  operationId: "listJobs",
  summary: "List jobs, newest (or with order=asc oldest) first, one page at a time",
  description:
    "Besides the parameters below, `payload.<path>=<value>` (up to 5) keeps the jobs whose payload holds the value at that path: `payload.phone=%2B15550100`, `payload.customer.id=42` (a string equal to it, or a number written as it). Keys are letters, digits, _ or -, joined by dots, up to 5 deep. The bulk operations take the same fields in their body. See docs/operations.md for indexing a field you search often.",
  querystring: {
    type: "object",
    additionalProperties: false,
    patternProperties: payloadFilterProperties,
    properties: {
      state: { type: "string", description: "Comma-separated states, e.g. queued,running." },
      ...jobFilterProperties,
      limit: { type: "string", pattern: "^[0-9]{1,6}$", description: "Page size, 1-500; default 50." },
      cursor: { type: "string", maxLength: 200, description: "nextCursor of the previous page." },
      order: { type: "string", enum: ["desc", "asc"], description: "desc (newest first, the default) or asc." },
    },
  },
  response: {
    200: pageSchema("Job"),
    ...errorResponses(400, 401, 403),
  },
} as const;

/** Counting stops here: past it a count says "at least this many" (capped), and stays cheap at any size. */
export const COUNT_CAP = 10_000;

export const countJobs = {
  tags: ["jobs"],
  operationId: "countJobs",
  summary: `How many jobs a filter matches, counted up to ${COUNT_CAP}`,
  description: `The same filter as the listing (payload.<path> included). Counting stops at ${COUNT_CAP} (capped true: at least that many), so a count costs at most that many index entries whatever the table's size.`,
  querystring: {
    type: "object",
    additionalProperties: false,
    patternProperties: payloadFilterProperties,
    properties: {
      state: { type: "string", description: "Comma-separated states, e.g. queued,running." },
      ...jobFilterProperties,
    },
  },
  response: {
    200: {
      type: "object",
      required: ["count", "capped"],
      properties: {
        count: { type: "integer", description: `Jobs matched, at most ${COUNT_CAP}.` },
        capped: {
          type: "boolean",
          description: `True when counting stopped at ${COUNT_CAP}: at least that many match.`,
        },
      },
    },
    ...errorResponses(400, 401, 403),
  },
} as const;

export const listTaskNames = {
  tags: ["jobs"],
  operationId: "listTaskNames",
  summary: "The task names known here, for pickers",
  description:
    "Every task a worker has registered on this database, and those this server defines, sorted. A job of a task never registered is not among them.",
  response: {
    200: { type: "object", required: ["items"], properties: { items: { type: "array", items: string } } },
    ...errorResponses(401, 403),
  },
} as const;

export const getJob = {
  tags: ["jobs"],
  operationId: "getJob",
  summary: "A job with its attempts (and their errors), progress and latest events",
  params: jobIdParams,
  response: {
    200: {
      type: "object",
      required: ["job", "attempts", "events", "lifecycle"],
      properties: {
        job: ref("Job"),
        attempts: { type: "array", items: ref("Attempt") },
        events: { type: "array", items: ref("Event"), description: `Its latest ${RECENT_EVENTS} events.` },
        lifecycle: {
          type: "array",
          items: ref("Event"),
          description: `Its latest ${RECENT_EVENTS} job.* events (enqueued, started, failed...), which its steps' and logs' events do not crowd out.`,
        },
      },
    },
    ...errorResponses(400, 401, 403, 404),
  },
} as const;

const retryPreview = {
  type: "object",
  required: [
    "job",
    "state",
    "attempts",
    "maxAttempts",
    "policy",
    "decision",
    "manualRetry",
    "summary",
    "classification",
    "retryAt",
    "nextDelaysMs",
  ],
  properties: {
    job: { type: "string" },
    state: { type: "string" },
    attempts: { type: "integer" },
    maxAttempts: { type: "integer" },
    policy: { type: "string", enum: ["task", "default"], description: "Whose retry policy decided." },
    decision: {
      type: ["object", "null"],
      description: "null when there is no failure to decide on (running, succeeded, cancelled, not failed yet).",
      properties: {
        retry: { type: "boolean" },
        reason: {
          type: "string",
          enum: RETRY_REASONS,
        },
        delayMs: { type: "integer", description: "The backoff before the retry, without jitter." },
      },
    },
    manualRetry: {
      type: "object",
      required: ["allowed", "reason", "message"],
      properties: {
        allowed: { type: "boolean" },
        reason: { type: "string", enum: ["fresh_attempts", "not_finished", "succeeded"] },
        message: { type: "string" },
      },
    },
    summary: { type: "string" },
    classification: {
      type: ["object", "null"],
      properties: { errorClass: { type: "string", enum: ["transient", "permanent"] }, rule: { type: "string" } },
    },
    retryAt: { type: ["string", "null"], description: "When the scheduled retry starts, for auto_retry." },
    nextDelaysMs: {
      type: "array",
      items: { type: "integer" },
      description:
        "Should the coming attempts fail, the backoff (without jitter) before each retry still possible after the next attempt, in order (at most 100): a retry schedule's remaining steps.",
    },
  },
} as const;

export const previewJobRetry = {
  tags: ["jobs"],
  operationId: "previewJobRetry",
  summary: "What the retry policy says about the job now, and what a Retry click would do",
  description:
    "The decision its last failure gets under the current policy (the task's if this server defines the task, else the default; see policy) and whether a manual retry is allowed. Changes nothing.",
  params: jobIdParams,
  response: { 200: retryPreview, ...errorResponses(400, 401, 403, 404) },
} as const;

const stepView = {
  type: "object",
  required: [
    "name",
    "kind",
    "status",
    "attempt",
    "starts",
    "startedAt",
    "finishedAt",
    "durationMs",
    "resultBytes",
    "error",
  ],
  properties: {
    name: string,
    kind: { type: "string", enum: [...STEP_KINDS] },
    status: {
      type: "string",
      enum: ["running", "completed", "failed", "interrupted", "waiting"],
      description:
        "interrupted: its execution ended without finishing it (it runs again with the job); waiting: a sleep whose wake time is ahead.",
    },
    attempt: { type: ["integer", "null"], description: "The attempt that ran it last (null when unknown)." },
    starts: { type: "integer", description: "How many times it began: a failed step begins again on a later attempt." },
    startedAt: nullableTime,
    finishedAt: nullableTime,
    durationMs: { type: ["integer", "null"] },
    resultBytes: {
      type: ["integer", "null"],
      description: "Bytes of its stored result as JSON (read it at /jobs/:id/steps/:name); null until it completed.",
    },
    error: {
      type: ["object", "null"],
      description: "Why its last start failed, while it has not completed since.",
      required: ["code", "message"],
      properties: { code: string, message: string },
    },
  },
} as const;

export const listJobSteps = {
  tags: ["jobs"],
  operationId: "listJobSteps",
  summary: "A durable job's steps as a timeline",
  description:
    "One entry per ctx.step (and sleep, wait or approval) in the order they began: status, the attempt that ran it, timing, and its stored result's size. Built from the job's step.* events and stored steps.",
  params: jobIdParams,
  response: {
    200: { type: "object", required: ["items"], properties: { items: { type: "array", items: stepView } } },
    ...errorResponses(400, 401, 403, 404),
  },
} as const;

export const getJobStepResult = {
  tags: ["jobs"],
  operationId: "getJobStepResult",
  summary: "One step's stored result",
  description:
    "What the job stored for the step of this name (a ctx.step's value, a sleep's wake time, a wait's signal).",
  params: {
    type: "object",
    required: ["id", "name"],
    additionalProperties: false,
    properties: {
      id: { type: "string", minLength: 1, maxLength: 64, description: "A job id (ULID)." },
      name: { type: "string", minLength: 1, maxLength: 256, description: "The step's name, as the timeline lists it." },
    },
  },
  response: {
    200: {
      type: "object",
      required: ["name", "kind", "result"],
      properties: { name: string, kind: { type: "string", enum: [...STEP_KINDS] }, result: anyJson },
    },
    ...errorResponses(400, 401, 403, 404),
  },
} as const;

/** Retry, cancel or discard one job; `answer` is what the operation gives back. */
function jobAction<const Name extends string, const Summary extends string, const Answer>(
  name: Name,
  summary: Summary,
  answer: Answer,
) {
  return {
    tags: ["jobs"],
    operationId: `${name}Job`,
    summary,
    description:
      "Send the version you read in If-Match (or as version in the body) to act only if the job has not changed.",
    params: jobIdParams,
    body: versionBody,
    response: { 200: answer, ...errorResponses(400, 401, 403, 404, 409, 429) },
  } as const;
}

export const retryJob = jobAction("retry", "Retry a dead or cancelled job with a fresh set of attempts", ref("Job"));

export const cancelJob = jobAction("cancel", "Cancel a waiting job, or ask a running one to stop", {
  type: "object",
  required: ["job", "effect"],
  properties: {
    job: ref("Job"),
    effect: {
      type: "string",
      enum: ["cancelled", "requested"],
      description: "cancelled at once, or requested from the running handler.",
    },
  },
});

export const discardJob = jobAction("discard", "Delete a finished job and its attempts (its events stay)", {
  type: "object",
  required: ["id", "discarded"],
  properties: { id: { type: "string" }, discarded: { type: "boolean" } },
});

const bulkBody = {
  type: "object",
  additionalProperties: false,
  patternProperties: payloadFilterProperties,
  properties: {
    state: {
      type: "array",
      items: { type: "string" },
      maxItems: 6,
      description: "States to match; default: every state the operation applies to.",
    },
    ...jobFilterProperties,
    limit: {
      type: "integer",
      minimum: 1,
      maximum: 10_000,
      default: 100,
      description: "At most this many jobs (up to 10,000, as many as a count reaches), read 1,000 at a time.",
    },
  },
} as const;

const bulkResult = {
  type: "object",
  required: ["matched", "changed", "skipped"],
  properties: {
    matched: { type: "integer", description: "Jobs the filter matched (at most limit)." },
    changed: { type: "integer" },
    skipped: {
      type: "array",
      description: "Jobs that changed state or version while the operation ran, left as they were.",
      items: { type: "object", properties: { id: { type: "string" }, code: { type: "string" } } },
    },
  },
} as const;

/** The same operation on every job a filter matches. */
function bulkAction<const Name extends BulkOperation>(name: Name) {
  return {
    tags: ["jobs"],
    operationId: `${name}Jobs`,
    summary: `${name[0]?.toUpperCase()}${name.slice(1)} the jobs a filter matches, up to limit`,
    description: `Applies to ${BULK_STATES[name].join(", ")} jobs. Each job is changed in its own transaction, all in this one request (up to limit, 10,000 at most); jobs that changed meanwhile are skipped and listed with why.`,
    body: bulkBody,
    response: { 200: bulkResult, ...errorResponses(400, 401, 403) },
  } as const;
}

export const bulkJobs = { retry: bulkAction("retry"), cancel: bulkAction("cancel"), discard: bulkAction("discard") };

export type Job = Served<typeof jobSchema>;
export type JobState = Job["state"];
export type EnqueuedJob = Served<typeof enqueuedJobSchema>;
export type Attempt = Served<typeof attemptSchema>;
export type JobError = NonNullable<Job["lastError"]>;
export type EnqueueRequest = Accepted<typeof enqueueJobs.body>;
export type JobListQuery = Accepted<typeof listJobs.querystring>;
export type JobCountQuery = Accepted<typeof countJobs.querystring>;
export type JobCount = Served<(typeof countJobs.response)[200]>;
export type JobPage = Served<(typeof listJobs.response)[200]>;
export type JobDetail = Served<(typeof getJob.response)[200]>;
export type RetryPreview = Served<typeof retryPreview>;
export type JobStep = Served<typeof stepView>;
export type CancelResult = Served<(typeof cancelJob.response)[200]>;
export type BulkRequest = Accepted<typeof bulkBody>;
export type BulkResult = Served<typeof bulkResult>;
