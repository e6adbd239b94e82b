/**
 * Bearer-token authentication for every route, by the scope its route declares in
 * `config.scope` ("public" for the health checks only). A route that declares no scope is
 * refused to everyone, so forgetting one fails closed. Runs on `onRequest`, before the body is
 * read: a caller without a valid token learns nothing about what a body would have done.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { scopeAllows } from "../auth/scopes.js";
import { authenticate } from "../auth/tokens.js";
import { OverseerError } from "../core/errors.js";
import type { TokenRecord, TokenScope } from "../core/types.js";
import type { Store } from "../store/store.js";

export type RouteScope = TokenScope | "public";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Who may call the route; see http/auth.ts. */
    scope?: RouteScope;
  }
  interface FastifyRequest {
    /** The token that authenticated the request, once `onRequest` has run. */
    token?: TokenRecord;
  }
}

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

export function authHook(store: Store) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    // Unknown routes reach the not-found handler, which answers 404 to anyone.
    if (request.is404) return;
    // CORS preflights carry no credentials by design; the only OPTIONS route is @fastify/cors's,
    // registered only when origins are listed, and it answers with headers, never data.
    if (request.method === "OPTIONS") return;
    const scope = request.routeOptions.config.scope;
    if (scope === "public") return;
    const header = request.headers.authorization;
    if (header === undefined || header === "") {
      throw new OverseerError("UNAUTHENTICATED", "send a token: Authorization: Bearer <token>");
    }
    const secret = BEARER.exec(header)?.[1];
    const token = secret === undefined ? null : await authenticate(store, secret);
    if (!token) {
      throw new OverseerError("UNAUTHENTICATED", "the bearer token is malformed, unknown or revoked");
    }
    request.token = token;
    if (scope === undefined || !scopeAllows(token.scope, scope)) {
      throw new OverseerError(
        "FORBIDDEN",
        `token "${token.name}" has scope ${token.scope}; this needs ${scope ?? "a scope this route does not declare"}`,
        { scope: token.scope, required: scope ?? null },
      );
    }
  };
}
