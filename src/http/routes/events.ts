/**
 * GET /api/v1/events, /api/v1/jobs/:id/events and /api/v1/runs/:id/events: the event log as Server-Sent Events (or, for
 * a client that asks for JSON, one page of it). Each SSE message carries the event's seq as its
 * `id`, so a reconnecting EventSource sends `Last-Event-ID` and gets exactly what it missed.
 * These routes also take a stream token as `?access_token=` (see auth/stream-tokens.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { OverseerError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { OverseerEvent } from "../../core/types.js";
import { assertSubjectKnown } from "../../sdk/event-subjects.js";
import type { Overseer } from "../../sdk/overseer.js";
import * as contract from "../contract/events.js";
import { SEQ } from "../contract/events.js";
import { EventFeed, type EventSubject, type FeedSink, resolveStart } from "../events/event-feed.js";
import type { EventHub, HubEvent } from "../events/event-hub.js";
import type { StreamClients } from "../events/stream-clients.js";
import { typed } from "../type-provider.js";

export interface StreamSettings {
  /** A `:keepalive` comment this often on a quiet stream, so proxies keep it open. */
  keepaliveMs: number;
  /** The reconnect delay suggested to clients (`retry:`). */
  retryMs: number;
  /** Bytes a client may leave unread before it is disconnected. */
  maxBufferedBytes: number;
}

export interface StreamDeps {
  overseer: Overseer;
  logger: Logger;
  hub: EventHub;
  clients: StreamClients;
  settings: StreamSettings;
  /** Counts a request Fastify's hooks do not see (a stream takes its response over). */
  countRequest(route: string, status: number): void;
}

export function eventRoutes(deps: StreamDeps) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = typed(fastify);
    app.get(
      "/events",
      {
        config: { scope: "viewer", streamTokens: true },
        schema: contract.getEvents,
      },
      (request, reply) => serve(deps, request, reply, undefined),
    );
    app.get(
      "/jobs/:id/events",
      {
        config: { scope: "viewer", streamTokens: true },
        schema: contract.getJobEvents,
      },
      (request, reply) => serve(deps, request, reply, { jobId: request.params.id }),
    );
    app.get(
      "/runs/:id/events",
      {
        config: { scope: "viewer", streamTokens: true },
        schema: contract.getRunEvents,
      },
      (request, reply) => serve(deps, request, reply, { runId: request.params.id }),
    );
  };
}

/** The client's cursor: `Last-Event-ID` (what EventSource sends) wins over `?since=`. */
function cursorOf(request: FastifyRequest): number | null {
  const header = request.headers["last-event-id"];
  if (typeof header === "string" && header !== "") {
    if (!new RegExp(SEQ).test(header)) {
      throw new OverseerError("INVALID_ARGUMENT", "Last-Event-ID must be an event seq (digits)", {
        field: "headers.last-event-id",
      });
    }
    return Number(header);
  }
  const since = (request.query as contract.EventStreamQuery).since;
  return since === undefined ? null : Number(since);
}

function wantsJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? "";
  return accept.includes("application/json") && !accept.includes("text/event-stream");
}

/**
 * The JSON page, or the reply once a stream has taken it over (or a 204 was sent): the reply is
 * thenable, so the route's answer is then nothing for Fastify to serialise.
 */
async function serve(
  deps: StreamDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  subject: EventSubject | undefined,
) {
  const since = cursorOf(request);
  if (wantsJson(request)) return jsonPage(deps, request, subject, since);
  const start = await resolveStart(deps.overseer, deps.hub, { since, subject });
  if (start.finished && subject !== undefined) {
    const [next] = await deps.overseer.readEvents({ ...subject, afterSeq: start.since, limit: 1 });
    // 204 tells an EventSource to stop reconnecting: the subject is done and the client has it all.
    if (!next) return reply.code(204).send();
  }
  openStream(deps, reply, subject, start.since, start.finished);
  return reply;
}

async function jsonPage(
  deps: StreamDeps,
  request: FastifyRequest,
  subject: EventSubject | undefined,
  since: number | null,
) {
  const { limit: rawLimit } = request.query as contract.EventStreamQuery;
  const limit = rawLimit === undefined ? 100 : Number(rawLimit);
  if (limit < 1 || limit > 1000) {
    throw new OverseerError("INVALID_ARGUMENT", `limit must be from 1 to 1000; got ${rawLimit}`, { field: "limit" });
  }
  const { overseer } = deps;
  if (subject !== undefined) await assertSubjectKnown(overseer, subject);
  const [lastSeq, [oldest]] = await Promise.all([
    overseer.lastEventSeq(),
    overseer.readEvents({ afterSeq: 0, limit: 1 }),
  ]);
  let items: OverseerEvent[];
  if (since !== null) items = await overseer.readEvents({ afterSeq: since, ...subject, limit });
  else if (subject === undefined) items = await overseer.readEvents({ afterSeq: Math.max(0, lastSeq - limit), limit });
  else items = await latestOf(overseer, subject, limit);
  return { items, lastSeq, oldestSeq: oldest?.seq ?? null };
}

async function latestOf(overseer: Overseer, subject: EventSubject, limit: number) {
  let latest: Awaited<ReturnType<Overseer["readEvents"]>> = [];
  let after = 0;
  for (;;) {
    const events = await overseer.readEvents({ ...subject, afterSeq: after, limit: 1_000 });
    latest = [...latest, ...events].slice(-limit);
    const last = events.at(-1);
    if (!last || events.length < 1_000) return latest;
    after = last.seq;
  }
}

function encode(events: readonly HubEvent[]): string {
  let text = "";
  for (const e of events) text += `id: ${e.event.seq}\ndata: ${e.json}\n\n`;
  return text;
}

/** A hub batch's frames, encoded once however many clients receive the whole batch. */
const encoded = new WeakMap<readonly HubEvent[], string>();
function sseFrames(batch: readonly HubEvent[]): string {
  let text = encoded.get(batch);
  if (text === undefined) {
    text = encode(batch);
    encoded.set(batch, text);
  }
  return text;
}

/** Takes the response over from Fastify and streams until the client leaves or the feed ends. */
function openStream(
  deps: StreamDeps,
  reply: FastifyReply,
  subject: EventSubject | undefined,
  since: number,
  finished: boolean,
): void {
  const { settings } = deps;
  reply.hijack();
  deps.countRequest(reply.request.routeOptions.url ?? "unmatched", 200);
  const raw = reply.raw;
  // Events are small writes that must leave at once, not wait for the previous one's ACK (Nagle).
  raw.socket?.setNoDelay(true);
  raw.writeHead(200, {
    // Headers set by hooks (CORS) before the takeover.
    ...(reply.getHeaders() as Record<string, string>),
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  raw.write(`retry: ${settings.retryMs}\n\n`);

  let gone = false;
  const sink: FeedSink = {
    send: (events, whole) => {
      if (!raw.writableEnded) raw.write(whole ? sseFrames(events) : encode(events));
    },
    buffered: () => raw.writableLength,
    drained: () =>
      new Promise((resolve) => {
        if (gone || raw.writableLength === 0) return resolve();
        const done = () => {
          raw.off("drain", done);
          raw.off("close", done);
          resolve();
        };
        raw.on("drain", done);
        raw.on("close", done);
      }),
    end: () => {
      clearInterval(keepalive);
      raw.end(`event: end\ndata: ${JSON.stringify({ reason: "finished", lastEventId: feed.cursor })}\n\n`);
    },
    // Nothing more can be written to a client that is not reading: drop the connection.
    overflow: () => raw.destroy(),
  };
  const feed = new EventFeed(
    deps.overseer,
    deps.hub,
    sink,
    { maxBufferedBytes: settings.maxBufferedBytes },
    subject,
    since,
  );
  const keepalive = setInterval(() => {
    if (!raw.writableEnded && raw.writableLength < settings.maxBufferedBytes) raw.write(":keepalive\n\n");
  }, settings.keepaliveMs);
  keepalive.unref();
  const unregister = deps.clients.add("sse", () => {
    feed.close();
    raw.end();
  });
  raw.on("close", () => {
    gone = true;
    clearInterval(keepalive);
    feed.close();
    unregister();
  });
  feed.run(finished).catch((err: unknown) => {
    // The store failed mid-replay: the client reconnects with its cursor and tries again.
    deps.logger.warn({ err }, "event stream: replaying the event log failed; the client was disconnected");
    feed.close();
    raw.destroy();
  });
}
