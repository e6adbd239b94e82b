/**
 * /api/v1/oncall: who is on call in each rotation of the config (now, next, overrides ahead),
 * the override history, and putting someone on call or cancelling that (operator scope). See
 * core/oncall.ts and docs/alerts.md.
 */
import {
  type Accepted,
  errorResponses,
  integer,
  isoTime,
  nullableString,
  nullableTime,
  pageSchema,
  ref,
  type Served,
  string,
} from "./schema.js";

export const oncallOverrideSchema = {
  $id: "OncallOverride",
  type: "object",
  required: [
    "id",
    "rotation",
    "person",
    "startsAt",
    "endsAt",
    "reason",
    "createdBy",
    "createdAt",
    "cancelledBy",
    "cancelledAt",
  ],
  properties: {
    id: integer,
    rotation: string,
    person: { type: "string", description: "Who is on call in the rotation's place." },
    startsAt: isoTime,
    endsAt: isoTime,
    reason: nullableString,
    createdBy: string,
    createdAt: isoTime,
    cancelledBy: nullableString,
    cancelledAt: { ...nullableTime, description: "Cancelled overrides stay in the history and put nobody on call." },
  },
} as const;

const rotationStatusSchema = {
  type: "object",
  required: ["name", "timezone", "people", "shiftMs", "start", "now", "next", "upcoming"],
  properties: {
    name: string,
    timezone: { type: "string", description: "IANA time zone of the handoff." },
    people: { type: "array", items: string, description: "In turn order." },
    shiftMs: { type: "integer", description: "A shift's length." },
    start: { type: "string", description: "The first shift's start, local time (YYYY-MM-DDTHH:MM)." },
    now: {
      type: "object",
      required: ["person", "since", "until", "override"],
      properties: {
        person: string,
        since: isoTime,
        until: { ...isoTime, description: "When this changes: a handoff, or an override starting or ending." },
        override: { anyOf: [ref("OncallOverride"), { type: "null" }] },
      },
    },
    next: {
      type: ["object", "null"],
      description: "Who comes on call next and when; null for a one-person rotation without overrides.",
      required: ["person", "at", "override"],
      properties: {
        person: string,
        at: isoTime,
        override: { anyOf: [ref("OncallOverride"), { type: "null" }] },
      },
    },
    upcoming: {
      type: "array",
      items: ref("OncallOverride"),
      description: "Overrides in force now or later, soonest first.",
    },
  },
} as const;

export const getOncall = {
  tags: ["oncall"],
  operationId: "getOncall",
  summary: "Who is on call in each rotation now, who is next and when, and the overrides ahead",
  response: {
    200: {
      type: "object",
      required: ["at", "rotations"],
      properties: {
        at: { ...isoTime, description: "The server's clock when this was read." },
        rotations: { type: "array", items: rotationStatusSchema },
      },
    },
    ...errorResponses(401, 403),
  },
} as const;

export const listOncallOverrides = {
  tags: ["oncall"],
  operationId: "listOncallOverrides",
  summary: "The override history, newest first: cancelled and ended overrides too",
  querystring: {
    type: "object",
    additionalProperties: false,
    properties: {
      rotation: { type: "string", maxLength: 64, description: "Only this rotation's overrides." },
      limit: { type: "string", pattern: "^[0-9]{1,6}$", description: "Page size, 1-500; default 50." },
      cursor: { type: "string", maxLength: 200, description: "nextCursor of the previous page." },
    },
  },
  response: { 200: pageSchema("OncallOverride"), ...errorResponses(400, 401, 403) },
} as const;

const createBody = {
  type: "object",
  required: ["rotation", "person"],
  additionalProperties: false,
  properties: {
    rotation: {
      type: "string",
      minLength: 1,
      maxLength: 64,
      description: "A rotation of the config's alerts.rotations.",
    },
    person: { type: "string", minLength: 1, maxLength: 64, description: "Anyone in the config's alerts.people." },
    from: { type: "string", maxLength: 40, description: "ISO 8601 time with its zone; default now." },
    until: { type: "string", maxLength: 40, description: "ISO 8601 time with its zone; give this or for." },
    for: { type: "string", maxLength: 20, description: "A duration such as 4h or 2d from `from`; give this or until." },
    reason: { type: "string", maxLength: 500 },
  },
} as const;

export const createOncallOverride = {
  tags: ["oncall"],
  operationId: "createOncallOverride",
  summary: "Put someone on call in a rotation's place for a while (the newest override wins where two overlap)",
  body: createBody,
  response: { 201: ref("OncallOverride"), ...errorResponses(400, 401, 403, 404) },
} as const;

export const cancelOncallOverride = {
  tags: ["oncall"],
  operationId: "cancelOncallOverride",
  summary: "Cancel an override that has not ended; it stays in the history",
  params: {
    type: "object",
    required: ["id"],
    additionalProperties: false,
    properties: { id: { type: "string", pattern: "^[0-9]{1,15}$", description: "The override's id." } },
  },
  response: { 200: ref("OncallOverride"), ...errorResponses(400, 401, 403, 404, 409) },
} as const;

export type OncallOverrideRecord = Served<typeof oncallOverrideSchema>;
export type OncallStatus = Served<(typeof getOncall.response)[200]>;
export type OncallOverridePage = Served<(typeof listOncallOverrides.response)[200]>;
export type CreateOncallOverrideRequest = Accepted<typeof createBody>;
