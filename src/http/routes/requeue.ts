/**
 * POST /api/v1/jobs/requeue-dead: the re-queue policy (core/requeue-policy.ts) over HTTP, so
 * `overseer requeue --dead --url ...` works remotely. Operator, like retrying a job; each
 * re-queue is recorded as a `job.requeued` event with its reason and the token's name.
 */
import type { FastifyInstance } from "fastify";
import type { Overseer } from "../../sdk/overseer.js";
import * as contract from "../contract/requeue.js";
import { typed } from "../type-provider.js";
import { emptyBodyIsObject } from "../versions.js";

export function requeueRoutes(overseer: Overseer) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = typed(fastify);
    app.post(
      "/jobs/requeue-dead",
      { config: { scope: "operator" }, preValidation: emptyBodyIsObject, schema: contract.requeueDeadJobs },
      async (request) => {
        const by = request.token?.name ?? "api";
        return overseer.requeueDead({ ...request.body, by });
      },
    );
  };
}
