/**
 * /api/v1/alerts: alerts open first, each with its escalation timeline, and the actions people
 * take on them: acknowledge, escalate now, close; plus raising a `manual` alert. Reading needs
 * the viewer scope; acting, operator. Actions honour `If-Match` / `version` like job writes, and
 * hold the alert in the busy guard (busy.ts), so a double click gets 429 instead of a 409.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ALERT_SOURCES, ALERT_STATUSES, type AlertSource, parseAlertStatuses } from "../../core/alert.js";
import { OverseerError } from "../../core/errors.js";
import type { Overseer } from "../../sdk/overseer.js";
import { BusyGuard } from "../busy.js";
import { decodeCursor, pageLimit, pageOf } from "../cursor.js";
import { alertSchema, errorResponses, pageSchema, ref } from "../schemas.js";
import { emptyBodyIsObject, etag, expectedVersion } from "../versions.js";

const idParams = {
  type: "object",
  required: ["id"],
  additionalProperties: false,
  properties: { id: { type: "string", minLength: 1, maxLength: 64, description: "An alert id (ULID)." } },
} as const;

const listQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    status: {
      type: "string",
      maxLength: 200,
      description: `Comma-separated statuses (${ALERT_STATUSES.join(", ")}), or open for triggered and acknowledged.`,
    },
    source: { type: "string", enum: [...ALERT_SOURCES], description: "Only alerts from this source." },
    limit: { type: "string", pattern: "^[0-9]{1,6}$", description: "Page size, 1-500; default 50." },
    cursor: { type: "string", maxLength: 200, description: "nextCursor of the previous page." },
  },
} as const;

const actionBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    reason: { type: "string", maxLength: 2_000, description: "Why (kept on the alert when closing)." },
    version: {
      type: "integer",
      minimum: 0,
      description: "Refuse with 409 if the alert is no longer at this version.",
    },
  },
} as const;

const raiseBody = {
  type: "object",
  required: ["summary"],
  additionalProperties: false,
  properties: {
    summary: { type: "string", minLength: 1, maxLength: 300, description: "One line: what needs a person." },
    details: { description: "Any JSON (up to 64 KB)." },
    dedupKey: {
      type: ["string", "null"],
      minLength: 1,
      maxLength: 300,
      description: "While an alert with this key is open, raising it again bumps its count and pages nobody.",
    },
    policy: {
      type: ["string", "null"],
      minLength: 1,
      maxLength: 64,
      description: "An escalation policy of the config's alerts.policies, by name; null or omitted: nobody is paged.",
    },
  },
} as const;

const alertResponse = {
  type: "object",
  required: ["alert"],
  properties: { alert: ref("Alert") },
} as const;

/** Who acts: the token's name, as approvals record it. */
function actor(request: FastifyRequest): string {
  const token = request.token;
  if (!token) throw new OverseerError("UNAUTHENTICATED", "send a token: Authorization: Bearer <token>");
  return token.name;
}

export function alertRoutes(overseer: Overseer, busy: BusyGuard = new BusyGuard()) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      "/alerts",
      {
        config: { scope: "viewer" },
        schema: {
          tags: ["alerts"],
          operationId: "listAlerts",
          summary: "List alerts: open ones first, then closed ones, each newest first",
          querystring: listQuery,
          response: {
            200: pageSchema("Alert"),
            ...errorResponses(400, 401, 403),
          },
        },
      },
      async (request) => {
        const query = request.query as { status?: string; source?: AlertSource; limit?: string; cursor?: string };
        const limit = pageLimit(query.limit);
        const alerts = await overseer.listAlerts({
          statuses: query.status === undefined ? undefined : parseAlertStatuses(query.status),
          source: query.source,
          afterId: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
          limit: limit + 1,
        });
        return pageOf(alerts, limit);
      },
    );

    app.post(
      "/alerts",
      {
        config: { scope: "operator" },
        schema: {
          tags: ["alerts"],
          operationId: "raiseAlert",
          summary: "Raise a manual alert",
          description:
            "201 with the new alert, or 200 with the open alert of the same dedupKey, bumped (count + 1, the new " +
            "details; nobody is paged again). `policy` names an escalation policy of the config (400 for an unknown " +
            "name); without one nobody is paged: the alert is listed, and can be acknowledged and closed.",
          body: raiseBody,
          response: {
            200: {
              type: "object",
              required: ["alert", "created"],
              properties: { alert: ref("Alert"), created: { type: "boolean" } },
            },
            201: {
              type: "object",
              required: ["alert", "created"],
              properties: { alert: ref("Alert"), created: { type: "boolean" } },
            },
            ...errorResponses(400, 401, 403),
          },
        },
      },
      async (request, reply) => {
        const body = request.body as {
          summary: string;
          details?: unknown;
          dedupKey?: string | null;
          policy?: string | null;
        };
        const { alert, created } = await overseer.raiseAlert({
          summary: body.summary,
          details: body.details ?? null,
          dedupKey: body.dedupKey ?? null,
          policy: body.policy ?? null,
        });
        reply.code(created ? 201 : 200).header("etag", etag(alert.version));
        return { alert, created };
      },
    );

    app.get(
      "/alerts/policies",
      {
        config: { scope: "viewer" },
        schema: {
          tags: ["alerts"],
          operationId: "listAlertPolicies",
          summary: "The escalation policies of the config's alerts.policies, by name",
          description:
            "What a raise with `policy: NAME` would use now. An alert keeps the policy it was raised with (its own " +
            "`policy` field), so a changed config changes new alerts only.",
          response: {
            200: {
              type: "object",
              required: ["policies"],
              properties: { policies: { type: "array", items: { ...alertSchema.properties.policy, type: "object" } } },
            },
            ...errorResponses(401, 403),
          },
        },
      },
      async () => ({
        policies: Object.values(overseer.alerts.policies).sort((a, b) => a.name.localeCompare(b.name)),
      }),
    );

    app.get(
      "/alerts/:id",
      {
        config: { scope: "viewer" },
        schema: {
          tags: ["alerts"],
          operationId: "getAlert",
          summary: "An alert with its escalation timeline: who was notified when, through which channel",
          params: idParams,
          response: {
            200: {
              type: "object",
              required: ["alert", "notifications"],
              properties: {
                alert: ref("Alert"),
                notifications: { type: "array", items: ref("AlertNotification"), description: "Oldest first." },
              },
            },
            ...errorResponses(400, 401, 403, 404),
          },
        },
      },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        const alert = await overseer.getAlert(id);
        if (!alert) throw new OverseerError("ALERT_NOT_FOUND", `no alert with id "${id}"`, { id });
        reply.header("etag", etag(alert.version));
        return { alert, notifications: await overseer.listAlertNotifications(id) };
      },
    );

    const errors =
      "404 ALERT_NOT_FOUND; 409 ALERT_INVALID_TRANSITION (details.status) when the alert's status does not allow " +
      "it, VERSION_CONFLICT on a stale If-Match / version; 429 BUSY with Retry-After while another action on the " +
      "alert is being applied.";

    app.post(
      "/alerts/:id/ack",
      {
        config: { scope: "operator" },
        preValidation: emptyBodyIsObject,
        schema: {
          tags: ["alerts"],
          operationId: "acknowledgeAlert",
          summary: "Acknowledge a triggered alert as the token's name: escalation stops",
          description: errors,
          params: idParams,
          body: actionBody,
          response: { 200: alertResponse, ...errorResponses(400, 401, 403, 404, 409, 429) },
        },
      },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        const version = expectedVersion(request);
        const by = actor(request);
        const alert = await busy.run([`alert:${id}`], () =>
          overseer.acknowledgeAlert(id, by, { expectedVersion: version }),
        );
        reply.header("etag", etag(alert.version));
        return { alert };
      },
    );

    app.post(
      "/alerts/:id/escalate",
      {
        config: { scope: "operator" },
        preValidation: emptyBodyIsObject,
        schema: {
          tags: ["alerts"],
          operationId: "escalateAlert",
          summary: "Escalate now: notify the next step at once (the last again when none is left)",
          description: `An acknowledged alert is triggered again. ${errors}`,
          params: idParams,
          body: actionBody,
          response: {
            200: {
              type: "object",
              required: ["alert", "notifications"],
              properties: {
                alert: ref("Alert"),
                notifications: {
                  type: "array",
                  items: ref("AlertNotification"),
                  description: "The step's notifications, planned (empty: the alert has no policy).",
                },
              },
            },
            ...errorResponses(400, 401, 403, 404, 409, 429),
          },
        },
      },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        const version = expectedVersion(request);
        const by = actor(request);
        const { alert, notifications } = await busy.run([`alert:${id}`], () =>
          overseer.escalateAlert(id, by, { expectedVersion: version }),
        );
        reply.header("etag", etag(alert.version));
        return { alert, notifications };
      },
    );

    app.post(
      "/alerts/:id/close",
      {
        config: { scope: "operator" },
        preValidation: emptyBodyIsObject,
        schema: {
          tags: ["alerts"],
          operationId: "closeAlert",
          summary: "Close an open alert for good, with an optional reason",
          description: errors,
          params: idParams,
          body: actionBody,
          response: { 200: alertResponse, ...errorResponses(400, 401, 403, 404, 409, 429) },
        },
      },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        const version = expectedVersion(request);
        const by = actor(request);
        const reason = (request.body as { reason?: string }).reason?.trim() || null;
        const alert = await busy.run([`alert:${id}`], () =>
          overseer.closeAlert(id, by, { reason, expectedVersion: version }),
        );
        reply.header("etag", etag(alert.version));
        return { alert };
      },
    );
  };
}
