/**
 * /api/v1/runs: the profiles a run may start from, starting runs (admin: a run executes a
 * command on the server), reading and steering them, and a turn's stored output by byte range.
 * A run's events are followed through `events.follow({ runId })`.
 */
import { type Page, type PageQuery, type WalkOptions, walkItems, walkPages } from "./paging.js";
import type { Transport, Versioned } from "./transport.js";
import type {
  Run,
  RunControlAction,
  RunDetail,
  RunMessage,
  RunOutput,
  RunProfiles,
  RunState,
  RunStatus,
  StartRunRequest,
} from "./types.js";

export interface RunQuery {
  state?: readonly RunState[];
  profile?: string;
}

/** Bytes `from` to `to` (included), or from `from` to the end. */
export interface ByteRange {
  from: number;
  to?: number;
}

const path = (id: string, rest = "") => `/api/v1/runs/${encodeURIComponent(id)}${rest}`;

export class RunsApi {
  constructor(private readonly t: Transport) {}

  async profiles(signal?: AbortSignal): Promise<RunProfiles> {
    return (await this.t.json<RunProfiles>("GET", "/api/v1/runs/profiles", { signal })).body;
  }

  /** Queues the run; a supervisor (`overseer start`) picks it up. */
  async start(request: StartRunRequest): Promise<Run> {
    return (await this.t.json<{ run: Run }>("POST", "/api/v1/runs", { body: request })).body.run;
  }

  /** One page, newest first. */
  async list(query: RunQuery & PageQuery = {}, signal?: AbortSignal): Promise<Page<Run>> {
    return (await this.t.json<Page<Run>>("GET", "/api/v1/runs", { query: { ...query }, signal })).body;
  }

  pages(query: RunQuery = {}, walk: WalkOptions = {}): AsyncGenerator<Page<Run>> {
    return walkPages((page) => this.list({ ...query, ...page }), walk);
  }

  all(query: RunQuery = {}, walk: WalkOptions = {}): AsyncGenerator<Run> {
    return walkItems((page) => this.list({ ...query, ...page }), walk);
  }

  /** The run, its turns, and the ids of the runs started again from it. */
  async get(id: string, signal?: AbortSignal): Promise<RunDetail> {
    return (await this.t.json<RunDetail>("GET", path(id), { signal })).body;
  }

  /** Starts a finished run again (admin); with params, its profile is resolved anew with them over the old. */
  async rerun(id: string, options: { params?: Record<string, unknown> } = {}): Promise<Run> {
    return (await this.t.json<{ run: Run }>("POST", path(id, "/rerun"), { body: options })).body.run;
  }

  /** The run's state and counters, for polling. */
  async status(id: string, signal?: AbortSignal): Promise<RunStatus> {
    return (await this.t.json<RunStatus>("GET", path(id, "/status"), { signal })).body;
  }

  /** Pause (at the turn's end, or at once with `immediate`), resume or cancel. */
  async control(id: string, action: RunControlAction, options: Versioned & { immediate?: boolean } = {}): Promise<Run> {
    const { immediate, ...write } = options;
    const body = immediate ? { action, immediate: true } : { action };
    return (await this.t.json<{ run: Run }>("POST", path(id, "/control"), { body, ...write })).body.run;
  }

  /** A message for the run's next turn (not the one running now); 409 RUN_TAKES_NO_MESSAGES or RUN_FINISHED. */
  async message(id: string, body: string): Promise<RunMessage> {
    return (await this.t.json<{ message: RunMessage }>("POST", path(id, "/messages"), { body: { body } })).body.message;
  }

  /** The run's messages, oldest first; `turn` is null for those still waiting. */
  async messages(id: string, signal?: AbortSignal): Promise<RunMessage[]> {
    return (await this.t.json<{ items: RunMessage[] }>("GET", path(id, "/messages"), { signal })).body.items;
  }

  /**
   * A turn's stored output (telemetry lines left out), whole or a byte range of it. A range
   * starting at or beyond the end is 416 RANGE_NOT_SATISFIABLE, its `details.size` the size.
   */
  async output(
    id: string,
    turn: number,
    options: { range?: ByteRange; signal?: AbortSignal } = {},
  ): Promise<RunOutput> {
    const { range, signal } = options;
    const headers = range === undefined ? undefined : { range: `bytes=${range.from}-${range.to ?? ""}` };
    const res = await this.t.send("GET", path(id, "/output"), { query: { turn }, headers, signal });
    const data = new Uint8Array(await res.arrayBuffer());
    const size = res.headers.get("x-output-size");
    const stored = size === null ? (range?.from ?? 0) + data.length : Number(size);
    return { data, size: stored, partial: res.status === 206 };
  }
}
