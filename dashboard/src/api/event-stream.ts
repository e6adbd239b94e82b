/**
 * Event streams followed with the package's client (src/client/follow.ts: fetch, so the token
 * travels in the Authorization header, never in a URL, and no short-lived stream token can
 * expire under a reconnect), fanned out to subscribers. A stream connects while anyone listens;
 * on a dropped connection it reconnects from the last seq it saw (`?since=`, which the server
 * answers with exactly the events after it), so no event is lost or repeated, waiting longer
 * after each failed attempt. `eventStream` is the one `GET /api/v1/events` every page shares; a
 * run page opens `runEventStream(id)`, which replays the run's history first and ends after its
 * last event.
 */
import { followEvents } from "../../../src/client/follow";
import { isOverseerError } from "../../../src/core/errors";
import type { OverseerEvent } from "../../../src/http/contract";
import { apiToken, transport } from "./client";

export type EventListener = (events: OverseerEvent[]) => void;
/**
 * `reconnecting`: the connection dropped or an attempt failed, and another is scheduled;
 * `lost`: several attempts in a row failed (it keeps trying, less often; `retryNow` tries at
 * once); `ended`: a finite stream (one run's) said it has nothing more to send.
 */
export type StreamStatus = "connecting" | "live" | "reconnecting" | "lost" | "ended";

/** Failed attempts in a row after which the stream is shown as lost rather than reconnecting. */
export const LOST_AFTER_FAILURES = 3;
const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30_000;

/** How long to wait after the `failures`-th failed attempt in a row: 1 s, 2 s, 4 s, ... at most 30 s. */
export function reconnectDelay(failures: number): number {
  return Math.min(FIRST_DELAY_MS * 2 ** Math.max(0, failures - 1), MAX_DELAY_MS);
}

/** How following ended (the client itself reconnects after drops, network failures and 5xx). */
type Outcome =
  /** The stream said it is finished (a finite stream's `end`, or 204). */
  | "ended"
  /** Another answer the client does not retry (403, 404): try again after a delay. */
  | "failed"
  /** 410: retention deleted events after our position; go on from now, at once. */
  | "trimmed"
  /** 401: the session's token is no longer accepted; retrying cannot help. */
  | "unauthenticated";

export class EventStream {
  private readonly listeners = new Set<EventListener>();
  private readonly statusListeners = new Set<(s: StreamStatus) => void>();
  private readonly gapListeners = new Set<() => void>();
  private controller: AbortController | null = null;
  private lastSeq: number | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Failed attempts since the stream was last live. */
  private failures = 0;
  status: StreamStatus = "connecting";

  /** `path` under /api/v1; `finite` streams end with an `end` message (or 204) and stay ended. */
  constructor(
    private readonly path: string,
    private readonly finite = false,
  ) {}

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.open();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.close();
    };
  }

  onStatus(listener: (s: StreamStatus) => void): () => void {
    this.statusListeners.add(listener);
    listener(this.status);
    return () => this.statusListeners.delete(listener);
  }

  /**
   * Called when events were lost to retention while disconnected (410): the stream goes on from
   * now, and whatever was built from events should be reloaded from the REST routes.
   */
  onGap(listener: () => void): () => void {
    this.gapListeners.add(listener);
    return () => this.gapListeners.delete(listener);
  }

  /** Drops the connection and the position: the next subscriber starts from now (sign-out). */
  reset(): void {
    this.close();
    this.lastSeq = null;
    this.failures = 0;
    if (this.status !== "ended") this.setStatus("connecting");
  }

  /** Skips the wait before the next attempt (the "retry" button of a lost stream). */
  retryNow(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    } else if (this.status === "reconnecting" || this.status === "lost") {
      // Waiting inside the client between attempts: start over from the same position.
      this.close();
    } else return;
    if (this.listeners.size > 0) this.open();
  }

  private setStatus(status: StreamStatus): void {
    this.status = status;
    for (const l of this.statusListeners) l(status);
  }

  private close(): void {
    this.controller?.abort();
    this.controller = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private open(): void {
    if (!apiToken() || this.controller || this.timer || this.status === "ended") return;
    const controller = new AbortController();
    this.controller = controller;
    this.read(controller.signal).then(
      (outcome) => this.after(controller, outcome),
      (err: Error) => {
        // Aborted: closed on purpose (no listeners, sign-out); anything else broke the connection.
        if (err.name !== "AbortError") this.after(controller, "failed");
      },
    );
  }

  private after(controller: AbortController, outcome: Outcome): void {
    if (this.controller !== controller || controller.signal.aborted) return;
    this.controller = null;
    if (outcome === "ended") {
      this.setStatus("ended");
      return;
    }
    if (outcome === "unauthenticated") {
      // The client told the app, which signs out (and resets this stream); nothing to retry.
      this.setStatus("lost");
      return;
    }
    let delay = 0;
    if (outcome === "trimmed") {
      this.lastSeq = null;
      for (const l of this.gapListeners) l();
    } else {
      this.failures += 1;
      delay = reconnectDelay(this.failures);
    }
    this.setStatus(this.failures >= LOST_AFTER_FAILURES ? "lost" : "reconnecting");
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.listeners.size > 0) this.open();
    }, delay);
  }

  /** Follows the stream, across reconnects, until it ends or fails in a way the client does not retry. */
  private async read(signal: AbortSignal): Promise<Outcome> {
    const events = followEvents<OverseerEvent>(transport, `/api/v1${this.path}`, {
      since: this.lastSeq ?? undefined,
      signal,
      reconnectDelay: () => reconnectDelay(this.failures),
      onStatus: (status) => {
        if (status === "live") this.failures = 0;
        else this.failures += 1;
        this.setStatus(status === "live" ? "live" : this.failures >= LOST_AFTER_FAILURES ? "lost" : "reconnecting");
      },
    });
    try {
      for await (const event of events) {
        this.lastSeq = event.seq;
        for (const l of this.listeners) l([event]);
      }
      // Only one run's stream has an end; the whole log's goes on.
      return this.finite ? "ended" : "failed";
    } catch (err) {
      if (isOverseerError(err, "UNAUTHENTICATED")) return "unauthenticated";
      if (isOverseerError(err, "EVENTS_TRIMMED")) return "trimmed";
      if (isOverseerError(err)) return "failed";
      throw err;
    }
  }
}

export const eventStream = new EventStream("/events");

/** One run's events: its history, then live, ending after it completes, fails or is cancelled. */
export function runEventStream(runId: string): EventStream {
  return new EventStream(`/runs/${encodeURIComponent(runId)}/events`, true);
}
