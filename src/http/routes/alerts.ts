/**
 * /api/v1/alerts: alerts open first, each with its escalation timeline, and the actions people
 * take on them: acknowledge, escalate now, close; plus raising a `manual` alert. Reading needs
 * the viewer scope; acting, operator. Actions honour `If-Match` / `version` like job writes, and
 * hold the alert in the busy guard (busy.ts), so a double click gets 429 instead of a 409.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { parseAlertStatuses } from "../../core/alert.js";
import { OverseerError } from "../../core/errors.js";
import type { Overseer } from "../../sdk/overseer.js";
import { BusyGuard } from "../busy.js";
import * as contract from "../contract/alerts.js";
import { decodeCursor, pageLimit, pageOf } from "../cursor.js";
import { typed } from "../type-provider.js";
import { emptyBodyIsObject, etag, expectedVersion } from "../versions.js";

/** Who acts: the token's name, as approvals record it. */
function actor(request: FastifyRequest): string {
  const token = request.token;
  if (!token) throw new OverseerError("UNAUTHENTICATED", "send a token: Authorization: Bearer <token>");
  return token.name;
}

export function alertRoutes(overseer: Overseer, busy: BusyGuard = new BusyGuard()) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = typed(fastify);
    app.get("/alerts", { config: { scope: "viewer" }, schema: contract.listAlerts }, async (request) => {
      const query = request.query;
      const limit = pageLimit(query.limit);
      const alerts = await overseer.listAlerts({
        statuses: query.status === undefined ? undefined : parseAlertStatuses(query.status),
        source: query.source,
        afterId: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
        limit: limit + 1,
      });
      return pageOf(alerts, limit);
    });

    app.post("/alerts", { config: { scope: "operator" }, schema: contract.raiseAlert }, async (request, reply) => {
      const body = request.body;
      const { alert, created } = await overseer.raiseAlert({
        summary: body.summary,
        details: body.details ?? null,
        dedupKey: body.dedupKey ?? null,
        policy: body.policy ?? null,
      });
      reply.code(created ? 201 : 200).header("etag", etag(alert.version));
      return { alert, created };
    });

    app.get("/alerts/policies", { config: { scope: "viewer" }, schema: contract.listAlertPolicies }, async () => ({
      policies: Object.values(overseer.alerts.policies).sort((a, b) => a.name.localeCompare(b.name)),
    }));

    app.get("/alerts/:id", { config: { scope: "viewer" }, schema: contract.getAlert }, async (request, reply) => {
      const { id } = request.params;
      const alert = await overseer.getAlert(id);
      if (!alert) throw new OverseerError("ALERT_NOT_FOUND", `no alert with id "${id}"`, { id });
      reply.header("etag", etag(alert.version));
      return { alert, notifications: await overseer.listAlertNotifications(id) };
    });

    app.post(
      "/alerts/:id/ack",
      { config: { scope: "operator" }, preValidation: emptyBodyIsObject, schema: contract.acknowledgeAlert },
      async (request, reply) => {
        const { id } = request.params;
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
      { config: { scope: "operator" }, preValidation: emptyBodyIsObject, schema: contract.escalateAlert },
      async (request, reply) => {
        const { id } = request.params;
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
      { config: { scope: "operator" }, preValidation: emptyBodyIsObject, schema: contract.closeAlert },
      async (request, reply) => {
        const { id } = request.params;
        const version = expectedVersion(request);
        const by = actor(request);
        const reason = request.body.reason?.trim() || null;
        const alert = await busy.run([`alert:${id}`], () =>
          overseer.closeAlert(id, by, { reason, expectedVersion: version }),
        );
        reply.header("etag", etag(alert.version));
        return { alert };
      },
    );
  };
}
