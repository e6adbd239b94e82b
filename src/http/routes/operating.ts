/**
 * /api/v1/queues, /workers, /concurrency, /stats and /stats/series: what an operator watches,
 * pausing or resuming a queue (with `If-Match` / `version` like every write), and quieting,
 * stopping or resuming a worker.
 */
import type { FastifyInstance } from "fastify";
import { OverseerError } from "../../core/errors.js";
import { validateName } from "../../core/job-options.js";
import { JOB_STATES, type JobState, type QueueRecord, type WorkerJob, type WorkerRecord } from "../../core/types.js";
import { jobsByWorker, workerLoad } from "../../core/worker-load.js";
import type { Overseer } from "../../sdk/overseer.js";
import * as contract from "../contract/operating.js";
import { decodeKeyCursor, encodeKeyCursor, pageLimit } from "../cursor.js";
import { buildSeries, coveredMs, SERIES_TOP, seriesWindow } from "../series.js";
import { minuteBuckets, windowStats } from "../stats.js";
import { typed } from "../type-provider.js";
import { emptyBodyIsObject, expectedVersion } from "../versions.js";

/** At most this many finished jobs are read for the stats window. */
const MAX_FINISHED_READ = 20_000;

export function operatingRoutes(overseer: Overseer) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = typed(fastify);
    app.get("/queues", { config: { scope: "viewer" }, schema: contract.listQueues }, async () => {
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
    });

    for (const name of ["pause", "resume"] as const) {
      app.post(
        `/queues/:name/${name}`,
        {
          config: { scope: "operator" },
          preValidation: emptyBodyIsObject,
          schema: name === "pause" ? contract.pauseQueue : contract.resumeQueue,
        },
        async (request) => {
          const queue = request.params.name;
          const check = { expectedVersion: expectedVersion(request) };
          return name === "pause" ? overseer.pauseQueue(queue, check) : overseer.resumeQueue(queue, check);
        },
      );
    }

    app.post(
      "/queues/:name/breaker/reset",
      { config: { scope: "operator" }, preValidation: emptyBodyIsObject, schema: contract.resetBreaker },
      async (request) => overseer.resetBreaker(request.params.name, request.token?.name ?? "api"),
    );

    app.get("/workers", { config: { scope: "viewer" }, schema: contract.listWorkers }, async () => {
      const [workers, jobs, now] = await Promise.all([
        overseer.listWorkers(),
        overseer.listWorkerJobs(null),
        overseer.now(),
      ]);
      const byWorker = jobsByWorker(jobs);
      return { items: workers.map((w) => served(w, byWorker.get(w.id) ?? [], now)) };
    });

    app.get("/workers/:id", { config: { scope: "viewer" }, schema: contract.getWorker }, async (request) => {
      const { id } = request.params;
      const [worker, jobs, now] = await Promise.all([
        overseer.getWorker(id),
        overseer.listWorkerJobs(id),
        overseer.now(),
      ]);
      if (worker === null) throw new OverseerError("WORKER_NOT_FOUND", `no worker has id "${id}"`, { workerId: id });
      return served(worker, jobs, now);
    });

    for (const command of ["quiet", "stop", "resume"] as const) {
      const schema = { quiet: contract.quietWorker, stop: contract.stopWorker, resume: contract.resumeWorker }[command];
      app.post(
        `/workers/:id/${command}`,
        { config: { scope: "operator" }, preValidation: emptyBodyIsObject, schema },
        async (request) => {
          const { id } = request.params;
          const worker = await overseer.commandWorker(id, command, request.token?.name ?? "api");
          const [jobs, now] = await Promise.all([overseer.listWorkerJobs(id), overseer.now()]);
          return served(worker, jobs, now);
        },
      );
    }

    app.get("/concurrency", { config: { scope: "viewer" }, schema: contract.listConcurrencyKeys }, async (request) => {
      const { order = "key", cursor } = request.query;
      const limit = pageLimit(request.query.limit);
      if (order === "busiest" && cursor !== undefined) {
        throw new OverseerError("INVALID_ARGUMENT", "cursor pages order=key only; order=busiest is one page", {
          field: "cursor",
        });
      }
      const [rows, totals] = await Promise.all([
        overseer.listConcurrencyKeys({
          limit: order === "busiest" ? limit : limit + 1,
          busiestFirst: order === "busiest",
          ...(cursor === undefined ? {} : { afterKey: decodeKeyCursor(cursor) }),
        }),
        overseer.concurrencyTotals(),
      ]);
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      const nextCursor = order === "key" && rows.length > limit && last ? encodeKeyCursor(last.key) : null;
      return { items, nextCursor, ...totals };
    });

    app.get("/stats/series", { config: { scope: "viewer" }, schema: contract.getStatsSeries }, async (request) => {
      const { range = "1h" } = request.query;
      const queue = request.query.queue === undefined ? null : validateName(request.query.queue, "queue");
      const task = request.query.task === undefined ? null : validateName(request.query.task, "task");
      const now = await overseer.now();
      const window = seriesWindow(range, now);
      const [read, dataFrom] = await Promise.all([
        overseer.readJobRollups({
          ...window,
          top: SERIES_TOP,
          ...(queue === null ? {} : { queue }),
          ...(task === null ? {} : { task }),
        }),
        oldestData(overseer),
      ]);
      return buildSeries(range, window, read, { queue, task }, now, dataFrom);
    });

    app.get("/stats", { config: { scope: "viewer" }, schema: contract.getStats }, async (request) => {
      const raw = request.query.minutes;
      const minutes = raw === undefined ? 5 : Number(raw);
      if (minutes < 1 || minutes > 60) {
        throw new OverseerError("INVALID_ARGUMENT", `minutes must be from 1 to 60; got ${raw}`, { field: "minutes" });
      }
      // The totals are the queues' counts summed: one count of the jobs table, not two (with a
      // long history kept, each is a walk over every finished job's index entry).
      const [queues, now, execution] = await Promise.all([overseer.listQueues(), overseer.now(), overseer.execution()]);
      const counts = totalCounts(queues);
      const since = now - minutes * 60_000;
      const [finished, dataFrom] = await Promise.all([
        overseer.listFinishedTimes(since, MAX_FINISHED_READ + 1),
        oldestData(overseer),
      ]);
      const truncated = finished.length > MAX_FINISHED_READ;
      const read = finished.slice(0, MAX_FINISHED_READ);
      const covered = coveredMs(since, now, dataFrom);
      return {
        execution: execution.mode,
        counts,
        queues: Object.fromEntries(queues.map((q) => [q.name, q.counts])),
        window: { ...windowStats(read, minutes, truncated, covered), perMinute: minuteBuckets(read, minutes, now) },
      };
    });
  };
}

/**
 * When the store's data begins: its oldest event or rollup, whichever is older (events go after
 * 30 days, rollups after 7); null for a store with neither.
 */
async function oldestData(overseer: Overseer): Promise<number | null> {
  const [[event], rollup] = await Promise.all([overseer.readEvents({ limit: 1 }), overseer.oldestJobRollup()]);
  const times = [event ? Date.parse(event.at) : null, rollup].filter((t): t is number => t !== null);
  return times.length === 0 ? null : Math.min(...times);
}

/** A worker as the API serves it: its heartbeat age, busy slots, utilization and jobs. */
function served(w: WorkerRecord, jobs: readonly WorkerJob[], now: number) {
  return { ...w, heartbeatAgeMs: Math.max(0, now - Date.parse(w.heartbeatAt)), ...workerLoad(w, jobs) };
}

/** Jobs by state over every queue. */
function totalCounts(queues: readonly QueueRecord[]): Record<JobState, number> {
  const total = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
  for (const q of queues) for (const s of JOB_STATES) total[s] += q.counts[s];
  return total;
}
