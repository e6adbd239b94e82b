/**
 * POST /api/v1/stream-tokens: a short-lived token for the event streams, for clients that
 * cannot send an Authorization header (EventSource, WebSocket in a browser). It is accepted
 * only as `?access_token=` on the stream routes, carries its parent token's scope and dies with it.
 */
import type { FastifyInstance } from "fastify";
import { MAX_STREAM_TOKEN_TTL_MS, mintStreamToken, STREAM_TOKEN_TTL_MS } from "../../auth/stream-tokens.js";
import { OverseerError } from "../../core/errors.js";
import { errorResponses } from "../schemas.js";
import { emptyBodyIsObject } from "../versions.js";

/** `defaultTtlMs`: a token's life when the request does not say (a server option; tests shorten it). */
export function streamTokenRoutes(defaultTtlMs = STREAM_TOKEN_TTL_MS) {
  if (!Number.isInteger(defaultTtlMs) || defaultTtlMs < 1 || defaultTtlMs > MAX_STREAM_TOKEN_TTL_MS) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `streamTokenTtlMs must be a whole number of milliseconds from 1 to ${MAX_STREAM_TOKEN_TTL_MS}; got ${defaultTtlMs}`,
      { field: "streamTokenTtlMs" },
    );
  }
  return async (app: FastifyInstance): Promise<void> => {
    app.post(
      "/stream-tokens",
      {
        config: { scope: "viewer" },
        preValidation: emptyBodyIsObject,
        schema: {
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
                maximum: MAX_STREAM_TOKEN_TTL_MS / 1000,
                description: `How long it is valid; default ${defaultTtlMs / 1000}.`,
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
        },
      },
      async (request, reply) => {
        const parent = request.token;
        if (!parent) throw new OverseerError("UNAUTHENTICATED", "send a token: Authorization: Bearer <token>");
        const ttlSeconds = (request.body as { ttlSeconds?: number }).ttlSeconds;
        const ttlMs = ttlSeconds === undefined ? defaultTtlMs : ttlSeconds * 1000;
        const now = Date.now();
        const token = mintStreamToken(parent, now, ttlMs);
        // Never cached: it is a credential.
        reply.header("cache-control", "no-store");
        return reply.code(201).send({ token, expiresAt: new Date(now + ttlMs).toISOString() });
      },
    );
  };
}
