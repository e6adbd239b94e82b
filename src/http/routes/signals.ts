/**
 * POST /api/v1/signals: an event from outside (a payment settled, a reviewer replied) for jobs
 * waiting in `ctx.waitForEvent`. It is stored and, in the same transaction, delivered to the
 * oldest job waiting for it; a signal nobody waits for yet is kept and matched by the first
 * wait that asks for it, so one that arrives early is never lost.
 */
import type { FastifyInstance } from "fastify";
import type { Overseer } from "../../sdk/overseer.js";
import { errorResponses } from "../schemas.js";

const signalBody = {
  type: "object",
  required: ["name"],
  additionalProperties: false,
  properties: {
    name: { type: "string", minLength: 1, maxLength: 200, description: "What happened, as the waits name it." },
    payload: { description: "Any JSON; waits match on its fields." },
    jobId: { type: "string", minLength: 1, maxLength: 64, description: "Only this job's waits may take it." },
  },
} as const;

const signalResponse = {
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

export function signalRoutes(overseer: Overseer) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post(
      "/signals",
      {
        config: { scope: "operator" },
        schema: {
          tags: ["jobs"],
          operationId: "sendSignal",
          summary: "Send a signal to jobs waiting for it (ctx.waitForEvent)",
          description: "202 with the stored signal and the job it woke (null: kept until a wait matches it).",
          body: signalBody,
          response: { 202: signalResponse, ...errorResponses(400, 401, 403) },
        },
      },
      async (request, reply) => {
        const body = request.body as { name: string; payload?: unknown; jobId?: string };
        return reply.code(202).send(await overseer.signal(body.name, body.payload, { jobId: body.jobId }));
      },
    );
  };
}
