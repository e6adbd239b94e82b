/**
 * /api/v1/queues, /workers, /concurrency, /stats and /stats/series: what an operator watches, and pausing or
 * resuming a queue (with `If-Match` / `version` like every write).
 */
import type { FastifyInstance } from "fastify";
import { OverseerError } from "../../core/errors.js";
import { validateName } from "../../core/job-options.js";
import { JOB_STATES, type JobState, type QueueRecord } from "../../core/types.js";
import type { Overseer } from "../../sdk/overseer.js";
import * as contract from "../contract/operating.js";
import { decodeKeyCursor, encodeKeyCursor, pageLimit } from "../cursor.js";
import { buildSeries, coveredMs, SERIES_TOP, seriesWindow } from "../series.js";
import { minuteBuckets, windowStats } from "../stats.js";
import { typed } from "../type-provider.js";
import { emptyBodyIsObject, expectedVersion } from "../versions.js";

/** At most this many running jobs are read to tell which worker holds which. */
const MAX_RUNNING_READ = 10_000;
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
      // Ids and holders only: reading the running jobs whole cost a million-job store a third of a second.
      const [workers, running, now] = await Promise.all([
        overseer.listWorkers(),
        overseer.listRunningHolders(MAX_RUNNING_READ),
        overseer.now(),
      ]);
      const held = new Map<string, string[]>();
      for (const { jobId, workerId } of running) {
        const jobs = held.get(workerId);
        if (jobs) jobs.push(jobId);
        else held.set(workerId, [jobId]);
      }
      const items = workers.map((w) => ({
        ...w,
        heartbeatAgeMs: Math.max(0, now - Date.parse(w.heartbeatAt)),
        runningJobs: held.get(w.id) ?? [],
      }));
      return { items };
    });

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

/** Jobs by state over every queue. */
function totalCounts(queues: readonly QueueRecord[]): Record<JobState, number> {
  const total = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
  for (const q of queues) for (const s of JOB_STATES) total[s] += q.counts[s];
  return total;
}
