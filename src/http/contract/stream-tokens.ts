/**
 * POST /api/v1/stream-tokens: a short-lived token for the event streams, for clients that cannot
 * send an Authorization header (EventSource, a browser's WebSocket).
 */
import { errorResponses, type Served } from "./schema.js";

/** The operation's schema, with the server's token lifetimes (auth/stream-tokens.ts) in it. */
export function createStreamToken(ttl: { defaultMs: number; maxMs: number }) {
  return {
    tags: ["events"],
    operationId: "createStreamToken",
    summary: "A short-lived token for the event streams (?access_token=), for EventSource and browsers",
    body: {
      type: "object",
      additionalProperties: false,
      properties: {
        ttlSeconds: {
          type: "integer",
          minimum: 1,
          maximum: ttl.maxMs / 1000,
          description: `How long it is valid; default ${ttl.defaultMs / 1000}.`,
        },
      },
    },
    response: {
      201: {
        type: "object",
        required: ["token", "expiresAt"],
        properties: { token: { type: "string" }, expiresAt: { type: "string", format: "date-time" } },
      },
      ...errorResponses(400, 401, 403),
    },
  } as const;
}

export type StreamToken = Served<ReturnType<typeof createStreamToken>["response"][201]>;
