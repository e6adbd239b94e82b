/**
 * The one event-stream client every page shares: a single `GET /api/v1/events` read with
 * fetch (so the token travels in the Authorization header, never in a URL), parsed as SSE and
 * fanned out to subscribers. It connects while anyone listens, and on a dropped connection
 * reconnects after 2 s from the last seq it saw, so no event is lost or repeated.
 */
import { apiToken } from "./client";
import type { OverseerEvent } from "./types";

export type EventListener = (events: OverseerEvent[]) => void;
export type StreamStatus = "connecting" | "live" | "reconnecting";

const RECONNECT_MS = 2000;

class EventStream {
  private readonly listeners = new Set<EventListener>();
  private readonly statusListeners = new Set<(s: StreamStatus) => void>();
  private controller: AbortController | null = null;
  private lastSeq: number | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  status: StreamStatus = "connecting";

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
    if (!token || this.controller) return;
    const controller = new AbortController();
    this.controller = controller;
    this.read(token, controller.signal).then(
      () => this.retry(controller),
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

  private async read(token: string, signal: AbortSignal): Promise<void> {
    const since = this.lastSeq === null ? "" : `?since=${this.lastSeq}`;
    const response = await fetch(`/api/v1/events${since}`, {
      headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
      signal,
    });
    if (response.status === 410) this.lastSeq = null; // trimmed: pages reload from REST and go on from now
    if (!response.ok || !response.body) return;
    this.setStatus("live");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      const batch: OverseerEvent[] = [];
      let end = buffer.indexOf("\n\n");
      while (end !== -1) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
        const data = message
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).trimStart())
          .join("\n");
        if (!data) continue;
        const event = JSON.parse(data) as OverseerEvent;
        this.lastSeq = event.seq;
        batch.push(event);
      }
      if (batch.length > 0) for (const l of this.listeners) l(batch);
    }
  }
}

export const eventStream = new EventStream();
