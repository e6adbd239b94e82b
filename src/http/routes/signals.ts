/**
 * POST /api/v1/signals: an event from outside (a payment settled, a reviewer replied) for jobs
 * waiting in `ctx.waitForEvent`. It is stored and, in the same transaction, delivered to the
 * oldest job waiting for it; a signal nobody waits for yet is kept and matched by the first
 * wait that asks for it, so one that arrives early is never lost.
 */
import type { FastifyInstance } from "fastify";
import type { Overseer } from "../../sdk/overseer.js";
import * as contract from "../contract/signals.js";
import { typed } from "../type-provider.js";

export function signalRoutes(overseer: Overseer) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = typed(fastify);
    app.post("/signals", { config: { scope: "operator" }, schema: contract.sendSignal }, async (request, reply) => {
      const body = request.body;
      return reply.code(202).send(await overseer.signal(body.name, body.payload, { jobId: body.jobId }));
    });
  };
}
