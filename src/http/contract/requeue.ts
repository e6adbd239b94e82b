/**
 * POST /api/v1/jobs/requeue-dead: the re-queue policy (core/requeue-policy.ts) over HTTP, with
 * every dead job it looked at and the reason it decided so.
 */
import { type Accepted, errorResponses, type Served } from "./schema.js";

const requeueBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    maxRequeues: { type: "integer", minimum: 0, maximum: 100, description: "Default 3." },
    maxAge: {
      type: ["string", "integer"],
      maxLength: 20,
      minimum: 1,
      description: "Only jobs dead for less than this: a duration (72h) or milliseconds. Default 72h.",
    },
    max: { type: "integer", minimum: 0, maximum: 1000, description: "At most this many re-queues. Default 10." },
    queue: { type: "string", minLength: 1, maxLength: 128 },
    task: { type: "string", minLength: 1, maxLength: 128 },
    dryRun: { type: "boolean", description: "Decide and report; change nothing." },
  },
} as const;

const requeueAnswer = {
  type: "object",
  required: ["dryRun", "requeued", "jobs"],
  properties: {
    dryRun: { type: "boolean" },
    requeued: { type: "integer", description: "How many were (in a dry run: would be) re-queued." },
    jobs: {
      type: "array",
      description: "Every dead job inside the max age, in the order decided, each with the reason.",
      items: {
        type: "object",
        required: ["jobId", "task", "queue", "requeues", "requeue", "done", "reason"],
        properties: {
          jobId: { type: "string" },
          task: { type: "string" },
          queue: { type: "string" },
          requeues: { type: "integer", description: "Re-queues before this pass." },
          requeue: { type: "boolean" },
          done: { type: "boolean", description: "Queued again now (false in a dry run)." },
          reason: { type: "string" },
        },
      },
    },
  },
} as const;

export const requeueDeadJobs = {
  tags: ["jobs"],
  operationId: "requeueDeadJobs",
  summary: "Re-queue dead jobs by the re-queue policy (recent, not re-queued too often, at most max)",
  description:
    "Each re-queue appends a job.requeued event with the reason and the token's name. A job that changed " +
    "since it was read is left alone. See docs/alerts.md, Re-queue policy.",
  body: requeueBody,
  response: { 200: requeueAnswer, ...errorResponses(400, 401, 403) },
} as const;

export type RequeueRequest = Accepted<typeof requeueBody>;
export type RequeueResult = Served<typeof requeueAnswer>;
