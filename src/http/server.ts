/**
 * The HTTP API: Fastify with REST under /api/v1, the OpenAPI document generated from the
 * routes' schemas, bearer-token auth by route scope, and the error envelope for every failure.
 *
 * Secure by default: it binds 127.0.0.1 unless told otherwise, CORS is off unless origins are
 * listed, and Fastify's own request logging is off, so no request line (and no Authorization
 * header) ever reaches a log; only unexpected failures are logged, by route pattern.
 */
import cors from "@fastify/cors";
import swagger from "@fastify/swagger";
import websocket from "@fastify/websocket";
import Fastify, { type FastifyInstance } from "fastify";
import { MAX_TIMER_MS } from "../core/duration.js";
import { OverseerError } from "../core/errors.js";
import { type Logger, silentLogger } from "../core/logger.js";
import type { Overseer } from "../sdk/overseer.js";
import { authHook } from "./auth.js";
import { BusyGuard } from "./busy.js";
import { SHARED_SCHEMAS } from "./contract/shared-schemas.js";
import { dashboardRoutes } from "./dashboard.js";
import { clientErrorHandler, errorHandler, noteAnsweredEarly, sendError } from "./errors.js";
import { EventHub } from "./events/event-hub.js";
import { StreamClients } from "./events/stream-clients.js";
import { ServerMetrics } from "./metrics.js";
import { nulInBodyHook, nulInUrlHook } from "./nul-guard.js";
import { swaggerOptions } from "./openapi.js";
import { alertRoutes } from "./routes/alerts.js";
import { approvalRoutes } from "./routes/approvals.js";
import { attentionRoutes } from "./routes/attention.js";
import { claimRoutes } from "./routes/claims.js";
import { eventRoutes, type StreamSettings } from "./routes/events.js";
import { executionRoutes } from "./routes/execution.js";
import { healthRoutes } from "./routes/health.js";
import { heartbeatRoutes } from "./routes/heartbeats.js";
import { jobRoutes } from "./routes/jobs.js";
import { lessonRoutes } from "./routes/lessons.js";
import { mcpRoutes } from "./routes/mcp.js";
import { metricsRoutes } from "./routes/metrics.js";
import { oncallRoutes } from "./routes/oncall.js";
import { operatingRoutes } from "./routes/operating.js";
import { requeueRoutes } from "./routes/requeue.js";
import { runRoutes } from "./routes/runs.js";
import { scheduleRoutes } from "./routes/schedules.js";
import { signalRoutes } from "./routes/signals.js";
import { streamTokenRoutes } from "./routes/stream-tokens.js";
import { websocketRoutes } from "./routes/websocket.js";
import { whoamiRoutes } from "./routes/whoami.js";
import { FALLBACK_SECURITY_HEADERS, securityHeaders } from "./security-headers.js";

export const API_PREFIX = "/api/v1";
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 7070;
/** Enough for a batch of 1,000 jobs with modest payloads; a larger body is refused with 413. */
const BODY_LIMIT = 4 * 1024 * 1024;
/**
 * How long a client has to send a whole request, headers and body: a 4 MiB body at 150 KB/s.
 * A slower one is answered 408 and closed, so trickling connections cannot pile up. Only the
 * request counts: an event stream's response may last for hours.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/**
 * How long an idle keep-alive connection stays open: longer than the 60 s idle timeout of
 * common load balancers and proxies, so that they close first and never reuse a closed one.
 */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 72_000;
/** Open connections (event streams included) beyond which new ones are closed at once. */
export const DEFAULT_MAX_CONNECTIONS = 1_024;

export interface HttpServerOptions {
  overseer: Overseer;
  logger?: Logger;
  /** Origins allowed to call the API from a browser; none (CORS off) unless listed. */
  corsOrigins?: readonly string[];
  bodyLimit?: number;
  /** Serve /metrics without a token (`--metrics-public`). Default false: a metrics or admin token. */
  metricsPublic?: boolean;
  /** A `:keepalive` comment (WebSocket: a ping) this often on quiet event streams. Default 15 s. */
  streamKeepaliveMs?: number;
  /** Reconnect delay suggested to SSE clients. Default 2 s. */
  streamRetryMs?: number;
  /** Bytes an event-stream client may leave unread before it is disconnected. Default 1 MiB. */
  streamBufferBytes?: number;
  /** How often the event reader looks for events nothing woke it for. Default 250 ms. */
  eventPollMs?: number;
  /** Time to receive a request's headers and body before answering 408. Default 30 s. */
  requestTimeoutMs?: number;
  /** Time an idle keep-alive connection stays open. Default 72 s. */
  keepAliveTimeoutMs?: number;
  /** Open connections allowed; more are closed as they arrive. Default 1,024. */
  maxConnections?: number;
  /** How long a stream token lives when its request does not say (`ttlSeconds`). Default 60 s, at most 10 min. */
  streamTokenTtlMs?: number;
}

export interface RouteInfo {
  method: string;
  url: string;
  scope: string | undefined;
}

export interface HttpServer {
  readonly app: FastifyInstance;
  /** The process's one event-log reader behind every stream. */
  readonly events: EventHub;
  readonly metrics: ServerMetrics;
  /** Every route the server registered, as it registered them (tests build their matrices from it). */
  readonly routes: readonly RouteInfo[];
}

/** A connection limit: a whole number from 1 to `max` (0 would switch the limit off), or its default. */
function limit(name: string, value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new OverseerError("INVALID_ARGUMENT", `${name} must be a whole number from 1 to ${max}; got ${value}`, {
      field: name,
    });
  }
  return value;
}

export async function buildHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { overseer } = options;
  const logger = options.logger ?? silentLogger;
  // First, so that a bad option is refused before anything is built.
  const streamTokens = streamTokenRoutes(options.streamTokenTtlMs);
  const requestTimeout = limit("requestTimeoutMs", options.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS, MAX_TIMER_MS);
  const keepAliveTimeout = limit(
    "keepAliveTimeoutMs",
    options.keepAliveTimeoutMs,
    DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    MAX_TIMER_MS,
  );
  const maxConnections = limit("maxConnections", options.maxConnections, DEFAULT_MAX_CONNECTIONS, 1_000_000);
  const app = Fastify({
    requestTimeout,
    keepAliveTimeout,
    http: {
      // Headers are part of the request: the same bound. Node checks for expired requests every
      // connectionsCheckingInterval (30 s by default, longer than the timeout itself).
      headersTimeout: requestTimeout,
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(requestTimeout / 4))),
    },
    // No Fastify logger at all: no request lines, so no Authorization header, can be logged.
    logger: false,
    exposeHeadRoutes: false,
    bodyLimit: options.bodyLimit ?? BODY_LIMIT,
    // Claim keys run to 200 characters, 600 once ':' is percent-encoded (the default is 100).
    routerOptions: { maxParamLength: 640 },
    clientErrorHandler,
    // A URL that cannot be decoded (`%ZZ`) is bad input like any other. It is answered before
    // any hook runs, so the security headers are set here.
    frameworkErrors: (err, _request, reply) =>
      sendError(
        reply.headers(FALLBACK_SECURITY_HEADERS),
        new OverseerError("INVALID_ARGUMENT", `the URL is malformed: ${err.message}`),
      ),
    ajv: {
      // Reject what a client got wrong instead of guessing: no type coercion (so "5" is not a
      // number), and unknown fields are errors rather than silently dropped.
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false, allowUnionTypes: true },
    },
  });
  // Node closes connections over the cap as they are accepted, before any byte is read.
  app.server.maxConnections = maxConnections;
  const routes: RouteInfo[] = [];
  app.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) routes.push({ method, url: route.url, scope: route.config?.scope });
  });

  // JSON only: a text body is refused with 415 rather than handed to the routes as a string.
  app.removeContentTypeParser("text/plain");
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  app.setErrorHandler(errorHandler(logger));
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      new OverseerError("ROUTE_NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]?.slice(0, 200)}`, {
        method: request.method,
      }),
    ),
  );
  // First, so that every answer carries them, refusals by the hooks below included.
  await app.register(...securityHeaders);
  // Before the auth hook: its own onRequest hook marks upgrade requests, so that a refused
  // handshake's socket is closed after the answer rather than left open (holding close()).
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  // Before the auth hook too: a refusal (401, 403) must carry the CORS headers, or a page on an
  // allowed origin cannot read it, and cannot tell "sign in again" from "the server is down".
  if (options.corsOrigins && options.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: [...options.corsOrigins],
      methods: ["GET", "POST"],
      allowedHeaders: ["Authorization", "Content-Type", "If-Match", "Last-Event-ID"],
      exposedHeaders: ["ETag"],
    });
  }
  // NULs are refused at the boundary, so both backends answer them alike (see nul-guard.ts).
  app.addHook("onRequest", nulInUrlHook);
  app.addHook("onRequest", authHook(overseer));
  app.addHook("preValidation", nulInBodyHook);

  const events = new EventHub({ store: overseer, logger, pollMs: options.eventPollMs });
  const clients = new StreamClients();
  const metrics = new ServerMetrics(overseer, clients, logger);
  events.subscribe(metrics.onEvents);
  // Open streams would hold close() forever: end them first, then stop the reader.
  app.addHook("preClose", async () => clients.closeAll());
  app.addHook("onClose", async () => events.close());
  // The server's time on each answer, from the request's arrival to its serialized body, so a
  // browser's network panel (and the bench) can tell the server's share of a slow page from the
  // network's. Streams answered by hand (SSE) send their own headers and carry none.
  app.addHook("onSend", async (_request, reply, payload) => {
    reply.header("server-timing", `app;dur=${reply.elapsedTime.toFixed(1)}`);
    return payload;
  });
  app.addHook("onResponse", async (request, reply) => {
    noteAnsweredEarly(request.raw);
    metrics.httpRequests.inc({
      method: request.method,
      route: request.routeOptions.url ?? "unmatched",
      status: String(reply.statusCode),
    });
  });
  const settings: StreamSettings = {
    keepaliveMs: options.streamKeepaliveMs ?? 15_000,
    retryMs: options.streamRetryMs ?? 2_000,
    maxBufferedBytes: options.streamBufferBytes ?? 1024 * 1024,
  };
  const streams = {
    overseer,
    logger,
    hub: events,
    clients,
    settings,
    countRequest: (route: string, status: number) =>
      metrics.httpRequests.inc({ method: "GET", route, status: String(status) }),
  };

  await app.register(swagger, swaggerOptions());

  await app.register(healthRoutes(overseer, logger));
  await app.register(metricsRoutes(metrics, options.metricsPublic === true));
  // One per server: a second control action on the same job, run or approval gets 429 BUSY.
  const busy = new BusyGuard();
  await app.register(
    async (api) => {
      api.get("/openapi.json", { config: { scope: "viewer" }, schema: { hide: true } }, async () => app.swagger());
      await api.register(jobRoutes(overseer, busy));
      await api.register(operatingRoutes(overseer));
      await api.register(scheduleRoutes(overseer));
      await api.register(runRoutes(overseer, busy));
      await api.register(approvalRoutes(overseer, busy));
      await api.register(alertRoutes(overseer, busy));
      await api.register(heartbeatRoutes(overseer));
      await api.register(requeueRoutes(overseer));
      await api.register(signalRoutes(overseer));
      await api.register(claimRoutes(overseer));
      await api.register(lessonRoutes(overseer));
      await api.register(mcpRoutes(overseer, logger));
      await api.register(eventRoutes(streams));
      await api.register(streamTokens);
      await api.register(websocketRoutes(streams));
      await api.register(whoamiRoutes(overseer));
      await api.register(executionRoutes(overseer));
      await api.register(oncallRoutes(overseer));
      await api.register(attentionRoutes(overseer));
    },
    { prefix: API_PREFIX },
  );
  await app.register(dashboardRoutes());
  await app.ready();
  // Last, so that a server that failed to build leaves no reader running; before listening, so
  // that the first client already has a cursor to start from.
  await events.start();
  return { app, routes, events, metrics };
}

export interface StartedHttpServer extends HttpServer {
  /** The URL it listens on, e.g. http://127.0.0.1:7070 (the real port when asked for port 0). */
  readonly url: string;
  close(): Promise<void>;
}

export async function startHttpServer(
  options: HttpServerOptions & { host?: string; port?: number },
): Promise<StartedHttpServer> {
  const server = await buildHttpServer(options);
  const host = options.host ?? DEFAULT_HOST;
  try {
    await server.app.listen({ host, port: options.port ?? DEFAULT_PORT });
  } catch (err) {
    await server.app.close();
    const code = (err as { code?: string }).code;
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `cannot listen on ${host}:${options.port ?? DEFAULT_PORT}: ${code === "EADDRINUSE" ? "the port is in use" : (err as Error).message}`,
      { field: "port" },
    );
  }
  const address = server.app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : (options.port ?? DEFAULT_PORT);
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return { ...server, url: `http://${shownHost}:${port}`, close: () => server.app.close() };
}
