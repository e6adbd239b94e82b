/**
 * The event log: one JSON page of it, every stored event after a seq (paged by seq), and the
 * live stream followed across dropped connections (follow.ts). The whole log, or one job's or
 * one run's part of it; a job's or run's stream ends after its last event.
 */
import { OverseerError } from "../core/errors.js";
import { type FollowOptions, followEvents } from "./follow.js";
import type { Transport } from "./transport.js";
import type { EventPage, OverseerEvent } from "./types.js";

/** Whose events: one job's, one run's, or (neither) the whole log's. */
export interface EventSubject {
  jobId?: string;
  runId?: string;
}

/** The most events one JSON page holds. */
const MAX_EVENT_PAGE = 1_000;

export class EventsApi {
  constructor(private readonly t: Transport) {}

  /**
   * One page of up to `limit` events (1-1,000; default 100): those after `since`, or without it
   * the latest. 410 EVENTS_TRIMMED when retention deleted events after `since`.
   */
  async page(
    options: EventSubject & { since?: number; limit?: number; signal?: AbortSignal } = {},
  ): Promise<EventPage> {
    const { since, limit, signal } = options;
    return (await this.t.json<EventPage>("GET", eventsPath(options), { query: { since, limit }, signal })).body;
  }

  /** Every stored event after `since` (default 0) in order, up to `limit` in all, a page at a time. */
  async *after(options: EventSubject & { since?: number; limit?: number } = {}): AsyncGenerator<OverseerEvent> {
    const total = options.limit ?? Number.POSITIVE_INFINITY;
    let since = options.since ?? 0;
    for (let seen = 0; seen < total; ) {
      const limit = Math.min(MAX_EVENT_PAGE, total - seen);
      const { items } = await this.page({ ...options, since, limit });
      yield* items;
      seen += items.length;
      const last = items.at(-1);
      if (last === undefined || items.length < limit) return;
      since = last.seq;
    }
  }

  /** The live stream, resumed after each dropped connection from the last event received. */
  follow(options: EventSubject & FollowOptions = {}): AsyncGenerator<OverseerEvent> {
    return followEvents<OverseerEvent>(this.t, eventsPath(options), options);
  }
}

function eventsPath(subject: EventSubject): string {
  if (subject.jobId !== undefined && subject.runId !== undefined) {
    throw new OverseerError("INVALID_ARGUMENT", "give jobId or runId, not both: a stream is one job's or one run's", {
      field: "runId",
    });
  }
  if (subject.jobId !== undefined) return `/api/v1/jobs/${encodeURIComponent(subject.jobId)}/events`;
  if (subject.runId !== undefined) return `/api/v1/runs/${encodeURIComponent(subject.runId)}/events`;
  return "/api/v1/events";
}
