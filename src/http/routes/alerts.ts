/**
 * /api/v1/alerts: alerts open first, each with its escalation timeline, and the actions people
 * take on them: acknowledge, escalate now, close; plus raising a `manual` alert. Reading needs
 * the viewer scope; acting, operator. Actions honour `If-Match` / `version` like job writes, and
 * hold the alert in the busy guard (busy.ts), so a double click gets 429 instead of a 409.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { type Alert, parseAlertStatuses } from "../../core/alert.js";
import { isOverseerError, OverseerError } from "../../core/errors.js";
import type { AlertSource, AlertStatus } from "../../core/states.js";
import type { Overseer } from "../../sdk/overseer.js";
import type { AlertFilter } from "../../store/store.js";
import { BusyGuard } from "../busy.js";
import * as contract from "../contract/alerts.js";
import { decodeCursor, pageLimit, pageOf } from "../cursor.js";
import { parseTime } from "../job-filter.js";
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
      const filter = alertFilter(query);
      const [alerts, total] = await Promise.all([
        overseer.listAlerts({
          ...filter,
          afterId: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
          limit: limit + 1,
        }),
        overseer.countAlerts(filter),
      ]);
      return { ...pageOf(alerts, limit), total };
    });

    app.post(
      "/alerts/acknowledge",
      { config: { scope: "operator" }, preValidation: emptyBodyIsObject, schema: contract.acknowledgeAlerts },
      async (request) => {
        const by = actor(request);
        const note = request.body.note?.trim() || null;
        const alerts = await matching(overseer, request.body, ["triggered"]);
        return bulk(busy, alerts, (a) => overseer.acknowledgeAlert(a.id, by, { expectedVersion: a.version, note }));
      },
    );

    app.post(
      "/alerts/close",
      { config: { scope: "operator" }, preValidation: emptyBodyIsObject, schema: contract.closeAlerts },
      async (request) => {
        const by = actor(request);
        const reason = request.body.reason?.trim() || null;
        const alerts = await matching(overseer, request.body, ["triggered", "acknowledged"]);
        return bulk(busy, alerts, (a) => overseer.closeAlert(a.id, by, { expectedVersion: a.version, reason }));
      },
    );

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
      const [notifications, events] = await Promise.all([
        overseer.listAlertNotifications(id),
        overseer.alertEvents(id, contract.ALERT_EVENTS_SHOWN),
      ]);
      return { alert, notifications, events };
    });

    app.post(
      "/alerts/:id/ack",
      { config: { scope: "operator" }, preValidation: emptyBodyIsObject, schema: contract.acknowledgeAlert },
      async (request, reply) => {
        const { id } = request.params;
        const version = expectedVersion(request);
        const by = actor(request);
        const note = request.body.note?.trim() || null;
        const alert = await busy.run([`alert:${id}`], () =>
          overseer.acknowledgeAlert(id, by, { expectedVersion: version, note }),
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

/** A listing's or a bulk action's filter, as the store takes it. */
function alertFilter(input: {
  status?: string;
  source?: AlertSource;
  createdAfter?: string;
  createdBefore?: string;
}): AlertFilter {
  const filter: AlertFilter = {};
  if (input.status !== undefined) filter.statuses = parseAlertStatuses(input.status);
  if (input.source !== undefined) filter.source = input.source;
  if (input.createdAfter !== undefined) filter.createdAfter = parseTime(input.createdAfter, "createdAfter");
  if (input.createdBefore !== undefined) filter.createdBefore = parseTime(input.createdBefore, "createdBefore");
  return filter;
}

/** The alerts a bulk action's filter matches, among the statuses it applies to (newest first, up to limit). */
async function matching(
  overseer: Overseer,
  body: { status?: string; source?: AlertSource; createdAfter?: string; createdBefore?: string; limit?: number },
  applies: readonly AlertStatus[],
): Promise<Alert[]> {
  const filter = alertFilter(body);
  const outside = filter.statuses?.filter((s) => !applies.includes(s)) ?? [];
  if (outside.length > 0) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `this action applies only to ${applies.join(", ")} alerts; not ${outside.join(", ")}`,
      {
        field: "status",
      },
    );
  }
  const statuses = filter.statuses && filter.statuses.length > 0 ? filter.statuses : applies;
  return overseer.listAlerts({ ...filter, statuses, limit: body.limit ?? 100 });
}

/** One action per alert, each in its own transaction; alerts that changed meanwhile are skipped, not failed. */
async function bulk(
  busy: BusyGuard,
  alerts: readonly Alert[],
  act: (alert: Alert) => Promise<unknown>,
): Promise<{ matched: number; changed: number; skipped: Array<{ id: string; code: string }> }> {
  let changed = 0;
  const skipped: Array<{ id: string; code: string }> = [];
  for (const alert of alerts) {
    try {
      await busy.run([`alert:${alert.id}`], () => act(alert));
      changed++;
    } catch (err) {
      if (!isOverseerError(err) || !SKIPPABLE.includes(err.code)) throw err;
      skipped.push({ id: alert.id, code: err.code });
    }
  }
  return { matched: alerts.length, changed, skipped };
}

/** What a bulk action skips: the alert moved on since it was listed, or someone is acting on it now. */
const SKIPPABLE: readonly string[] = ["ALERT_INVALID_TRANSITION", "ALERT_NOT_FOUND", "VERSION_CONFLICT", "BUSY"];
