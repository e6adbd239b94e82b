/**
 * /api/v1/alerts: the alert with its escalation state, one notification of its timeline, and
 * the schemas of listing and reading alerts, raising a manual one, and acknowledging,
 * escalating or closing one. Actions take the version read (`If-Match` or `version`).
 */
import { ALERT_SOURCES, ALERT_STATUSES, NOTIFICATION_STATUSES } from "../../core/states.js";
import {
  type Accepted,
  errorResponses,
  idParams,
  integer,
  isoTime,
  nullableInteger,
  nullableString,
  nullableTime,
  pageSchema,
  ref,
  type Served,
  string,
} from "./schema.js";

export const alertSchema = {
  $id: "Alert",
  type: "object",
  required: [
    "id",
    "source",
    "summary",
    "dedupKey",
    "status",
    "count",
    "policy",
    "escalation",
    "nextEscalationAt",
    "acknowledgedBy",
    "acknowledgedAt",
    "closedBy",
    "closedAt",
    "closeReason",
    "createdAt",
    "updatedAt",
    "version",
  ],
  properties: {
    id: string,
    source: { type: "string", enum: [...ALERT_SOURCES] },
    summary: string,
    details: { description: "Any JSON: the newest raise's details." },
    dedupKey: { ...nullableString, description: "Raises with this key while the alert is open bump its count." },
    status: { type: "string", enum: [...ALERT_STATUSES] },
    count: { type: "integer", description: "How many raises this alert stands for (1 + bumps)." },
    policy: {
      type: ["object", "null"],
      description: "The escalation policy as it was when the alert was raised; null: nobody is paged.",
      required: ["name", "steps", "repeat", "repeatDelayMs", "ackTimeoutMs"],
      properties: {
        name: string,
        steps: {
          type: "array",
          items: {
            type: "object",
            required: ["delayMs", "notify"],
            properties: {
              delayMs: integer,
              notify: { type: "array", items: string },
              window: {
                type: "object",
                description:
                  "The step pages only during (outside: false) or outside (true) this time window; absent: always.",
                required: ["window", "outside"],
                properties: {
                  window: {
                    type: "object",
                    required: ["name", "timezone", "ranges"],
                    properties: {
                      name: string,
                      timezone: string,
                      ranges: {
                        type: "array",
                        items: {
                          type: "object",
                          required: ["days", "from", "to"],
                          properties: {
                            days: { type: "array", items: string },
                            from: { type: "integer", description: "Local minutes after midnight." },
                            to: {
                              type: "integer",
                              description: "Local minutes after midnight; before from: overnight.",
                            },
                          },
                        },
                      },
                    },
                  },
                  outside: { type: "boolean" },
                },
              },
            },
          },
        },
        repeat: integer,
        repeatDelayMs: integer,
        ackTimeoutMs: { type: ["integer", "null"] },
        oncall: {
          type: "object",
          required: ["rotations", "people"],
          properties: {
            rotations: {
              type: "object",
              additionalProperties: {
                type: "object",
                required: ["name", "people", "timezone", "start", "shiftMs"],
                properties: {
                  name: string,
                  people: { type: "array", items: string },
                  timezone: string,
                  start: string,
                  shiftMs: integer,
                },
              },
            },
            people: { type: "object", additionalProperties: { type: "array", items: string } },
          },
          description:
            "The rotations its steps page (as configured when the alert was raised) and the contact targets of each person who may be on call.",
        },
      },
    },
    escalation: {
      type: "object",
      description: "The step last notified (-1: none yet) in round `round` (0-based).",
      required: ["step", "round"],
      properties: { step: integer, round: integer },
    },
    nextEscalationAt: { ...nullableTime, description: "When the next step (or the ack timeout) is due." },
    acknowledgedBy: nullableString,
    acknowledgedAt: nullableTime,
    closedBy: nullableString,
    closedAt: nullableTime,
    closeReason: nullableString,
    createdAt: isoTime,
    updatedAt: isoTime,
    version: { type: "integer", description: "Bumped on every change; send it back in If-Match to act safely." },
  },
} as const;

export const alertNotificationSchema = {
  $id: "AlertNotification",
  type: "object",
  required: ["id", "alertId", "step", "round", "target", "at", "status", "error", "fallbackFor", "updatedAt"],
  properties: {
    id: integer,
    alertId: string,
    step: { type: "integer", description: "0-based step of the policy." },
    round: { type: "integer", description: "0-based round (repeats)." },
    target: { type: "string", description: "A channel name or a person." },
    at: { ...isoTime, description: "When the step was due and claimed." },
    status: { type: "string", enum: [...NOTIFICATION_STATUSES] },
    error: nullableString,
    fallbackFor: {
      ...nullableInteger,
      description:
        "The notification this one stands in for: its send failed for good and its channel names this one's target as `fallback`.",
    },
    updatedAt: isoTime,
  },
} as const;

const alertIdParams = idParams("An alert id (ULID).");

const time = (description: string) => ({ type: "string", format: "date-time", description }) as const;

/** The filter of a listing (query string) and of a bulk action (body). */
const alertFilterProperties = {
  status: {
    type: "string",
    maxLength: 200,
    description: `Comma-separated statuses (${ALERT_STATUSES.join(", ")}), or open for triggered and acknowledged.`,
  },
  source: { type: "string", enum: [...ALERT_SOURCES], description: "Only alerts from this source." },
  createdAfter: time("Raised at or after this time (ISO-8601)."),
  createdBefore: time("Raised before this time."),
} as const;

export const listAlerts = {
  tags: ["alerts"],
  operationId: "listAlerts",
  summary: "List alerts: open ones first, then closed ones, each newest first",
  querystring: {
    type: "object",
    additionalProperties: false,
    properties: {
      ...alertFilterProperties,
      limit: { type: "string", pattern: "^[0-9]{1,6}$", description: "Page size, 1-500; default 50." },
      cursor: { type: "string", maxLength: 200, description: "nextCursor of the previous page." },
    },
  },
  response: {
    200: {
      ...pageSchema("Alert"),
      required: ["items", "nextCursor", "total"],
      properties: {
        ...pageSchema("Alert").properties,
        total: { type: "integer", description: "How many alerts the filter matches, over every page." },
      },
    },
    ...errorResponses(400, 401, 403),
  },
} as const;

const raised = {
  type: "object",
  required: ["alert", "created"],
  properties: { alert: ref("Alert"), created: { type: "boolean" } },
} as const;

export const raiseAlert = {
  tags: ["alerts"],
  operationId: "raiseAlert",
  summary: "Raise a manual alert",
  description:
    "201 with the new alert, or 200 with the open alert of the same dedupKey, bumped (count + 1, the new " +
    "details; nobody is paged again). `policy` names an escalation policy of the config (400 for an unknown " +
    "name); without one nobody is paged: the alert is listed, and can be acknowledged and closed.",
  body: {
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
  },
  response: {
    200: raised,
    201: raised,
    ...errorResponses(400, 401, 403),
  },
} as const;

export const listAlertPolicies = {
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
} as const;

const withTimeline = (description: string) =>
  ({
    type: "object",
    required: ["alert", "notifications"],
    properties: {
      alert: ref("Alert"),
      notifications: { type: "array", items: ref("AlertNotification"), description },
    },
  }) as const;

/** An alert's events shown with it, oldest first. */
export const ALERT_EVENTS_SHOWN = 500;

export const getAlert = {
  tags: ["alerts"],
  operationId: "getAlert",
  summary: "An alert with its escalation timeline and its lifecycle events",
  description:
    "notifications: who was notified when, through which channel. events: the alert's alert.* events, oldest " +
    "first (at most 500): raised, bumped, escalated, notification_sent / notification_failed, fallback, " +
    "acknowledged (with the acknowledger's note), retriggered, closed.",
  params: alertIdParams,
  response: {
    200: {
      type: "object",
      required: ["alert", "notifications"],
      properties: {
        alert: ref("Alert"),
        notifications: { type: "array", items: ref("AlertNotification"), description: "Oldest first." },
        events: {
          type: "array",
          items: ref("Event"),
          description: "The alert's lifecycle, oldest first (always sent by GET /alerts/{id}).",
        },
      },
    },
    ...errorResponses(400, 401, 403, 404),
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

const alertAnswer = { type: "object", required: ["alert"], properties: { alert: ref("Alert") } } as const;

const ACTION_ERRORS =
  "404 ALERT_NOT_FOUND; 409 ALERT_INVALID_TRANSITION (details.status) when the alert's status does not allow " +
  "it, VERSION_CONFLICT on a stale If-Match / version; 429 BUSY with Retry-After while another action on the " +
  "alert is being applied.";

const note = {
  type: "string",
  maxLength: 2_000,
  description: "What the acknowledger knows or does, kept on the alert.acknowledged event (its timeline).",
} as const;

const acknowledgeBody = {
  ...actionBody,
  properties: { note, version: actionBody.properties.version },
} as const;

export const acknowledgeAlert = {
  tags: ["alerts"],
  operationId: "acknowledgeAlert",
  summary: "Acknowledge a triggered alert as the token's name, with an optional note: escalation stops",
  description: ACTION_ERRORS,
  params: alertIdParams,
  body: acknowledgeBody,
  response: { 200: alertAnswer, ...errorResponses(400, 401, 403, 404, 409, 429) },
} as const;

export const escalateAlert = {
  tags: ["alerts"],
  operationId: "escalateAlert",
  summary: "Escalate now: notify the next step at once (the last again when none is left)",
  description: `An acknowledged alert is triggered again. ${ACTION_ERRORS}`,
  params: alertIdParams,
  body: actionBody,
  response: {
    200: withTimeline("The step's notifications, planned (empty: the alert has no policy)."),
    ...errorResponses(400, 401, 403, 404, 409, 429),
  },
} as const;

export const closeAlert = {
  tags: ["alerts"],
  operationId: "closeAlert",
  summary: "Close an open alert for good, with an optional reason",
  description: ACTION_ERRORS,
  params: alertIdParams,
  body: actionBody,
  response: { 200: alertAnswer, ...errorResponses(400, 401, 403, 404, 409, 429) },
} as const;

/** Alerts a bulk action changes at most, and its default. */
export const BULK_ALERTS_MAX = 500;

const bulkAlertResult = {
  type: "object",
  required: ["matched", "changed", "skipped"],
  properties: {
    matched: { type: "integer", description: "Alerts the filter matched (at most limit)." },
    changed: { type: "integer" },
    skipped: {
      type: "array",
      description: "Alerts that changed status or version while the action ran, left as they were.",
      items: {
        type: "object",
        required: ["id", "code"],
        properties: { id: string, code: string },
      },
    },
  },
} as const;

function bulkAlertBody<const Extra extends Record<string, unknown>>(extra: Extra, statuses: string) {
  return {
    type: "object",
    additionalProperties: false,
    properties: {
      ...alertFilterProperties,
      status: { ...alertFilterProperties.status, description: `Statuses to match, among ${statuses}; default: those.` },
      ...extra,
      limit: {
        type: "integer",
        minimum: 1,
        maximum: BULK_ALERTS_MAX,
        default: 100,
        description: `At most this many alerts (newest first), up to ${BULK_ALERTS_MAX}.`,
      },
    },
  } as const;
}

export const acknowledgeAlerts = {
  tags: ["alerts"],
  operationId: "acknowledgeAlerts",
  summary: "Acknowledge the triggered alerts a filter matches, up to limit, with one note",
  description:
    "Each alert is acknowledged in its own transaction as the token's name; alerts that changed meanwhile are " +
    "skipped (ALERT_INVALID_TRANSITION, VERSION_CONFLICT, BUSY). 400 INVALID_ARGUMENT for a status other than triggered.",
  body: bulkAlertBody({ note }, "triggered"),
  response: { 200: bulkAlertResult, ...errorResponses(400, 401, 403) },
} as const;

export const closeAlerts = {
  tags: ["alerts"],
  operationId: "closeAlerts",
  summary: "Close the open alerts a filter matches, up to limit, with one reason",
  description:
    "Each alert is closed in its own transaction as the token's name; alerts that changed meanwhile are skipped. " +
    "400 INVALID_ARGUMENT for status closed.",
  body: bulkAlertBody(
    { reason: { type: "string", maxLength: 2_000, description: "Why, kept on each alert." } },
    "triggered, acknowledged",
  ),
  response: { 200: bulkAlertResult, ...errorResponses(400, 401, 403) },
} as const;

export type Alert = Served<typeof alertSchema>;
export type AlertSource = Alert["source"];
export type AlertStatus = Alert["status"];
export type AlertNotification = Served<typeof alertNotificationSchema>;
export type EscalationPolicy = NonNullable<Alert["policy"]>;
export type AlertPage = Served<(typeof listAlerts.response)[200]>;
export type AlertDetail = Served<(typeof getAlert.response)[200]>;
export type AlertPolicies = Served<(typeof listAlertPolicies.response)[200]>;
export type RaiseAlertRequest = Accepted<typeof raiseAlert.body>;
export type AlertActionRequest = Accepted<typeof actionBody>;
export type AcknowledgeAlertRequest = Accepted<typeof acknowledgeBody>;
export type BulkAcknowledgeAlertsRequest = Accepted<typeof acknowledgeAlerts.body>;
export type BulkCloseAlertsRequest = Accepted<typeof closeAlerts.body>;
export type BulkAlertResult = Served<typeof bulkAlertResult>;
