/**
 * Event streams read with fetch (so the token travels in the Authorization header, never in a
 * URL), parsed as SSE and fanned out to subscribers. A stream connects while anyone listens, and
 * on a dropped connection reconnects after 2 s from the last seq it saw, so no event is lost or
 * repeated. `eventStream` is the one `GET /api/v1/events` every page shares; a run page opens
 * `runEventStream(id)`, which replays the run's history first and ends after its last event.
 */
import { apiToken } from "./client";
import type { OverseerEvent } from "./types";

export type EventListener = (events: OverseerEvent[]) => void;
/** `ended`: a finite stream (one run's) said it has nothing more to send. */
export type StreamStatus = "connecting" | "live" | "reconnecting" | "ended";

const RECONNECT_MS = 2000;

export class EventStream {
  private readonly listeners = new Set<EventListener>();
  private readonly statusListeners = new Set<(s: StreamStatus) => void>();
  private controller: AbortController | null = null;
  private lastSeq: number | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
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

  /** Drops the connection and the position: the next subscriber starts from now (sign-out). */
  reset(): void {
    this.close();
    this.lastSeq = null;
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
    if (!token || this.controller || this.status === "ended") return;
    const controller = new AbortController();
    this.controller = controller;
    this.read(token, controller.signal).then(
      (ended) => {
        if (!ended) return this.retry(controller);
        if (this.controller === controller) this.controller = null;
        this.setStatus("ended");
      },
      (err: Error) => {
        if (err.name !== "AbortError") this.retry(controller);
      },
    );
  }

  private retry(controller: AbortController): void {
    if (this.controller !== controller || controller.signal.aborted) return;
    this.controller = null;
    this.setStatus("reconnecting");
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.listeners.size > 0) this.open();
    }, RECONNECT_MS);
  }

  /** Reads one connection to its end; true when the stream said it is finished. */
  private async read(token: string, signal: AbortSignal): Promise<boolean> {
    const since = this.lastSeq === null ? "" : `?since=${this.lastSeq}`;
    const response = await fetch(`/api/v1${this.path}${since}`, {
      headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
      signal,
    });
    if (response.status === 410) this.lastSeq = null; // trimmed: pages reload from REST and go on from now
    // 204: a finished stream with nothing after the cursor.
    if (response.status === 204 && this.finite) return true;
    if (!response.ok || !response.body) return false;
    this.setStatus("live");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return false;
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
        return true;
      }
    }
  }
}

export const eventStream = new EventStream("/events");

/** One run's events: its history, then live, ending after it completes, fails or is cancelled. */
export function runEventStream(runId: string): EventStream {
  return new EventStream(`/runs/${encodeURIComponent(runId)}/events`, true);
}
