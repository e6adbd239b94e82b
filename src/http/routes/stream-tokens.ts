/**
 * POST /api/v1/stream-tokens: a short-lived token for the event streams, for clients that
 * cannot send an Authorization header (EventSource, WebSocket in a browser). It is accepted
 * only as `?access_token=` on the stream routes, carries its parent token's scope and dies with it.
 */
import type { FastifyInstance } from "fastify";
import { MAX_STREAM_TOKEN_TTL_MS, mintStreamToken, STREAM_TOKEN_TTL_MS } from "../../auth/stream-tokens.js";
import { OverseerError } from "../../core/errors.js";
import { createStreamToken } from "../contract/stream-tokens.js";
import { typed } from "../type-provider.js";
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
  return async (fastify: FastifyInstance): Promise<void> => {
    typed(fastify).post(
      "/stream-tokens",
      {
        config: { scope: "viewer" },
        preValidation: emptyBodyIsObject,
        schema: createStreamToken({ defaultMs: defaultTtlMs, maxMs: MAX_STREAM_TOKEN_TTL_MS }),
      },
      async (request, reply) => {
        const parent = request.token;
        if (!parent) throw new OverseerError("UNAUTHENTICATED", "send a token: Authorization: Bearer <token>");
        const { ttlSeconds } = request.body;
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
