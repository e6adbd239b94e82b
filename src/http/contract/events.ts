/**
 * The event log over HTTP: the event record, and the schemas of its readers: Server-Sent Events
 * (or one JSON page) of every event, of one job's or of one run's, and the WebSocket that carries
 * the same streams. Each SSE message's `id` is the event's seq, the cursor a client resumes from.
 */
import { jobIdParams } from "./jobs.js";
import { runIdParams } from "./runs.js";
import { type Accepted, errorResponses, integer, isoTime, nullableString, ref, type Served, string } from "./schema.js";

export const eventSchema = {
  $id: "Event",
  type: "object",
  required: ["seq", "at", "kind", "data"],
  properties: {
    seq: integer,
    at: isoTime,
    kind: string,
    jobId: nullableString,
    runId: nullableString,
    workerId: nullableString,
    data: { type: "object", additionalProperties: true },
  },
} as const;

/** An event seq in a query string or a `Last-Event-ID` header. */
export const SEQ = "^[0-9]{1,15}$";

const streamQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    since: { type: "string", pattern: SEQ, description: "Resume after this seq (as Last-Event-ID does)." },
    limit: { type: "string", pattern: "^[0-9]{1,4}$", description: "JSON pages only: 1-1,000 events; default 100." },
    access_token: { type: "string", maxLength: 256, description: "A stream token, for clients without headers." },
  },
} as const;

const page = {
  type: "object",
  required: ["items", "lastSeq", "oldestSeq"],
  properties: {
    items: { type: "array", items: ref("Event") },
    lastSeq: { type: "integer", description: "The newest seq in the log." },
    oldestSeq: { type: ["integer", "null"], description: "The oldest seq retention kept; null if none." },
  },
} as const;

/**
 * 200 of the event routes: the live stream, or one JSON page when Accept asks for JSON. Fastify
 * serialises the page with the application/json schema; the stream is written raw.
 */
const streamOk = {
  description: "The events: a Server-Sent Events stream, or one page of them with Accept: application/json.",
  content: {
    "text/event-stream": {
      schema: { type: "string", description: "Server-Sent Events: `id:` the event's seq, `data:` the event as JSON." },
    },
    "application/json": { schema: page },
  },
} as const;

/** 204 of a job's or run's events: it had finished and nothing is after the cursor. */
const finishedNoContent = {
  description: "It had finished, and no event is after the cursor: nothing more will come.",
  type: "null",
} as const;

const STREAM_DESCRIPTION =
  "Server-Sent Events: `id:` is the event's seq, `data:` the event as JSON. Resume with Last-Event-ID or ?since=; " +
  "410 EVENTS_TRIMMED if that position was deleted by retention. Send Accept: application/json for one page instead " +
  "({items, lastSeq, oldestSeq}; ?since= and ?limit=).";

export const getEvents = {
  tags: ["events"],
  operationId: "getEvents",
  summary: "Every event: live from now, or from a cursor",
  description: STREAM_DESCRIPTION,
  querystring: streamQuery,
  response: { 200: streamOk, ...errorResponses(400, 401, 403, 410) },
} as const;

export const getJobEvents = {
  tags: ["events"],
  operationId: "getJobEvents",
  summary: "One job's events: its history, then live; ends after its terminal event",
  description: `${STREAM_DESCRIPTION} The stream ends (event: end) after the job succeeds, dies or is cancelled; 204 when it had finished and nothing is after the cursor.`,
  params: jobIdParams,
  querystring: streamQuery,
  response: { 200: streamOk, 204: finishedNoContent, ...errorResponses(400, 401, 403, 404, 410) },
} as const;

export const getRunEvents = {
  tags: ["runs"],
  operationId: "getRunEvents",
  summary: "One run's events (output, telemetry, turns, state changes): its history, then live",
  description: `${STREAM_DESCRIPTION} The stream ends (event: end) after the run completes, fails or is cancelled; 204 when it had finished and nothing is after the cursor.`,
  params: runIdParams,
  querystring: streamQuery,
  response: { 200: streamOk, 204: finishedNoContent, ...errorResponses(400, 401, 403, 404, 410) },
} as const;

export const openEventSocket = {
  tags: ["events"],
  operationId: "openEventSocket",
  summary: "Event streams over a WebSocket (subscribe to all events or one job's, with a since cursor)",
  querystring: {
    type: "object",
    additionalProperties: false,
    properties: {
      access_token: {
        type: "string",
        maxLength: 256,
        description: "A stream token, for clients without headers.",
      },
    },
  },
  response: {
    101: { description: "Switching Protocols: the connection is a WebSocket from here on.", type: "null" },
    ...errorResponses(400, 401, 403),
  },
} as const;

export type OverseerEvent = Served<typeof eventSchema>;
export type EventPage = Served<typeof page>;
export type EventStreamQuery = Accepted<typeof streamQuery>;
