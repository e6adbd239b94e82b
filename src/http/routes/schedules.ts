/**
 * /api/v1/schedules: the recurring tasks registered in the store (from a config file, by
 * `start`, `worker` or `schedules --config`), and enabling, disabling or running one now.
 * Schedules are defined in config, not over HTTP: these routes only steer what exists.
 */
import type { FastifyInstance } from "fastify";
import type { ScheduleRecord } from "../../core/types.js";
import type { Overseer } from "../../sdk/overseer.js";
import * as contract from "../contract/schedules.js";
import { typed } from "../type-provider.js";
import { emptyBodyIsObject } from "../versions.js";

/** Latest fired ticks listed per schedule. */
const RECENT_RUNS = 5;

/** What the API shows of a schedule: everything but the store's bookkeeping of when it became active. */
function view(s: ScheduleRecord) {
  return {
    name: s.name,
    cron: s.cron,
    timezone: s.timezone,
    task: s.task,
    queue: s.queue,
    priority: s.priority,
    maxAttempts: s.maxAttempts,
    backoff: s.backoff as Record<string, unknown> | unknown[] | null,
    enabled: s.enabled,
    removed: s.removed,
    lastTickAt: s.lastTickAt,
    nextRunAt: s.nextRunAt,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

export function scheduleRoutes(overseer: Overseer) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = typed(fastify);
    app.get("/schedules", { config: { scope: "viewer" }, schema: contract.listSchedules }, async () => {
      const schedules = await overseer.listSchedules();
      const runs = await overseer.recentScheduleRuns(
        schedules.map((s) => s.name),
        RECENT_RUNS,
      );
      return { items: schedules.map((s) => ({ ...view(s), recentRuns: runs.get(s.name) ?? [] })) };
    });

    for (const verb of ["enable", "disable"] as const) {
      app.post(
        `/schedules/:name/${verb}`,
        {
          config: { scope: "operator" },
          preValidation: emptyBodyIsObject,
          schema: verb === "enable" ? contract.enableSchedule : contract.disableSchedule,
        },
        async (request) => {
          const { name } = request.params;
          return view(verb === "enable" ? await overseer.enableSchedule(name) : await overseer.disableSchedule(name));
        },
      );
    }

    app.post(
      "/schedules/:name/run",
      { config: { scope: "operator" }, preValidation: emptyBodyIsObject, schema: contract.runSchedule },
      async (request, reply) => {
        const job = await overseer.runSchedule(request.params.name);
        return reply.code(201).send(job);
      },
    );
  };
}
