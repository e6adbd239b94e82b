/**
 * /api/v1/jobs: enqueue (one or many), list with filters and cursor paging, read one with its
 * attempts and events, and operate on one or, through a filter, on many. Writes on one job
 * honour `If-Match` / `version` (409 VERSION_CONFLICT when stale).
 */
import type { FastifyInstance } from "fastify";
import { isOverseerError, jobNotFound, OverseerError } from "../../core/errors.js";
import type { Job, JobState, OverseerEvent } from "../../core/types.js";
import { traceRoute } from "../../engine/tracing.js";
import type { EnqueueItem, EnqueueOutcome, Overseer } from "../../sdk/overseer.js";
import { BusyGuard } from "../busy.js";
import type { BulkOperation, BulkRequest } from "../contract/jobs.js";
import * as contract from "../contract/jobs.js";
import { decodeCursor, pageLimit, pageOf } from "../cursor.js";
import { parseStates, toJobFilter } from "../job-filter.js";
import { typed } from "../type-provider.js";
import { emptyBodyIsObject, etag, expectedVersion } from "../versions.js";

/** How far back a job's detail looks for its latest events. */
const MAX_EVENTS_SCANNED = 10_000;

/** How many jobs a bulk operation reads at a time. */
const BULK_PAGE = 1_000;

/** Who may run each bulk operation; the states each applies to are in the contract. */
const BULK_SCOPES = { retry: "operator", cancel: "operator", discard: "admin" } as const;

/** `busy`: the server's one guard, shared with the runs and approvals routes (see busy.ts). */
export function jobRoutes(overseer: Overseer, busy: BusyGuard = new BusyGuard()) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = typed(fastify);
    app.post("/jobs", { config: { scope: "operator" }, schema: contract.enqueueJobs }, (request, reply) => {
      // With an OpenTelemetry SDK installed, a trace starts here, or goes on from the caller's.
      const route = { method: request.method, url: request.url, route: request.routeOptions.url ?? "/api/v1/jobs" };
      return traceRoute({ ...route, headers: request.headers }, reply, async () => {
        // The options' inner shapes (backoff, concurrency, rate limit) are the SDK's to check.
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
      });
    });

    app.get("/jobs", { config: { scope: "viewer" }, schema: contract.listJobs }, async (request) => {
      const query = request.query;
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
    });

    app.get("/jobs/count", { config: { scope: "viewer" }, schema: contract.countJobs }, async (request) => {
      // One more than the cap tells "exactly the cap" from "more than it".
      const n = await overseer.countMatchingJobs(toJobFilter(request.query), contract.COUNT_CAP + 1);
      return { count: Math.min(n, contract.COUNT_CAP), capped: n > contract.COUNT_CAP };
    });

    app.get("/tasks", { config: { scope: "viewer" }, schema: contract.listTaskNames }, async () => {
      const registered = (await overseer.knownTasks.list()).map((t) => t.name);
      return { items: [...new Set([...registered, ...overseer.taskNames])].sort() };
    });

    app.get("/jobs/:id", { config: { scope: "viewer" }, schema: contract.getJob }, async (request, reply) => {
      const { id } = request.params;
      const job = await requireJob(overseer, id);
      const [attempts, events] = await Promise.all([overseer.listAttempts(id), recentEvents(overseer, id)]);
      // A job with fewer events than the window has them all here already; only a longer one
      // needs its lifecycle read apart, past the step and log events that fill the window.
      const lifecycle =
        events.length < contract.RECENT_EVENTS
          ? events.filter((e) => e.kind.startsWith("job."))
          : await recentEvents(overseer, id, "job.");
      reply.header("etag", etag(job.version));
      const [marked] = await withTaskRegistered(overseer, [job] as const);
      return { job: marked, attempts, events, lifecycle };
    });

    app.get(
      "/jobs/:id/retry-preview",
      { config: { scope: "viewer" }, schema: contract.previewJobRetry },
      async (request) => overseer.retryPreview(request.params.id),
    );

    app.get("/jobs/:id/steps", { config: { scope: "viewer" }, schema: contract.listJobSteps }, async (request) => ({
      items: await overseer.jobSteps(request.params.id),
    }));
    app.get(
      "/jobs/:id/steps/:name",
      { config: { scope: "viewer" }, schema: contract.getJobStepResult },
      async (request) => overseer.jobStepResult(request.params.id, request.params.name),
    );

    const actions = { retry: contract.retryJob, cancel: contract.cancelJob, discard: contract.discardJob };
    app.post(
      "/jobs/:id/retry",
      { config: { scope: "operator" }, preValidation: emptyBodyIsObject, schema: actions.retry },
      async (request) => {
        const { id } = request.params;
        const version = expectedVersion(request);
        return busy.run([`job:${id}`], () => overseer.retry(id, { expectedVersion: version }));
      },
    );
    app.post(
      "/jobs/:id/cancel",
      { config: { scope: "operator" }, preValidation: emptyBodyIsObject, schema: actions.cancel },
      async (request) => {
        const { id } = request.params;
        const version = expectedVersion(request);
        return busy.run([`job:${id}`], () => overseer.cancel(id, { expectedVersion: version }));
      },
    );
    app.post(
      "/jobs/:id/discard",
      { config: { scope: "admin" }, preValidation: emptyBodyIsObject, schema: actions.discard },
      async (request) => {
        const { id } = request.params;
        const version = expectedVersion(request);
        return busy.run([`job:${id}`], async () => {
          await overseer.discard(id, { expectedVersion: version });
          return { id, discarded: true };
        });
      },
    );

    for (const name of Object.keys(contract.BULK_STATES) as BulkOperation[]) {
      app.post(
        `/jobs/${name}`,
        {
          config: { scope: BULK_SCOPES[name] },
          preValidation: emptyBodyIsObject,
          schema: contract.bulkJobs[name],
        },
        async (request) => runBulk(overseer, busy, name, request.body),
      );
    }
  };
}

async function requireJob(overseer: Overseer, id: string): Promise<Job> {
  const job = await overseer.getJob(id);
  if (!job) throw jobNotFound(id);
  return job;
}

async function recentEvents(overseer: Overseer, jobId: string, kindPrefix?: string): Promise<OverseerEvent[]> {
  let recent: OverseerEvent[] = [];
  let afterSeq = 0;
  for (let scanned = 0; scanned < MAX_EVENTS_SCANNED; ) {
    const page = await overseer.readEvents({ jobId, afterSeq, limit: 1_000, ...(kindPrefix ? { kindPrefix } : {}) });
    recent = [...recent, ...page].slice(-contract.RECENT_EVENTS);
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
  name: BulkOperation,
  body: BulkRequest,
): Promise<{ matched: number; changed: number; skipped: Array<{ id: string; code: string }> }> {
  const applies: readonly JobState[] = contract.BULK_STATES[name];
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
  const filter = { ...toJobFilter(body), states: asked ?? applies };
  const limit = body.limit ?? 100;
  let matched = 0;
  let changed = 0;
  const skipped: Array<{ id: string; code: string }> = [];
  // Read a page at a time, newest first, each after the last id seen: a job changed here leaves
  // the filter or not, and either way is never read twice.
  let beforeId: string | undefined;
  while (matched < limit) {
    const jobs = await overseer.listJobs({ ...filter, beforeId, limit: Math.min(BULK_PAGE, limit - matched) });
    if (jobs.length === 0) break;
    matched += jobs.length;
    beforeId = jobs.at(-1)?.id;
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
  }
  return { matched, changed, skipped };
}

/** The jobs, each saying whether its task is known: from memory, reading the registry only for names not known yet. */
async function withTaskRegistered<const Jobs extends readonly Job[]>(
  overseer: Overseer,
  jobs: Jobs,
): Promise<{ [K in keyof Jobs]: Job }> {
  const unknown = new Set(await overseer.unregisteredTasks(jobs.map((j) => j.task)));
  // One job out for each job in: a tuple in is a tuple of the same length out.
  return jobs.map((j) => ({ ...j, taskRegistered: !unknown.has(j.task) })) as { [K in keyof Jobs]: Job };
}
