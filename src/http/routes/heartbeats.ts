/**
 * /api/v1/heartbeats: heartbeat monitors from the config's `alerts.heartbeats`, and the ping an
 * outside job sends at least once per interval. A ping needs the operator scope (the scopes are
 * admin, operator, viewer, metrics; a ping changes state, so viewer is too little). Give each
 * pinging job its own operator token so it can be revoked alone.
 */
import type { FastifyInstance } from "fastify";
import type { Overseer } from "../../sdk/overseer.js";
import { errorResponses, ref } from "../schemas.js";
import { emptyBodyIsObject } from "../versions.js";

const nameParams = {
  type: "object",
  required: ["name"],
  additionalProperties: false,
  properties: {
    name: { type: "string", minLength: 1, maxLength: 100, description: "The heartbeat's name in the config." },
  },
} as const;

export function heartbeatRoutes(overseer: Overseer) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      "/heartbeats",
      {
        config: { scope: "viewer" },
        schema: {
          tags: ["heartbeats"],
          operationId: "listHeartbeats",
          summary: "Every heartbeat monitor, by name: ok or late, its last ping and when the next is due",
          response: {
            200: {
              type: "object",
              required: ["items"],
              properties: { items: { type: "array", items: ref("Heartbeat") } },
            },
            ...errorResponses(401, 403),
          },
        },
      },
      async () => ({ items: await overseer.listHeartbeats() }),
    );

    app.post(
      "/heartbeats/:name",
      {
        config: { scope: "operator" },
        preValidation: emptyBodyIsObject,
        schema: {
          tags: ["heartbeats"],
          operationId: "pingHeartbeat",
          summary: "Ping a heartbeat: it is ok, owed its next ping an interval from now",
          description:
            "A late heartbeat's open alert is closed (closedBy heartbeat) by the same write, and returned as " +
            "closedAlert. 404 HEARTBEAT_NOT_FOUND for a name the config does not define. Any body is ignored.",
          params: nameParams,
          response: {
            200: {
              type: "object",
              required: ["heartbeat", "closedAlert"],
              properties: {
                heartbeat: ref("Heartbeat"),
                closedAlert: { anyOf: [ref("Alert"), { type: "null" }], description: "The alert this ping closed." },
              },
            },
            ...errorResponses(400, 401, 403, 404),
          },
        },
      },
      async (request) => overseer.pingHeartbeat((request.params as { name: string }).name),
    );
  };
}
