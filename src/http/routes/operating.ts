/**
 * /api/v1/queues, /workers and /stats: what an operator watches, and pausing or resuming a
 * queue (with `If-Match` / `version` like every write).
 */
import type { FastifyInstance } from "fastify";
import { OverseerError } from "../../core/errors.js";
import { FINISHED_STATES, JOB_STATES } from "../../core/types.js";
import type { Overseer } from "../../sdk/overseer.js";
import { errorResponses, ref, versionBody } from "../schemas.js";
import { minuteBuckets, windowStats } from "../stats.js";
import { emptyBodyIsObject, expectedVersion } from "../versions.js";

/** At most this many running jobs are read to tell which worker holds which. */
const MAX_RUNNING_READ = 10_000;
/** At most this many finished jobs are read for the stats window. */
const MAX_FINISHED_READ = 20_000;

const countsByState = {
  type: "object",
  properties: Object.fromEntries(JOB_STATES.map((s) => [s, { type: "integer" }])),
} as const;

const percentiles = {
  type: "object",
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
  properties: { succeeded: { type: "number" }, dead: { type: "number" }, cancelled: { type: "number" } },
} as const;

const queueParams = {
  type: "object",
  required: ["name"],
  additionalProperties: false,
  properties: { name: { type: "string", minLength: 1, maxLength: 128, description: "The queue's name." } },
} as const;

export function operatingRoutes(overseer: Overseer) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      "/queues",
      {
        config: { scope: "viewer" },
        schema: {
          tags: ["queues"],
          operationId: "listQueues",
          summary: "Every queue: depth by state, the oldest waiting job's age, paused or not",
          response: {
            200: { type: "object", required: ["items"], properties: { items: { type: "array", items: ref("Queue") } } },
            ...errorResponses(401, 403),
          },
        },
      },
      async () => {
        const [queues, now] = await Promise.all([overseer.listQueues(), overseer.now()]);
        const items = await Promise.all(
          queues.map(async (q) => {
            if (q.counts.queued === 0) return { ...q, oldestWaitingAgeMs: null };
            // Ids are time-ordered: the oldest queued job by creation, a close and cheap proxy.
            const [oldest] = await overseer.listJobs({
              queue: q.name,
              states: ["queued"],
              oldestFirst: true,
              limit: 1,
            });
            return { ...q, oldestWaitingAgeMs: oldest ? Math.max(0, now - Date.parse(oldest.runAt)) : null };
          }),
        );
        return { items };
      },
    );

    for (const name of ["pause", "resume"] as const) {
      app.post(
        `/queues/:name/${name}`,
        {
          config: { scope: "operator" },
          preValidation: emptyBodyIsObject,
          schema: {
            tags: ["queues"],
            operationId: `${name}Queue`,
            summary: name === "pause" ? "Stop workers claiming from a queue" : "Let workers claim from a queue again",
            description:
              "Send the version you read in If-Match (or as version in the body) to act only if it has not changed.",
            params: queueParams,
            body: versionBody,
            response: { 200: ref("Queue"), ...errorResponses(400, 401, 403, 409) },
          },
        },
        async (request) => {
          const queue = (request.params as { name: string }).name;
          const check = { expectedVersion: expectedVersion(request) };
          return name === "pause" ? overseer.pauseQueue(queue, check) : overseer.resumeQueue(queue, check);
        },
      );
    }

    app.get(
      "/workers",
      {
        config: { scope: "viewer" },
        schema: {
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
        },
      },
      async () => {
        const [workers, running, now] = await Promise.all([
          overseer.listWorkers(),
          overseer.listJobs({ states: ["running"], limit: MAX_RUNNING_READ }),
          overseer.now(),
        ]);
        const held = new Map<string, string[]>();
        for (const job of running) {
          if (job.leaseOwner === null) continue;
          held.set(job.leaseOwner, [...(held.get(job.leaseOwner) ?? []), job.id]);
        }
        const items = workers.map((w) => ({
          ...w,
          heartbeatAgeMs: Math.max(0, now - Date.parse(w.heartbeatAt)),
          runningJobs: held.get(w.id) ?? [],
        }));
        return { items };
      },
    );

    app.get(
      "/stats",
      {
        config: { scope: "viewer" },
        schema: {
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
              required: ["counts", "queues", "window"],
              properties: {
                counts: countsByState,
                queues: { type: "object", additionalProperties: countsByState },
                window: {
                  type: "object",
                  properties: {
                    minutes: { type: "integer" },
                    finished: byOutcome,
                    throughputPerMinute: byOutcome,
                    waitMs: percentiles,
                    runMs: percentiles,
                    truncated: { type: "boolean" },
                    perMinute: {
                      type: "array",
                      description:
                        "The window in whole minutes, oldest first, the last one still filling: jobs finished by outcome and their run time p50/p95 (ms).",
                      items: {
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
                      },
                    },
                  },
                },
              },
            },
            ...errorResponses(400, 401, 403),
          },
        },
      },
      async (request) => {
        const raw = (request.query as { minutes?: string }).minutes;
        const minutes = raw === undefined ? 5 : Number(raw);
        if (minutes < 1 || minutes > 60) {
          throw new OverseerError("INVALID_ARGUMENT", `minutes must be from 1 to 60; got ${raw}`, { field: "minutes" });
        }
        const [counts, queues, now] = await Promise.all([overseer.countJobs(), overseer.listQueues(), overseer.now()]);
        const finished = await overseer.listJobs({
          states: FINISHED_STATES,
          finishedAfter: now - minutes * 60_000,
          limit: MAX_FINISHED_READ + 1,
        });
        const truncated = finished.length > MAX_FINISHED_READ;
        const read = finished.slice(0, MAX_FINISHED_READ);
        return {
          counts,
          queues: Object.fromEntries(queues.map((q) => [q.name, q.counts])),
          window: { ...windowStats(read, minutes, truncated), perMinute: minuteBuckets(read, minutes, now) },
        };
      },
    );
  };
}
