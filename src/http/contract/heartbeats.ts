/**
 * /api/v1/heartbeats: the heartbeat monitor record, and the schemas of listing monitors and of
 * the ping an outside job sends at least once per interval.
 */
import { HEARTBEAT_STATES } from "../../core/states.js";
import { errorResponses, isoTime, nullableString, nullableTime, ref, type Served, string } from "./schema.js";

export const heartbeatSchema = {
  $id: "Heartbeat",
  type: "object",
  required: ["name", "intervalMs", "policyName", "state", "lastPingAt", "dueAt", "alertId", "createdAt", "updatedAt"],
  properties: {
    name: string,
    intervalMs: { type: "integer", description: "A ping is owed at least this often." },
    policyName: { ...nullableString, description: "The escalation policy its alert pages; null: nobody." },
    state: { type: "string", enum: [...HEARTBEAT_STATES] },
    lastPingAt: nullableTime,
    dueAt: { ...isoTime, description: "When it turns late without a ping." },
    alertId: { ...nullableString, description: "The open alert while late." },
    createdAt: isoTime,
    updatedAt: isoTime,
  },
} as const;

export const listHeartbeats = {
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
} as const;

export const pingHeartbeat = {
  tags: ["heartbeats"],
  operationId: "pingHeartbeat",
  summary: "Ping a heartbeat: it is ok, owed its next ping an interval from now",
  description:
    "A late heartbeat's open alert is closed (closedBy heartbeat) by the same write, and returned as " +
    "closedAlert. 404 HEARTBEAT_NOT_FOUND for a name the config does not define. Any body is ignored.",
  params: {
    type: "object",
    required: ["name"],
    additionalProperties: false,
    properties: {
      name: { type: "string", minLength: 1, maxLength: 100, description: "The heartbeat's name in the config." },
    },
  },
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
} as const;

export type Heartbeat = Served<typeof heartbeatSchema>;
export type HeartbeatPing = Served<(typeof pingHeartbeat.response)[200]>;
