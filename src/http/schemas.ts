/**
 * JSON schemas of what the API returns and accepts. Fastify validates requests and serialises
 * responses with them, and the OpenAPI document is generated from them, so the three cannot
 * drift apart. Shared records are registered once by `$id` and referenced as `Name#`.
 */
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
  properties: { code: string, message: string, retryable: { type: "boolean" } },
} as const;

/**
 * An attempt's error, with the stack the handler's error had, if any. That stack is the job's
 * own record of the user's code failing, kept like its payload and result; the API's own
 * failures never carry a stack (see errors.ts).
 */
const attemptError = {
  type: ["object", "null"],
  required: ["code", "message", "retryable"],
  properties: { code: string, message: string, retryable: { type: "boolean" }, stack: string },
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
    progress: anyJson,
    lastError: jobError,
    leaseOwner: nullableString,
    leaseExpiresAt: nullableTime,
    cancelRequested: { type: "boolean" },
    createdAt: isoTime,
    startedAt: nullableTime,
    finishedAt: nullableTime,
    version: { type: "integer", description: "Bumped on every write; send it back in If-Match to write safely." },
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
    outcome: { type: "string", enum: ["running", "succeeded", "failed", "lost", "released", "cancelled"] },
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

export const SHARED_SCHEMAS = [
  errorEnvelopeSchema,
  jobSchema,
  attemptSchema,
  eventSchema,
  queueSchema,
  workerSchema,
  scheduleSchema,
];

export const ref = (id: string) => ({ $ref: `${id}#` });

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
