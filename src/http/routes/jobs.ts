/**
 * /api/v1/jobs: enqueue (one or many), list with filters and cursor paging, read one with its
 * attempts and events, and operate on one or, through a filter, on many. Writes on one job
 * honour `If-Match` / `version` (409 VERSION_CONFLICT when stale).
 */
import type { FastifyInstance } from "fastify";
import { isOverseerError, jobNotFound, OverseerError } from "../../core/errors.js";
import { FINISHED_STATES, type Job, type JobState, type OverseerEvent } from "../../core/types.js";
import type { EnqueueItem, EnqueueOutcome, Overseer } from "../../sdk/overseer.js";
import { BusyGuard } from "../busy.js";
import { decodeCursor, pageLimit, pageOf } from "../cursor.js";
import { type JobFilterInput, jobFilterProperties, parseStates, toJobFilter } from "../job-filter.js";
import { errorResponses, jobIdParams, pageSchema, ref, versionBody } from "../schemas.js";
import { emptyBodyIsObject, etag, expectedVersion } from "../versions.js";

/** How many of a job's latest events its detail shows, and how far back it looks for them. */
const RECENT_EVENTS = 100;
const MAX_EVENTS_SCANNED = 10_000;

const durationLike = { type: ["string", "integer"], description: "Milliseconds, or a duration such as 30s, 5m." };

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
    backoff: { type: "object" },
    idempotencyKey: { type: "string", maxLength: 512 },
    idempotencyTtl: durationLike,
    concurrencyKey: { type: "string", maxLength: 512 },
    concurrency: { type: "object" },
    rateLimit: { type: "object" },
  },
} as const;

const enqueueItem = {
  type: "object",
  required: ["task"],
  additionalProperties: false,
  properties: { task: { type: "string" }, payload: {}, options: enqueueOptions },
} as const;

const listQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    state: { type: "string", description: "Comma-separated states, e.g. queued,running." },
    ...jobFilterProperties,
    limit: { type: "string", pattern: "^[0-9]{1,6}$", description: "Page size, 1-500; default 50." },
    cursor: { type: "string", maxLength: 200, description: "nextCursor of the previous page." },
    order: { type: "string", enum: ["desc", "asc"], description: "desc (newest first, the default) or asc." },
  },
} as const;

const bulkBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    state: {
      type: "array",
      items: { type: "string" },
      maxItems: 6,
      description: "States to match; default: every state the operation applies to.",
    },
    ...jobFilterProperties,
    limit: { type: "integer", minimum: 1, maximum: 1000, default: 100, description: "At most this many jobs." },
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

/** The states each bulk operation applies to, as in core/job-state.ts. */
const BULK = {
  retry: { states: ["dead", "cancelled"], scope: "operator" },
  cancel: { states: ["scheduled", "queued", "awaiting_approval", "running"], scope: "operator" },
  discard: { states: [...FINISHED_STATES], scope: "admin" },
} as const satisfies Record<string, { states: readonly JobState[]; scope: "operator" | "admin" }>;

type BulkName = keyof typeof BULK;

/** `busy`: the server's one guard, shared with the runs and approvals routes (see busy.ts). */
export function jobRoutes(overseer: Overseer, busy: BusyGuard = new BusyGuard()) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post(
      "/jobs",
      {
        config: { scope: "operator" },
        schema: {
          tags: ["jobs"],
          operationId: "enqueueJobs",
          summary: "Enqueue one job, or an array of jobs in one transaction",
          description:
            "201 when created; 200 when an idempotency key returned the existing job(s). A job of a task no worker has ever registered is enqueued all the same, with taskRegistered false and a TASK_NOT_REGISTERED warning.",
          body: { anyOf: [enqueueItem, { type: "array", minItems: 1, maxItems: 1000, items: enqueueItem }] },
          response: {
            200: { anyOf: [ref("EnqueuedJob"), { type: "array", items: ref("EnqueuedJob") }] },
            201: { anyOf: [ref("EnqueuedJob"), { type: "array", items: ref("EnqueuedJob") }] },
            ...errorResponses(400, 401, 403, 404, 409),
          },
        },
      },
      async (request, reply) => {
        const body = request.body as EnqueueItem | EnqueueItem[];
        // Recorded on each job: an approval it requests names this token as the requester.
        const by = (item: EnqueueItem): EnqueueItem => ({
          ...item,
          options: { ...item.options, enqueuedBy: request.token?.name },
        });
        const enqueued = (r: EnqueueOutcome) => ({
          ...r.job,
          taskRegistered: r.warnings.length === 0,
          warnings: r.warnings,
        });
        if (Array.isArray(body)) {
          const results = await overseer.enqueueManyWithResults(body.map(by));
          return reply.code(results.some((r) => r.created) ? 201 : 200).send(results.map(enqueued));
        }
        const item = by(body);
        const result = await overseer.enqueueWithResult(item.task, item.payload, item.options);
        return reply.code(result.created ? 201 : 200).send(enqueued(result));
      },
    );

    app.get(
      "/jobs",
      {
        config: { scope: "viewer" },
        schema: {
          tags: ["jobs"],
          operationId: "listJobs",
          summary: "List jobs, newest (or with order=asc oldest) first, one page at a time",
          querystring: listQuery,
          response: {
            200: pageSchema("Job"),
            ...errorResponses(400, 401, 403),
          },
        },
      },
      async (request) => {
        const query = request.query as JobFilterInput & { limit?: string; cursor?: string; order?: "asc" | "desc" };
        const limit = pageLimit(query.limit);
        const filter = toJobFilter(query);
        const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
        if (query.order === "asc") {
          filter.oldestFirst = true;
          if (after !== undefined) filter.afterId = after;
        } else if (after !== undefined) filter.beforeId = after;
        // One more than asked says whether there is a next page.
        const page = pageOf(await overseer.listJobs({ ...filter, limit: limit + 1 }), limit);
        return { ...page, items: await withTaskRegistered(overseer, page.items) };
      },
    );

    app.get(
      "/jobs/:id",
      {
        config: { scope: "viewer" },
        schema: {
          tags: ["jobs"],
          operationId: "getJob",
          summary: "A job with its attempts (and their errors), progress and latest events",
          params: jobIdParams,
          response: {
            200: {
              type: "object",
              required: ["job", "attempts", "events"],
              properties: {
                job: ref("Job"),
                attempts: { type: "array", items: ref("Attempt") },
                events: { type: "array", items: ref("Event"), description: `Its latest ${RECENT_EVENTS} events.` },
              },
            },
            ...errorResponses(400, 401, 403, 404),
          },
        },
      },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        const job = await requireJob(overseer, id);
        const [attempts, events] = await Promise.all([overseer.listAttempts(id), recentEvents(overseer, id)]);
        reply.header("etag", etag(job.version));
        const [marked] = await withTaskRegistered(overseer, [job]);
        return { job: marked, attempts, events };
      },
    );

    app.get(
      "/jobs/:id/retry-preview",
      {
        config: { scope: "viewer" },
        schema: {
          tags: ["jobs"],
          operationId: "previewJobRetry",
          summary: "What the retry policy says about the job now, and what a Retry click would do",
          description:
            "The decision its last failure gets under the current policy (the task's if this server defines the task, else the default; see policy) and whether a manual retry is allowed. Changes nothing.",
          params: jobIdParams,
          response: { 200: retryPreviewResponse, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request) => overseer.retryPreview((request.params as { id: string }).id),
    );

    const action = (name: "retry" | "cancel" | "discard", scope: "operator" | "admin", summary: string) => {
      app.post(
        `/jobs/:id/${name}`,
        {
          config: { scope },
          preValidation: emptyBodyIsObject,
          schema: {
            tags: ["jobs"],
            operationId: `${name}Job`,
            summary,
            description:
              "Send the version you read in If-Match (or as version in the body) to act only if the job has not changed.",
            params: jobIdParams,
            body: versionBody,
            response: { 200: actionResponses[name], ...errorResponses(400, 401, 403, 404, 409, 429) },
          },
        },
        async (request) => {
          const { id } = request.params as { id: string };
          const version = expectedVersion(request);
          return busy.run([`job:${id}`], async () => {
            if (name === "retry") return overseer.retry(id, { expectedVersion: version });
            if (name === "cancel") return overseer.cancel(id, { expectedVersion: version });
            await overseer.discard(id, { expectedVersion: version });
            return { id, discarded: true };
          });
        },
      );
    };
    action("retry", "operator", "Retry a dead or cancelled job with a fresh set of attempts");
    action("cancel", "operator", "Cancel a waiting job, or ask a running one to stop");
    action("discard", "admin", "Delete a finished job and its attempts (its events stay)");

    for (const name of Object.keys(BULK) as BulkName[]) {
      app.post(
        `/jobs/${name}`,
        {
          config: { scope: BULK[name].scope },
          preValidation: emptyBodyIsObject,
          schema: {
            tags: ["jobs"],
            operationId: `${name}Jobs`,
            summary: `${name[0]?.toUpperCase()}${name.slice(1)} the jobs a filter matches, up to limit`,
            description: `Applies to ${BULK[name].states.join(", ")} jobs. Each job is changed in its own transaction; jobs that changed meanwhile are skipped.`,
            body: bulkBody,
            response: { 200: bulkResult, ...errorResponses(400, 401, 403) },
          },
        },
        async (request) => runBulk(overseer, busy, name, request.body as JobFilterInput & { limit: number }),
      );
    }
  };
}

const actionResponses = {
  retry: ref("Job"),
  cancel: {
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
  },
  discard: {
    type: "object",
    required: ["id", "discarded"],
    properties: { id: { type: "string" }, discarded: { type: "boolean" } },
  },
} as const;

const retryPreviewResponse = {
  type: "object",
  required: ["job", "state", "attempts", "maxAttempts", "policy", "decision", "manualRetry", "summary"],
  properties: {
    job: { type: "string" },
    state: { type: "string" },
    attempts: { type: "integer" },
    maxAttempts: { type: "integer" },
    policy: { type: "string", enum: ["task", "default"], description: "Whose retry policy decided." },
    classification: {
      type: ["object", "null"],
      properties: { errorClass: { type: "string", enum: ["transient", "permanent"] }, rule: { type: "string" } },
    },
    decision: {
      type: ["object", "null"],
      description: "null when there is no failure to decide on (running, succeeded, cancelled, not failed yet).",
      properties: {
        retry: { type: "boolean" },
        reason: {
          type: "string",
          enum: ["auto_retry", "permanent_error", "retry_disabled", "max_attempts_exceeded", "lease_expired"],
        },
        delayMs: { type: "integer", description: "The backoff before the retry, without jitter." },
      },
    },
    retryAt: { type: ["string", "null"], description: "When the scheduled retry starts, for auto_retry." },
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
  },
} as const;

async function requireJob(overseer: Overseer, id: string): Promise<Job> {
  const job = await overseer.getJob(id);
  if (!job) throw jobNotFound(id);
  return job;
}

async function recentEvents(overseer: Overseer, jobId: string): Promise<OverseerEvent[]> {
  let recent: OverseerEvent[] = [];
  let afterSeq = 0;
  for (let scanned = 0; scanned < MAX_EVENTS_SCANNED; ) {
    const page = await overseer.readEvents({ jobId, afterSeq, limit: 1_000 });
    recent = [...recent, ...page].slice(-RECENT_EVENTS);
    scanned += page.length;
    const last = page.at(-1);
    if (!last || page.length < 1_000) break;
    afterSeq = last.seq;
  }
  return recent;
}

async function runBulk(
  overseer: Overseer,
  busy: BusyGuard,
  name: BulkName,
  body: JobFilterInput & { limit: number },
): Promise<{ matched: number; changed: number; skipped: Array<{ id: string; code: string }> }> {
  const applies: readonly JobState[] = BULK[name].states;
  const asked = parseStates(body.state);
  const outside = asked?.filter((s) => !applies.includes(s)) ?? [];
  if (outside.length > 0) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `${name} applies only to ${applies.join(", ")} jobs; not ${outside.join(", ")}`,
      {
        field: "state",
      },
    );
  }
  const jobs = await overseer.listJobs({ ...toJobFilter(body), states: asked ?? applies, limit: body.limit });
  let changed = 0;
  const skipped: Array<{ id: string; code: string }> = [];
  for (const job of jobs) {
    // The version matched now: a job someone changed since it was listed is left alone.
    const check = { expectedVersion: job.version };
    try {
      // A job someone is acting on right now is skipped (BUSY), as one that changed is.
      await busy.run([`job:${job.id}`], async () => {
        if (name === "retry") await overseer.retry(job.id, check);
        else if (name === "cancel") await overseer.cancel(job.id, check);
        else await overseer.discard(job.id, check);
      });
      changed++;
    } catch (err) {
      if (
        !isOverseerError(err) ||
        !["INVALID_TRANSITION", "JOB_NOT_FOUND", "VERSION_CONFLICT", "BUSY"].includes(err.code)
      ) {
        throw err;
      }
      skipped.push({ id: job.id, code: err.code });
    }
  }
  return { matched: jobs.length, changed, skipped };
}

/** The jobs, each saying whether its task is known: from memory, reading the registry only for names not known yet. */
async function withTaskRegistered(overseer: Overseer, jobs: readonly Job[]): Promise<Job[]> {
  const unknown = new Set(await overseer.unregisteredTasks(jobs.map((j) => j.task)));
  return jobs.map((j) => ({ ...j, taskRegistered: !unknown.has(j.task) }));
}
