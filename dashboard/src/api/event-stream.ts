/**
 * Event streams read with fetch (so the token travels in the Authorization header, never in a
 * URL, and no short-lived stream token can expire under a reconnect), parsed as SSE and fanned
 * out to subscribers. A stream connects while anyone listens; on a dropped connection it
 * reconnects from the last seq it saw (`?since=`, which the server answers with exactly the
 * events after it), so no event is lost or repeated, waiting longer after each failed attempt.
 * `eventStream` is the one `GET /api/v1/events` every page shares; a run page opens
 * `runEventStream(id)`, which replays the run's history first and ends after its last event.
 */
import { apiToken, reportUnauthenticated } from "./client";
import type { OverseerEvent } from "./types";

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

/** How one connection ended. */
type Outcome =
  /** The stream said it is finished (a finite stream's `end`, or 204). */
  | "ended"
  /** It was open and broke, or an attempt failed (network, 5xx): try again after a delay. */
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
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = null;
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
    const token = apiToken();
    if (!token || this.controller || this.timer || this.status === "ended") return;
    const controller = new AbortController();
    this.controller = controller;
    this.read(token, controller.signal).then(
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
      // The app signs out (which resets this stream); until then, nothing to retry.
      this.setStatus("lost");
      reportUnauthenticated();
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

  /** Reads one connection to its end. */
  private async read(token: string, signal: AbortSignal): Promise<Outcome> {
    const since = this.lastSeq === null ? "" : `?since=${this.lastSeq}`;
    const response = await fetch(`/api/v1${this.path}${since}`, {
      headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
      signal,
    });
    if (response.status === 401) return "unauthenticated";
    if (response.status === 410) return "trimmed";
    // 204: a finished stream with nothing after the cursor.
    if (response.status === 204 && this.finite) return "ended";
    if (!response.ok || !response.body) return "failed";
    this.failures = 0;
    this.setStatus("live");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return "failed";
      buffer += value;
      const batch: OverseerEvent[] = [];
      let ended = false;
      let end = buffer.indexOf("\n\n");
      while (end !== -1) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
        const lines = message.split("\n");
        // `event: end` closes a finite stream; its data is not an event.
        if (lines.some((line) => line.startsWith("event:") && line.slice(6).trim() === "end")) {
          ended = true;
          continue;
        }
        const data = lines
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).trimStart())
          .join("\n");
        if (!data) continue;
        const event = JSON.parse(data) as OverseerEvent;
        this.lastSeq = event.seq;
        batch.push(event);
      }
      if (batch.length > 0) for (const l of this.listeners) l(batch);
      if (ended && this.finite) {
        await reader.cancel();
        return "ended";
      }
    }
  }
}

export const eventStream = new EventStream("/events");

/** One run's events: its history, then live, ending after it completes, fails or is cancelled. */
export function runEventStream(runId: string): EventStream {
  return new EventStream(`/runs/${encodeURIComponent(runId)}/events`, true);
}
