/**
 * The OpenAPI document's frame: what @fastify/swagger is given besides the routes' own schemas.
 * The document describes the answers the server as a whole gives to any route (413 for an
 * oversized request, 415 for a body that is not JSON) here, once, so that no route can forget
 * them; and it gives every error status a description, where Fastify's would be "Default Response".
 */
import type { SwaggerOptions } from "@fastify/swagger";
import { ref } from "./contract/schema.js";

/** Each tag the routes use, with what it groups. A test checks that every operation's tags are here. */
export const OPENAPI_TAGS = [
  { name: "attention", description: "Everything that needs a person now, counted, with the first few of each." },
  { name: "health", description: "Liveness and readiness, for load balancers and supervisors; no token needed." },
  { name: "metrics", description: "Prometheus metrics of the jobs, queues, workers, runs, streams and the process." },
  {
    name: "jobs",
    description: "Enqueue jobs, list and read them, and retry, cancel or discard them one by one or by filter.",
  },
  { name: "queues", description: "Queue depth and age; pause and resume claiming from a queue." },
  { name: "workers", description: "The registered workers, their heartbeats and the jobs they hold." },
  { name: "stats", description: "Counts, throughput and latency over the last minutes." },
  { name: "schedules", description: "Cron schedules: list, enable, disable, or fire one now." },
  { name: "runs", description: "Agent runs: start, watch, pause, resume or cancel them, and read their output." },
  { name: "approvals", description: "Human approvals jobs asked for: list them and approve or deny." },
  { name: "execution", description: "Whether handlers may do their side effects, or record them as dry runs." },
  {
    name: "oncall",
    description: "Who is on call in each rotation, and overrides: someone on call in another's place.",
  },
  { name: "alerts", description: "Alerts and their escalation: raise, acknowledge, escalate, close." },
  { name: "heartbeats", description: "Heartbeat monitors that alert when a ping is late." },
  { name: "claims", description: "Leases on keys with fencing tokens, for work outside Overseer's jobs." },
  { name: "lessons", description: "What finished sessions taught, and the search for lessons like a new one." },
  {
    name: "mcp",
    description: "The Model Context Protocol for agents: enqueue, ask for approval and wait, claim, and learn.",
  },
  { name: "events", description: "The event log, as Server-Sent Events, one JSON page, or over a WebSocket." },
  { name: "auth", description: "Who the calling token is." },
] as const;

/** Why a route answers each error status, in the words of the error codes behind it (docs/errors.md). */
const ERROR_DESCRIPTIONS: Record<string, string> = {
  400: "Bad input: the error's code says what, and details.field where.",
  401: "No bearer token, or one that is unknown, revoked or expired (UNAUTHENTICATED).",
  403: "The token's scope does not allow this (FORBIDDEN), or this caller may not do it.",
  404: "Not found: the error's code names what is missing.",
  409: "A conflict: the record is no longer at the version sent, or its state does not allow this.",
  410: "The events after the cursor were deleted by retention (EVENTS_TRIMMED): start again from the oldest.",
  413: "The request line, headers or body are larger than the server accepts (REQUEST_TOO_LARGE).",
  415: "The request has a body that is not JSON (UNSUPPORTED_MEDIA_TYPE).",
  416: "The byte range starts beyond the end of the output (RANGE_NOT_SATISFIABLE).",
  429: "Another control action on the same record is in progress, or the job is running (BUSY): try again after Retry-After.",
  503: "The database does not answer (DATABASE_UNAVAILABLE), or the server is shutting down.",
};

/** Methods whose request body Fastify reads, so that any of them can be refused with 413 or 415. */
const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

type Responses = Record<string, unknown>;

/**
 * One route's schema as the document shows it: 413 on every operation (Node refuses oversized
 * request lines and headers before any route runs; the body limit applies wherever a body is
 * read), 415 wherever a body is read, and a description on every error response. The route's
 * own schema, which Fastify validates and serialises with, is left as it is.
 */
export function documentedSchema(schema: Record<string, unknown>, methods: readonly string[]): Record<string, unknown> {
  if (schema.hide === true) return schema;
  const declared = (schema.response ?? {}) as Responses;
  const readsBody = methods.some((m) => BODY_METHODS.has(m.toUpperCase()));
  const response: Responses = { ...declared };
  response[413] ??= ref("ErrorEnvelope");
  if (readsBody) response[415] ??= ref("ErrorEnvelope");
  for (const [status, value] of Object.entries(response)) {
    const description = ERROR_DESCRIPTIONS[status];
    if (description === undefined || typeof value !== "object" || value === null) continue;
    if ("description" in value) continue;
    response[status] = { ...value, description };
  }
  return { ...schema, response };
}

export function swaggerOptions(): SwaggerOptions {
  return {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Overseer HTTP API",
        version: "1",
        description:
          "Durable jobs, agent runs and human approvals: enqueue, watch and steer them. " +
          "Errors are {error: {code, message, details}}; the codes are listed in docs/errors.md.",
        license: { name: "MIT", identifier: "MIT" },
      },
      // Relative: the server that served this document (at /api/v1/openapi.json), wherever it listens.
      servers: [{ url: "/", description: "The Overseer server that served this document." }],
      tags: [...OPENAPI_TAGS],
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (json.$id as string | undefined) ?? `def-${i}` },
    transform: ({ schema, url, route }) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const scope = route.config?.scope;
      const note = scope === undefined || scope === "public" ? "" : `Needs a token with scope ${scope} (or admin).`;
      const documented = documentedSchema((schema ?? {}) as Record<string, unknown>, methods);
      const description = [documented.description, note].filter(Boolean).join(" ");
      return { url, schema: { ...documented, ...(description ? { description } : {}) } };
    },
  };
}
