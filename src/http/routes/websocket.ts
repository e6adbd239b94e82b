/**
 * GET /api/v1/ws: the event streams over one WebSocket. The client sends JSON messages
 *   {"type": "subscribe", "id": "a", "jobId"?: "...", "runId"?: "...", "since"?: 42}   and   {"type": "unsubscribe", "id": "a"}
 * and receives, per subscription id,
 *   {"type": "subscribed", "id", "since"}, {"type": "event", "id", "event"}, {"type": "end", "id", "lastEventId"}
 * and {"type": "error", "id", "error": {code, message, details}} (the HTTP error envelope's inside,
 * e.g. EVENTS_TRIMMED). Same feed, cursor and limits as SSE; a client that falls too far behind
 * is closed with code 4008 and resumes with `since` = the last seq it got.
 */
import type { FastifyInstance } from "fastify";
import type { WebSocket } from "ws";
import { OverseerError } from "../../core/errors.js";
import { openEventSocket } from "../contract/events.js";
import { toOverseerError } from "../errors.js";
import { EventFeed, type EventSubject, type FeedSink, resolveStart } from "../events/event-feed.js";
import type { StreamDeps } from "./events.js";

/** Close code for a client that fell too far behind (4000-4999 are the application's). */
export const WS_CLOSE_TOO_SLOW = 4008;
const MAX_SUBSCRIPTIONS = 32;
const MAX_MESSAGE_BYTES = 4_096;

interface Subscribe {
  type: "subscribe";
  id: string;
  jobId?: string;
  runId?: string;
  since?: number;
}

export function websocketRoutes(deps: StreamDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    app.route({
      method: "GET",
      url: "/ws",
      config: { scope: "viewer", streamTokens: true },
      schema: openEventSocket,
      handler: async () => {
        throw new OverseerError("INVALID_ARGUMENT", "this route speaks WebSocket: send an Upgrade: websocket request", {
          field: "headers.upgrade",
        });
      },
      wsHandler: (socket) => {
        deps.countRequest("/api/v1/ws", 101);
        serveSocket(deps, socket);
      },
    });
  };
}

function serveSocket(deps: StreamDeps, socket: WebSocket): void {
  // An id is reserved (null) while its subscription starts, so a repeated id is refused at once.
  const feeds = new Map<string, EventFeed | null>();
  const send = (message: object) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  };
  const fail = (id: string | null, err: unknown) => {
    const known = toOverseerError(err);
    if (!known) deps.logger.error({ err }, "event stream over WebSocket: a subscription failed");
    const e = known ?? new OverseerError("INTERNAL_ERROR", "internal error; the server log has the details");
    send({ type: "error", id, error: e.toJSON() });
  };
  const closeAll = () => {
    for (const feed of feeds.values()) feed?.close();
    feeds.clear();
  };
  const unregister = deps.clients.add("websocket", () => {
    closeAll();
    socket.close(1001, "server shutting down");
  });
  const ping = setInterval(() => socket.ping(), deps.settings.keepaliveMs);
  ping.unref();
  socket.on("close", () => {
    clearInterval(ping);
    closeAll();
    unregister();
  });
  socket.on("message", (data, isBinary) => {
    let message: unknown;
    try {
      if (isBinary) throw new Error("binary");
      const text = data.toString();
      if (text.length > MAX_MESSAGE_BYTES) throw new Error("too large");
      message = JSON.parse(text);
    } catch {
      return fail(null, new OverseerError("INVALID_ARGUMENT", "messages are JSON text of at most 4 KiB"));
    }
    try {
      const parsed = parseMessage(message);
      if (parsed.type === "unsubscribe") {
        feeds.get(parsed.id)?.close();
        feeds.delete(parsed.id);
        return;
      }
      if (feeds.has(parsed.id)) throw new OverseerError("INVALID_ARGUMENT", `subscription "${parsed.id}" is open`);
      if (feeds.size >= MAX_SUBSCRIPTIONS) {
        throw new OverseerError("INVALID_ARGUMENT", `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection`);
      }
      feeds.set(parsed.id, null);
      subscribe(parsed).catch((err: unknown) => {
        feeds.delete(parsed.id);
        fail(parsed.id, err);
      });
    } catch (err) {
      fail(typeof (message as { id?: unknown })?.id === "string" ? (message as { id: string }).id : null, err);
    }
  });

  async function subscribe(request: Subscribe): Promise<void> {
    const { id } = request;
    const start = await resolveStart(deps.overseer, deps.hub, {
      since: request.since ?? null,
      subject: subjectOf(request),
    });
    // Closed or unsubscribed while it started.
    if (socket.readyState !== socket.OPEN || !feeds.has(id)) return;
    const prefix = `{"type":"event","id":${JSON.stringify(id)},"event":`;
    const sink: FeedSink = {
      send: (events) => {
        for (const e of events) socket.send(`${prefix}${e.json}}`);
      },
      buffered: () => socket.bufferedAmount,
      drained: () => waitForDrain(socket),
      end: () => {
        feeds.delete(id);
        send({ type: "end", id, lastEventId: feed.cursor });
      },
      overflow: () => {
        closeAll();
        socket.close(WS_CLOSE_TOO_SLOW, "too slow: reconnect and subscribe with since = the last seq you got");
      },
    };
    const feed = new EventFeed(
      deps.overseer,
      deps.hub,
      sink,
      { maxBufferedBytes: deps.settings.maxBufferedBytes },
      subjectOf(request),
      start.since,
    );
    feeds.set(id, feed);
    send({ type: "subscribed", id, since: start.since });
    await feed.run(start.finished);
  }
}

function parseMessage(message: unknown): Subscribe | { type: "unsubscribe"; id: string } {
  const m = message as Record<string, unknown>;
  if (typeof m !== "object" || m === null || Array.isArray(m)) {
    throw new OverseerError("INVALID_ARGUMENT", "a message is a JSON object with a type");
  }
  if (typeof m.id !== "string" || m.id.length < 1 || m.id.length > 64) {
    throw new OverseerError("INVALID_ARGUMENT", "id: a subscription id of 1-64 characters is required", {
      field: "id",
    });
  }
  if (m.type === "unsubscribe") return { type: "unsubscribe", id: m.id };
  if (m.type !== "subscribe") {
    throw new OverseerError("INVALID_ARGUMENT", "type must be subscribe or unsubscribe", { field: "type" });
  }
  for (const key of Object.keys(m)) {
    if (!["type", "id", "jobId", "runId", "since"].includes(key)) {
      throw new OverseerError("INVALID_ARGUMENT", `unknown field "${key}"`, { field: key });
    }
  }
  if (m.jobId !== undefined && (typeof m.jobId !== "string" || m.jobId.length < 1 || m.jobId.length > 64)) {
    throw new OverseerError("INVALID_ARGUMENT", "jobId must be a job id", { field: "jobId" });
  }
  if (m.runId !== undefined && (typeof m.runId !== "string" || m.runId.length < 1 || m.runId.length > 64)) {
    throw new OverseerError("INVALID_ARGUMENT", "runId must be a run id", { field: "runId" });
  }
  if (m.jobId !== undefined && m.runId !== undefined) {
    throw new OverseerError("INVALID_ARGUMENT", "subscribe to a jobId or a runId, not both", { field: "runId" });
  }
  if (m.since !== undefined && !(Number.isSafeInteger(m.since) && (m.since as number) >= 0)) {
    throw new OverseerError("INVALID_ARGUMENT", "since must be an event seq (a whole number)", { field: "since" });
  }
  return {
    type: "subscribe",
    id: m.id,
    jobId: m.jobId as string | undefined,
    runId: m.runId as string | undefined,
    since: m.since as number | undefined,
  };
}

function subjectOf(request: Subscribe): EventSubject | undefined {
  if (request.jobId !== undefined) return { jobId: request.jobId };
  if (request.runId !== undefined) return { runId: request.runId };
  return undefined;
}

function waitForDrain(socket: WebSocket): Promise<void> {
  // ws has no drain event of its own; its buffer empties as the socket drains.
  return new Promise((resolve) => {
    const check = () => {
      if (socket.bufferedAmount === 0 || socket.readyState !== socket.OPEN) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(check, 20);
  });
}
