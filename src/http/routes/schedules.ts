/**
 * /api/v1/schedules: the recurring tasks registered in the store (from a config file, by
 * `start`, `worker` or `schedules --config`), and enabling, disabling or running one now.
 * Schedules are defined in config, not over HTTP: these routes only steer what exists.
 */
import type { FastifyInstance } from "fastify";
import type { ScheduleRecord } from "../../core/types.js";
import type { Overseer } from "../../sdk/overseer.js";
import { errorResponses, ref } from "../schemas.js";
import { emptyBodyIsObject } from "../versions.js";

const scheduleParams = {
  type: "object",
  required: ["name"],
  additionalProperties: false,
  properties: { name: { type: "string", minLength: 1, maxLength: 200, description: "The schedule's name." } },
} as const;

const emptyBody = { type: "object", additionalProperties: false, properties: {} } as const;

/** What the API shows of a schedule: everything but the store's bookkeeping of when it became active. */
function view(s: ScheduleRecord) {
  return {
    name: s.name,
    cron: s.cron,
    timezone: s.timezone,
    task: s.task,
    queue: s.queue,
    priority: s.priority,
    enabled: s.enabled,
    removed: s.removed,
    lastTickAt: s.lastTickAt,
    nextRunAt: s.nextRunAt,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

export function scheduleRoutes(overseer: Overseer) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      "/schedules",
      {
        config: { scope: "viewer" },
        schema: {
          tags: ["schedules"],
          operationId: "listSchedules",
          summary: "Every registered schedule: cron, timezone, task, enabled, next run, last tick, removed",
          response: {
            200: {
              type: "object",
              required: ["items"],
              properties: { items: { type: "array", items: ref("Schedule") } },
            },
            ...errorResponses(401, 403),
          },
        },
      },
      async () => ({ items: (await overseer.listSchedules()).map(view) }),
    );

    for (const verb of ["enable", "disable"] as const) {
      app.post(
        `/schedules/:name/${verb}`,
        {
          config: { scope: "operator" },
          preValidation: emptyBodyIsObject,
          schema: {
            tags: ["schedules"],
            operationId: `${verb}Schedule`,
            summary:
              verb === "enable"
                ? "Fire a schedule again, from its next tick (ticks missed while disabled are skipped)"
                : "Stop a schedule firing; the flag is kept across restarts and config syncs",
            params: scheduleParams,
            body: emptyBody,
            response: { 200: ref("Schedule"), ...errorResponses(400, 401, 403, 404) },
          },
        },
        async (request) => {
          const { name } = request.params as { name: string };
          return view(verb === "enable" ? await overseer.enableSchedule(name) : await overseer.disableSchedule(name));
        },
      );
    }

    app.post(
      "/schedules/:name/run",
      {
        config: { scope: "operator" },
        preValidation: emptyBodyIsObject,
        schema: {
          tags: ["schedules"],
          operationId: "runSchedule",
          summary: "Enqueue one job for the schedule now, outside its ticks (disabled schedules too)",
          params: scheduleParams,
          body: emptyBody,
          response: { 201: ref("Job"), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        const { name } = request.params as { name: string };
        const job = await overseer.runSchedule(name);
        return reply.code(201).send(job);
      },
    );
  };
}
