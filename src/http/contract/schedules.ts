/**
 * /api/v1/schedules: the schedule record, and the schemas of listing schedules and of enabling,
 * disabling or running one now. Schedules are defined in config; the API only steers them.
 */
import { JOB_STATES } from "../../core/types.js";
import { errorResponses, isoTime, nullableString, nullableTime, ref, type Served, string } from "./schema.js";

export const scheduleSchema = {
  $id: "Schedule",
  type: "object",
  required: [
    "name",
    "cron",
    "timezone",
    "task",
    "enabled",
    "removed",
    "lastTickAt",
    "nextRunAt",
    "queue",
    "priority",
    "maxAttempts",
    "backoff",
    "createdAt",
    "updatedAt",
  ],
  properties: {
    name: string,
    cron: { type: "string", description: "Five or six cron fields, read in `timezone`." },
    timezone: { type: "string", description: "An IANA time zone, e.g. Europe/Berlin; UTC unless configured." },
    task: string,
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
    queue: nullableString,
    priority: { type: ["integer", "null"] },
    maxAttempts: { type: ["integer", "null"], description: "The fired jobs' attempts; null: the task's default." },
    backoff: {
      type: ["array", "object", "null"],
      description:
        'The fired jobs\' backoff as configured (a list of delays such as ["1m", "5m", "15m"], or a backoff object); null: the task\'s default.',
    },
    createdAt: isoTime,
    updatedAt: isoTime,
    recentRuns: {
      type: "array",
      description:
        "In the listing: the jobs its latest ticks enqueued (ticks of the last day), newest first, at most 5; a job's state is null once it was discarded. Runs started by hand are not ticks and are not listed.",
      items: {
        type: "object",
        required: ["tick", "jobId", "state"],
        properties: {
          tick: { ...isoTime, description: "The tick that fired." },
          jobId: string,
          state: { type: ["string", "null"], enum: [...JOB_STATES, null] },
        },
      },
    },
  },
} as const;

export const listSchedules = {
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
} as const;

const scheduleParams = {
  type: "object",
  required: ["name"],
  additionalProperties: false,
  properties: { name: { type: "string", minLength: 1, maxLength: 200, description: "The schedule's name." } },
} as const;

const emptyBody = { type: "object", additionalProperties: false, properties: {} } as const;

function scheduleSwitch<const Verb extends "enable" | "disable">(verb: Verb) {
  return {
    tags: ["schedules"],
    operationId: `${verb}Schedule`,
    summary:
      verb === "enable"
        ? "Fire a schedule again, from its next tick (ticks missed while disabled are skipped)"
        : "Stop a schedule firing; the flag is kept across restarts and config syncs",
    params: scheduleParams,
    body: emptyBody,
    response: { 200: ref("Schedule"), ...errorResponses(400, 401, 403, 404) },
  } as const;
}

export const enableSchedule = scheduleSwitch("enable");
export const disableSchedule = scheduleSwitch("disable");

export const runSchedule = {
  tags: ["schedules"],
  operationId: "runSchedule",
  summary: "Enqueue one job for the schedule now, outside its ticks (disabled schedules too)",
  params: scheduleParams,
  body: emptyBody,
  response: { 201: ref("Job"), ...errorResponses(400, 401, 403, 404) },
} as const;

export type Schedule = Served<typeof scheduleSchema>;
