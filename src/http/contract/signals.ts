/**
 * POST /api/v1/signals: an event from outside for jobs waiting in `ctx.waitForEvent`, and the
 * stored signal with the job it woke, if any.
 */
import { type Accepted, errorResponses, type Served } from "./schema.js";

const signalAnswer = {
  type: "object",
  required: ["signal", "deliveredTo"],
  properties: {
    signal: {
      type: "object",
      properties: {
        id: { type: "string" },
        name: { type: "string" },
        payload: {},
        jobId: { type: ["string", "null"] },
        createdAt: { type: "string", format: "date-time" },
        consumedBy: {
          type: ["object", "null"],
          properties: { jobId: { type: "string" }, step: { type: "string" }, at: { type: "string" } },
        },
      },
    },
    deliveredTo: { type: ["string", "null"], description: "The job it woke, or null: kept for a later wait." },
  },
} as const;

export const sendSignal = {
  tags: ["jobs"],
  operationId: "sendSignal",
  summary: "Send a signal to jobs waiting for it (ctx.waitForEvent)",
  description: "202 with the stored signal and the job it woke (null: kept until a wait matches it).",
  body: {
    type: "object",
    required: ["name"],
    additionalProperties: false,
    properties: {
      name: { type: "string", minLength: 1, maxLength: 200, description: "What happened, as the waits name it." },
      payload: { description: "Any JSON; waits match on its fields." },
      jobId: { type: "string", minLength: 1, maxLength: 64, description: "Only this job's waits may take it." },
    },
  },
  response: { 202: signalAnswer, ...errorResponses(400, 401, 403) },
} as const;

export type SignalRequest = Accepted<typeof sendSignal.body>;
export type SignalResult = Served<typeof signalAnswer>;
