/**
 * /api/v1/heartbeats: heartbeat monitors from the config's `alerts.heartbeats`, and the ping an
 * outside job sends at least once per interval. A ping needs the operator scope (the scopes are
 * admin, operator, viewer, metrics; a ping changes state, so viewer is too little). Give each
 * pinging job its own operator token so it can be revoked alone.
 */
import type { FastifyInstance } from "fastify";
import type { Overseer } from "../../sdk/overseer.js";
import * as contract from "../contract/heartbeats.js";
import { typed } from "../type-provider.js";
import { emptyBodyIsObject } from "../versions.js";

export function heartbeatRoutes(overseer: Overseer) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = typed(fastify);
    app.get("/heartbeats", { config: { scope: "viewer" }, schema: contract.listHeartbeats }, async () => ({
      items: await overseer.listHeartbeats(),
    }));

    app.post(
      "/heartbeats/:name",
      { config: { scope: "operator" }, preValidation: emptyBodyIsObject, schema: contract.pingHeartbeat },
      async (request) => overseer.pingHeartbeat(request.params.name),
    );
  };
}
