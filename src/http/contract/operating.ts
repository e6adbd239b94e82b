/**
 * /api/v1/queues, /workers, /concurrency and /stats: the queue, worker and concurrency key
 * records, and the schemas of what an operator watches (depth, workers, keys at their limit,
 * throughput and latency) and of pausing or resuming a queue.
 */
import { EXECUTION_MODES } from "../../core/execution.js";
import { JOB_STATES, type JobState } from "../../core/types.js";
import { errorResponses, integer, isoTime, nullableTime, ref, type Served, string, versionBody } from "./schema.js";

type ByState<Count> = { readonly [S in JobState]: Count };
const byState = <const Count>(count: Count) => Object.fromEntries(JOB_STATES.map((s) => [s, count])) as ByState<Count>;

export const queueSchema = {
  $id: "Queue",
  type: "object",
  required: ["name", "paused", "counts", "version", "breaker"],
  properties: {
    name: string,
    paused: { type: "boolean" },
    counts: { type: "object", required: [...JOB_STATES], properties: byState(integer) },
    version: { type: "integer", description: "Bumped by every pause or resume; 0 if never paused or resumed." },
    breaker: {
      type: ["object", "null"],
      description: "Its circuit breaker when open or half-open; null when closed.",
      required: ["state", "openedAt", "probeAt", "probeJobId", "trip"],
      properties: {
        state: { type: "string", enum: ["open", "half_open"] },
        openedAt: isoTime,
        probeAt: {
          ...isoTime,
          description: "When an open breaker lets its probe run; when a half-open one picked it.",
        },
        probeJobId: { type: ["string", "null"], description: "The half-open breaker's probe job." },
        trip: {
          type: "object",
          required: ["attempts", "failures", "windowMs", "divertTo"],
          properties: {
            attempts: integer,
            failures: integer,
            windowMs: integer,
            divertTo: { type: ["string", "null"], description: "The task its due jobs go to while open." },
          },
        },
      },
    },
    oldestWaitingAgeMs: {
      type: ["integer", "null"],
      description: "How long the oldest queued job has been due, in ms; null when none is queued.",
    },
  },
} as const;

export const workerJobSchema = {
  $id: "WorkerJob",
  type: "object",
  required: ["id", "task", "queue", "workerId", "startedAt", "held"],
  properties: {
    id: string,
    task: string,
    queue: string,
    workerId: string,
    startedAt: { ...nullableTime, description: "When its attempt started; null while it is held." },
    held: {
      type: "boolean",
      description: "Claimed ahead of a free slot (prefetch) and not started: it takes no slot.",
    },
  },
} as const;

export const workerSchema = {
  $id: "Worker",
  type: "object",
  required: [
    "id",
    "name",
    "host",
    "pid",
    "status",
    "heartbeatAt",
    "heartbeatAgeMs",
    "runningJobs",
    "command",
    "commandAt",
    "processed",
    "failed",
    "busy",
    "utilization",
    "jobs",
  ],
  properties: {
    id: string,
    name: string,
    host: string,
    pid: integer,
    queues: { type: ["array", "null"], items: string },
    tasks: { type: "array", items: string },
    concurrency: integer,
    status: {
      type: "string",
      enum: ["active", "quiet", "stopping", "stopped", "lost"],
      description: "quiet: it claims nothing more and finishes what it runs; stopping: it finishes them to stop.",
    },
    startedAt: isoTime,
    heartbeatAt: isoTime,
    stoppedAt: nullableTime,
    heartbeatAgeMs: integer,
    runningJobs: { type: "array", items: string, description: "Ids of the jobs it holds leases on." },
    command: {
      type: ["string", "null"],
      enum: ["quiet", "stop", null],
      description: "What an operator asked of it and it reads at its next heartbeat; null for nothing.",
    },
    commandAt: nullableTime,
    processed: { type: "integer", description: "Attempts it ran to an outcome, as of its last heartbeat." },
    failed: { type: "integer", description: "Of those, the ones that failed or were cancelled." },
    busy: { type: "integer", description: "Its busy slots: the jobs it runs now (held ones take none)." },
    utilization: { type: "number", description: "busy / concurrency, from 0 to 1." },
    jobs: { type: "array", items: ref("WorkerJob"), description: "The jobs it holds leases on, oldest start first." },
  },
} as const;

export const concurrencyKeySchema = {
  $id: "ConcurrencyKey",
  type: "object",
  required: ["key", "running", "waiting", "limit"],
  properties: {
    key: string,
    running: {
      type: "integer",
      description: "Its jobs running now (claimed ones included): what the limit is weighed against.",
    },
    waiting: { type: "integer", description: "Its queued jobs: due, waiting for a claim and a free slot of the key." },
    limit: {
      type: "integer",
      description: "The largest limit its unfinished jobs carry (jobs of one key normally share one).",
    },
  },
} as const;

export const listConcurrencyKeys = {
  tags: ["queues"],
  operationId: "listConcurrencyKeys",
  summary: "Concurrency keys that have unfinished jobs: running and waiting jobs, and the limit",
  description:
    "By key name, paged with cursor; or order=busiest for the busiest keys (running, then waiting jobs), one " +
    "page without a cursor. keys and limitedJobs are over every key: how many there are, and how many queued " +
    "jobs their key holds back now (it has as many jobs running as their limit).",
  querystring: {
    type: "object",
    additionalProperties: false,
    properties: {
      order: { type: "string", enum: ["key", "busiest"], description: "key (the default) or busiest." },
      limit: { type: "string", pattern: "^[0-9]{1,6}$", description: "Page size, 1-500; default 50." },
      cursor: { type: "string", maxLength: 2200, description: "nextCursor of the previous page (order=key)." },
    },
  },
  response: {
    200: {
      type: "object",
      required: ["items", "nextCursor", "keys", "limitedJobs"],
      properties: {
        items: { type: "array", items: ref("ConcurrencyKey") },
        nextCursor: { type: ["string", "null"], description: "Pass as cursor for the next page." },
        keys: { type: "integer", description: "Concurrency keys that have unfinished jobs." },
        limitedJobs: { type: "integer", description: "Queued jobs their key holds back now." },
      },
    },
    ...errorResponses(400, 401, 403),
  },
} as const;

export const listQueues = {
  tags: ["queues"],
  operationId: "listQueues",
  summary: "Every queue: depth by state, the oldest waiting job's age, paused or not",
  response: {
    200: { type: "object", required: ["items"], properties: { items: { type: "array", items: ref("Queue") } } },
    ...errorResponses(401, 403),
  },
} as const;

const queueParams = {
  type: "object",
  required: ["name"],
  additionalProperties: false,
  properties: { name: { type: "string", minLength: 1, maxLength: 128, description: "The queue's name." } },
} as const;

function queueAction<const Name extends "pause" | "resume">(name: Name) {
  return {
    tags: ["queues"],
    operationId: `${name}Queue`,
    summary: name === "pause" ? "Stop workers claiming from a queue" : "Let workers claim from a queue again",
    description: "Send the version you read in If-Match (or as version in the body) to act only if it has not changed.",
    params: queueParams,
    body: versionBody,
    response: { 200: ref("Queue"), ...errorResponses(400, 401, 403, 409) },
  } as const;
}

export const pauseQueue = queueAction("pause");
export const resumeQueue = queueAction("resume");

export const resetBreaker = {
  tags: ["queues"],
  operationId: "resetQueueBreaker",
  summary: "Close a queue's circuit breaker by hand",
  description:
    "Its jobs run again at once, without waiting for a probe. 409 BREAKER_NOT_OPEN when the breaker is closed.",
  params: queueParams,
  body: { type: "object", additionalProperties: false, properties: {} },
  response: { 200: ref("Queue"), ...errorResponses(400, 401, 403, 409) },
} as const;

export const listWorkers = {
  tags: ["workers"],
  operationId: "listWorkers",
  summary: "Every registered worker: status, heartbeat age, the jobs it runs",
  response: {
    200: {
      type: "object",
      required: ["items"],
      properties: { items: { type: "array", items: ref("Worker") } },
    },
    ...errorResponses(401, 403),
  },
} as const;

const workerParams = {
  type: "object",
  required: ["id"],
  additionalProperties: false,
  properties: { id: { type: "string", minLength: 1, maxLength: 128, description: "The worker's id." } },
} as const;

export const getWorker = {
  tags: ["workers"],
  operationId: "getWorker",
  summary: "One worker: status, counts, utilization and the jobs it runs",
  params: workerParams,
  response: { 200: ref("Worker"), ...errorResponses(401, 403, 404) },
} as const;

const WORKER_ACTIONS = {
  quiet: {
    summary: "Quiet a worker: it claims nothing more and finishes what it runs",
    description:
      "The worker reads the command at its next heartbeat (at once if it runs in the server's process), hands " +
      "back the jobs it holds unstarted and shows as quiet. 409 WORKER_INVALID_TRANSITION when it has stopped " +
      "or is lost, or a stop was asked for.",
  },
  stop: {
    summary: "Stop a worker gracefully: it goes quiet, then stops once its jobs finish",
    description:
      "Its jobs get the worker's shutdown timeout to finish; an `overseer worker` process that runs nothing " +
      "else then exits 0. 409 WORKER_INVALID_TRANSITION when it has stopped or is lost.",
  },
  resume: {
    summary: "Let a quiet worker claim again",
    description: "409 WORKER_INVALID_TRANSITION when it has stopped or is lost, or a stop was asked for.",
  },
} as const;

function workerAction<const Name extends keyof typeof WORKER_ACTIONS>(name: Name) {
  return {
    tags: ["workers"],
    operationId: `${name}Worker`,
    ...WORKER_ACTIONS[name],
    params: workerParams,
    body: { type: "object", additionalProperties: false, properties: {} },
    response: { 200: ref("Worker"), ...errorResponses(400, 401, 403, 404, 409) },
  } as const;
}

export const quietWorker = workerAction("quiet");
export const stopWorker = workerAction("stop");
export const resumeWorker = workerAction("resume");

const countsByState = { type: "object", properties: byState({ type: "integer" }) } as const;

const percentiles = {
  type: "object",
  required: ["count", "p50", "p95", "p99", "max"],
  properties: {
    count: { type: "integer" },
    p50: { type: ["integer", "null"] },
    p95: { type: ["integer", "null"] },
    p99: { type: ["integer", "null"] },
    max: { type: ["integer", "null"] },
  },
} as const;

const byOutcome = {
  type: "object",
  required: ["succeeded", "dead", "cancelled"],
  properties: { succeeded: { type: "number" }, dead: { type: "number" }, cancelled: { type: "number" } },
} as const;

const minuteBucket = {
  type: "object",
  required: ["start", "succeeded", "dead", "cancelled", "runMsP50", "runMsP95"],
  properties: {
    start: { type: "string", format: "date-time" },
    succeeded: { type: "integer" },
    dead: { type: "integer" },
    cancelled: { type: "integer" },
    runMsP50: { type: ["integer", "null"] },
    runMsP95: { type: ["integer", "null"] },
  },
} as const;

export const getStats = {
  tags: ["stats"],
  operationId: "getStats",
  summary: "Counts by state and queue; throughput and latency of the jobs finished in the last minutes",
  querystring: {
    type: "object",
    additionalProperties: false,
    properties: {
      minutes: { type: "string", pattern: "^[0-9]{1,4}$", description: "Window length, 1-60; default 5." },
    },
  },
  response: {
    200: {
      type: "object",
      required: ["counts", "queues", "window", "execution"],
      properties: {
        execution: {
          type: "string",
          enum: [...EXECUTION_MODES],
          description: "Whether handlers may do their side effects now (see GET /execution).",
        },
        counts: countsByState,
        queues: { type: "object", additionalProperties: countsByState },
        window: {
          type: "object",
          required: [
            "minutes",
            "coveredMs",
            "finished",
            "throughputPerMinute",
            "waitMs",
            "runMs",
            "truncated",
            "perMinute",
          ],
          properties: {
            minutes: { type: "integer" },
            coveredMs: {
              type: "integer",
              description:
                "How much of the window has data: the window, or less when the oldest event is younger. The rates divide by it.",
            },
            finished: byOutcome,
            throughputPerMinute: byOutcome,
            waitMs: percentiles,
            runMs: percentiles,
            truncated: { type: "boolean" },
            perMinute: {
              type: "array",
              description:
                "The window in whole minutes, oldest first, the last one still filling: jobs finished by outcome and their run time p50/p95 (ms).",
              items: minuteBucket,
            },
          },
        },
      },
    },
    ...errorResponses(400, 401, 403),
  },
} as const;

const nullableMs = { type: ["integer", "null"] } as const;
const quantiles = {
  type: "object",
  required: ["p50", "p95"],
  description: "Percentiles in ms from log-spaced histograms: within ±19% (see docs/operations.md); null with no jobs.",
  properties: { p50: nullableMs, p95: nullableMs },
} as const;
const seriesSummary = {
  succeeded: integer,
  dead: integer,
  cancelled: integer,
  retries: { type: "integer", description: "Attempts that failed and were retried (counted when the job finished)." },
  failures: { type: "integer", description: "dead + retries: every failed attempt." },
  waitMs: quantiles,
  runMs: quantiles,
} as const;
const SUMMARY_FIELDS = ["succeeded", "dead", "cancelled", "retries", "failures", "waitMs", "runMs"] as const;
const namedSummary = {
  type: "object",
  required: ["name", ...SUMMARY_FIELDS],
  properties: { name: string, ...seriesSummary },
} as const;

export const getStatsSeries = {
  tags: ["stats"],
  operationId: "getStatsSeries",
  summary: "Throughput, failures and wait/run p50/p95 over 1h, 6h, 24h or 7d, in buckets, per queue and per task",
  description:
    "Read from per-minute rollups kept 7 days (and, for the last minutes not rolled up yet, from the jobs). Buckets: 1 min for 1h, 5 min for 6h, 15 min for 24h, 1 h for 7d; the last one holds now and is still filling.",
  querystring: {
    type: "object",
    additionalProperties: false,
    properties: {
      range: { type: "string", enum: ["1h", "6h", "24h", "7d"], description: "Default 1h." },
      queue: { type: "string", description: "Only this queue's jobs." },
      task: { type: "string", description: "Only this task's jobs." },
    },
  },
  response: {
    200: {
      type: "object",
      required: [
        "range",
        "bucketMs",
        "from",
        "to",
        "queue",
        "task",
        "rolledUpThrough",
        "truncated",
        "buckets",
        "total",
        "byQueue",
        "byTask",
      ],
      properties: {
        range: { type: "string", enum: ["1h", "6h", "24h", "7d"] },
        bucketMs: integer,
        from: isoTime,
        to: { ...isoTime, description: "The end of the last bucket (after now)." },
        queue: { type: ["string", "null"] },
        task: { type: ["string", "null"] },
        rolledUpThrough: {
          ...nullableTime,
          description: "Jobs finished before this were read from rollups, later ones from the jobs table.",
        },
        truncated: {
          type: "boolean",
          description: "More jobs finished since the last rollup than one read takes: the counts are lower bounds.",
        },
        buckets: {
          type: "array",
          description: "Every bucket of the range, oldest first.",
          items: {
            type: "object",
            required: ["start", ...SUMMARY_FIELDS],
            properties: { start: isoTime, ...seriesSummary },
          },
        },
        total: {
          type: "object",
          required: [...SUMMARY_FIELDS, "perMinute"],
          properties: {
            ...seriesSummary,
            perMinute: {
              type: "number",
              description: "Finished jobs per minute over the part of the range that has data (since the oldest).",
            },
          },
        },
        byQueue: { type: "array", description: "The 10 queues with the most finished jobs.", items: namedSummary },
        byTask: { type: "array", description: "The 10 tasks with the most finished jobs.", items: namedSummary },
      },
    },
    ...errorResponses(400, 401, 403),
  },
} as const;

export type Queue = Served<typeof queueSchema>;
export type Worker = Served<typeof workerSchema>;
export type WorkerJob = Served<typeof workerJobSchema>;
export type ConcurrencyKey = Served<typeof concurrencyKeySchema>;
export type ConcurrencyPage = Served<(typeof listConcurrencyKeys.response)[200]>;
export type Stats = Served<(typeof getStats.response)[200]>;
export type MinuteBucket = Served<typeof minuteBucket>;
export type Counts = Stats["counts"];
export type StatsSeries = Served<(typeof getStatsSeries.response)[200]>;
export type SeriesRange = StatsSeries["range"];
