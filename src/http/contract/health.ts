/**
 * /healthz, /readyz and /metrics: what load balancers, supervisors and scrapers call. Health
 * needs no token; metrics needs one unless the server makes them public.
 */
import { errorResponses } from "./schema.js";

const status = <const Value extends string>(value: Value) =>
  ({
    type: "object",
    required: ["status"],
    properties: { status: { type: "string", enum: [value] } },
  }) as const;

export const checkHealth = {
  tags: ["health"],
  operationId: "checkHealth",
  summary: "The process is alive",
  description: "200 while the process answers HTTP at all; it does not touch the database (see /readyz).",
  security: [],
  response: { 200: status("ok") },
} as const;

export const checkReadiness = {
  tags: ["health"],
  operationId: "checkReadiness",
  summary: "The process and its database answer",
  description: "200 once a query on the database answers; 503 DATABASE_UNAVAILABLE while it does not.",
  security: [],
  response: { 200: status("ready"), ...errorResponses(503) },
} as const;

/** `isPublic`: served without a token (`--metrics-public`), which the document says with `security: []`. */
export function getMetrics(isPublic: boolean) {
  return {
    tags: ["metrics"],
    operationId: "getMetrics",
    summary: "Prometheus metrics: jobs, queues, workers, event-stream clients, HTTP, process",
    description: "Every family, with its type and labels, is listed in docs/http-api.md#metrics.",
    ...(isPublic ? { security: [] } : {}),
    response: {
      200: {
        description: "The Prometheus text exposition format, version 0.0.4.",
        content: { "text/plain": { schema: { type: "string" } } },
      },
      ...errorResponses(401, 403),
    },
  } as const;
}
