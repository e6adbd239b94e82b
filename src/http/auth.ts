/**
 * Bearer-token authentication for every route, by the scope its route declares in
 * `config.scope` ("public" for the health checks only). A route that declares no scope is
 * refused to everyone, so forgetting one fails closed. Runs on `onRequest`, before the body is
 * read: a caller without a valid token learns nothing about what a body would have done.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { scopeAllows } from "../auth/scopes.js";
import { STREAM_TOKEN_PREFIX, verifyStreamToken } from "../auth/stream-tokens.js";
import { OverseerError } from "../core/errors.js";
import type { TokenRecord, TokenScope } from "../core/types.js";

export type RouteScope = TokenScope | "public";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Who may call the route; see http/auth.ts. */
    scope?: RouteScope;
    /** The route is an event stream: it also takes a stream token as `?access_token=`. */
    streamTokens?: boolean;
  }
  interface FastifyRequest {
    /** The token that authenticated the request, once `onRequest` has run. */
    token?: TokenRecord;
  }
}

// RFC 7235: the scheme is case-insensitive ("bearer", "BEARER") and one or more spaces follow it.
const BEARER = /^Bearer +([\x21-\x7e]{1,512})$/i;

/** What checking a request's token reads (an Overseer is one). */
export interface TokenChecks {
  /** The active token whose secret this is, or null. */
  authenticate(secret: string): Promise<TokenRecord | null>;
  /** Every token, for a stream token's parent. */
  listTokens(): Promise<TokenRecord[]>;
}

export function authHook(tokens: TokenChecks) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    // Unknown routes reach the not-found handler, which answers 404 to anyone.
    if (request.is404) return;
    // CORS preflights carry no credentials by design; the only OPTIONS route is @fastify/cors's,
    // registered only when origins are listed, and it answers with headers, never data.
    if (request.method === "OPTIONS") return;
    const scope = request.routeOptions.config.scope;
    if (scope === "public") return;
    const header = request.headers.authorization;
    const accessToken = (request.query as { access_token?: unknown } | undefined)?.access_token;
    if (request.routeOptions.config.streamTokens === true && typeof accessToken === "string" && !header) {
      return streamTokenAuth(tokens, accessToken, request, scope);
    }
    if (header === undefined || header === "") {
      throw new OverseerError("UNAUTHENTICATED", "send a token: Authorization: Bearer <token>");
    }
    const secret = BEARER.exec(header)?.[1];
    const token = secret === undefined ? null : await tokens.authenticate(secret);
    if (!token) {
      throw new OverseerError("UNAUTHENTICATED", "the bearer token is malformed, unknown or revoked");
    }
    authorize(request, token, scope);
  };
}

function authorize(request: FastifyRequest, token: TokenRecord, scope: TokenScope | undefined): void {
  request.token = token;
  if (scope === undefined || !scopeAllows(token.scope, scope)) {
    throw new OverseerError(
      "FORBIDDEN",
      `token "${token.name}" has scope ${token.scope}; this needs ${scope ?? "a scope this route does not declare"}`,
      { scope: token.scope, required: scope ?? null },
    );
  }
}

/**
 * `?access_token=` takes only short-lived stream tokens: a long-lived token in a URL would end
 * up in browser history and proxy logs, so it is refused there even when valid.
 */
async function streamTokenAuth(
  tokens: TokenChecks,
  value: string,
  request: FastifyRequest,
  scope: TokenScope | undefined,
): Promise<void> {
  if (!value.startsWith(STREAM_TOKEN_PREFIX)) {
    throw new OverseerError(
      "UNAUTHENTICATED",
      "access_token takes only a stream token (POST /api/v1/stream-tokens); send API tokens as Authorization: Bearer",
    );
  }
  const token = await verifyStreamToken(tokens, value, Date.now());
  if (!token) throw new OverseerError("UNAUTHENTICATED", "the stream token is malformed, expired or revoked");
  authorize(request, token, scope);
}
