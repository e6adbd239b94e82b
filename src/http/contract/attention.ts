/**
 * /api/v1/attention: everything that needs a person, in one cheap read: counts per category and
 * the first few items of each. Every count is read from an index (or a small table: queues,
 * workers, open alerts), so the answer stays fast however many jobs the store keeps.
 */
import { errorResponses, integer, isoTime, nullableString, nullableTime, ref, type Served, string } from "./schema.js";

/** Items listed per category; the counts cover them all. */
export const ATTENTION_ITEMS = 5;

const count = (description: string) => ({ type: "integer", description }) as const;

export const getAttention = {
  tags: ["attention"],
  operationId: "getAttention",
  summary:
    "What needs a person now: pending approvals, open alerts, failed runs, lost workers, dead jobs, paused queues",
  description:
    "Counts per category with the first few items of each (at most 5). Pending approvals come oldest first " +
    "with their deadline (expiresAt); triggered alerts newest first; escalation-exhausted alerts are triggered " +
    "alerts whose policy has notified every step (and repeat) and pages nobody more; stalled runs are the open " +
    "run.stalled alerts; failed runs are those that finished failed in the last 24 hours; dead jobs are grouped " +
    "by task and queue over the newest 1,000 of them (deadJobs.sampled says how many the groups describe).",
  response: {
    200: {
      type: "object",
      required: [
        "at",
        "counts",
        "approvals",
        "alerts",
        "exhaustedAlerts",
        "failedRuns",
        "stalledRuns",
        "lostWorkers",
        "deadJobs",
        "pausedQueues",
      ],
      properties: {
        at: { ...isoTime, description: "The store's time of the answer: count deadlines from it." },
        counts: {
          type: "object",
          required: [
            "total",
            "approvals",
            "alerts",
            "acknowledgedAlerts",
            "exhaustedAlerts",
            "failedRuns",
            "stalledRuns",
            "lostWorkers",
            "deadJobs",
            "pausedQueues",
          ],
          properties: {
            total: count("The sum of the categories below but acknowledgedAlerts (each item counted once)."),
            approvals: count("Pending approval requests."),
            alerts: count(
              "Triggered alerts (exhausted ones included), but those of approvals: a pending request is counted once, under approvals.",
            ),
            acknowledgedAlerts: count("Acknowledged alerts, still open: somebody has them."),
            exhaustedAlerts: count("Triggered alerts whose escalation policy has nobody left to page."),
            failedRuns: count("Runs that finished failed in the last 24 hours (at most 100 are counted)."),
            stalledRuns: count("Open run.stalled alerts."),
            lostWorkers: count("Workers marked lost."),
            deadJobs: count("Dead jobs kept, counted up to 10,000 (deadJobs.capped: more)."),
            pausedQueues: count("Paused queues."),
          },
        },
        approvals: { type: "array", items: ref("Approval"), description: "Pending, oldest first." },
        alerts: {
          type: "array",
          items: ref("Alert"),
          description: "Triggered, newest first; an approval's alert is not listed (its request is).",
        },
        exhaustedAlerts: { type: "array", items: ref("Alert"), description: "Triggered, nobody left to page." },
        failedRuns: {
          type: "array",
          description: "Newest first.",
          items: {
            type: "object",
            required: ["id", "profile", "finishedAt", "error"],
            properties: {
              id: string,
              profile: nullableString,
              finishedAt: nullableTime,
              error: { ...nullableString, description: "The run's error message, if it has one." },
            },
          },
        },
        stalledRuns: { type: "array", items: ref("Alert"), description: "The open run.stalled alerts, newest first." },
        lostWorkers: {
          type: "array",
          items: {
            type: "object",
            required: ["id", "name", "host", "heartbeatAt"],
            properties: { id: string, name: string, host: string, heartbeatAt: isoTime },
          },
        },
        deadJobs: {
          type: "object",
          required: ["total", "capped", "sampled", "groups"],
          properties: {
            total: { type: "integer", description: "Dead jobs kept, counted up to 10,000." },
            capped: { type: "boolean", description: "More than 10,000 dead jobs are kept: total is 10,000." },
            sampled: { type: "integer", description: "How many of the newest dead jobs the groups describe." },
            groups: {
              type: "array",
              description: "By task and queue, most first (at most 5).",
              items: {
                type: "object",
                required: ["task", "queue", "count", "newestAt"],
                properties: { task: string, queue: string, count: integer, newestAt: isoTime },
              },
            },
          },
        },
        pausedQueues: {
          type: "array",
          items: {
            type: "object",
            required: ["name", "pausedAt"],
            properties: { name: string, pausedAt: isoTime },
          },
        },
      },
    },
    ...errorResponses(401, 403),
  },
} as const;

export type Attention = Served<(typeof getAttention.response)[200]>;
