/**
 * What an operator watches and steers: queues (pause, resume, reset a breaker), workers, concurrency keys, the
 * stats window and the schedules registered from the server's config (enable, disable, run one now).
 */
import { type Page, type PageQuery, type WalkOptions, walkItems, walkPages } from "./paging.js";
import type { Transport, Versioned } from "./transport.js";
import type {
  ConcurrencyKey,
  ConcurrencyPage,
  Job,
  Queue,
  Schedule,
  SeriesRange,
  Stats,
  StatsSeries,
  Worker,
} from "./types.js";

export class QueuesApi {
  constructor(private readonly t: Transport) {}

  /** Every queue: depth by state, the oldest waiting job's age, paused or not. */
  async list(signal?: AbortSignal): Promise<Queue[]> {
    return (await this.t.json<{ items: Queue[] }>("GET", "/api/v1/queues", { signal })).body.items;
  }

  /** Workers stop claiming from it. */
  pause(name: string, options: Versioned = {}): Promise<Queue> {
    return this.set(name, "pause", options);
  }

  resume(name: string, options: Versioned = {}): Promise<Queue> {
    return this.set(name, "resume", options);
  }

  /** Closes its circuit breaker by hand: its jobs run again at once. */
  async resetBreaker(name: string): Promise<Queue> {
    const url = `/api/v1/queues/${encodeURIComponent(name)}/breaker/reset`;
    return (await this.t.json<Queue>("POST", url, {})).body;
  }

  private async set(name: string, verb: "pause" | "resume", options: Versioned): Promise<Queue> {
    const url = `/api/v1/queues/${encodeURIComponent(name)}/${verb}`;
    return (await this.t.json<Queue>("POST", url, options)).body;
  }
}

export class WorkersApi {
  constructor(private readonly t: Transport) {}

  /** Every registered worker: status, heartbeat age, the jobs it runs. */
  async list(signal?: AbortSignal): Promise<Worker[]> {
    return (await this.t.json<{ items: Worker[] }>("GET", "/api/v1/workers", { signal })).body.items;
  }

  /** One worker with the jobs it runs (task names included). */
  async get(id: string, signal?: AbortSignal): Promise<Worker> {
    return (await this.t.json<Worker>("GET", `/api/v1/workers/${encodeURIComponent(id)}`, { signal })).body;
  }

  /** It claims nothing more and finishes what it runs; it reads this at its next heartbeat. */
  quiet(id: string): Promise<Worker> {
    return this.command(id, "quiet");
  }

  /** It goes quiet, then stops gracefully once its jobs finish (or its shutdown timeout passes). */
  stop(id: string): Promise<Worker> {
    return this.command(id, "stop");
  }

  /** A quiet worker claims again. */
  resume(id: string): Promise<Worker> {
    return this.command(id, "resume");
  }

  private async command(id: string, verb: "quiet" | "stop" | "resume"): Promise<Worker> {
    return (await this.t.json<Worker>("POST", `/api/v1/workers/${encodeURIComponent(id)}/${verb}`, {})).body;
  }
}

export class ConcurrencyApi {
  constructor(private readonly t: Transport) {}

  /**
   * One page of the concurrency keys that have unfinished jobs (running, waiting, limit), by key; with
   * `order: "busiest"`, the busiest keys (one page, no cursor). `keys` and `limitedJobs` are over every key.
   */
  async list(query: { order?: "key" | "busiest" } & PageQuery = {}, signal?: AbortSignal): Promise<ConcurrencyPage> {
    return (await this.t.json<ConcurrencyPage>("GET", "/api/v1/concurrency", { query: { ...query }, signal })).body;
  }

  /** The pages by key in turn. */
  pages(walk: WalkOptions = {}): AsyncGenerator<Page<ConcurrencyKey>> {
    return walkPages((page) => this.list(page), walk);
  }

  /** Every key by name. */
  all(walk: WalkOptions = {}): AsyncGenerator<ConcurrencyKey> {
    return walkItems((page) => this.list(page), walk);
  }
}

export class SchedulesApi {
  constructor(private readonly t: Transport) {}

  async list(signal?: AbortSignal): Promise<Schedule[]> {
    return (await this.t.json<{ items: Schedule[] }>("GET", "/api/v1/schedules", { signal })).body.items;
  }

  /** Fires again from its next tick (ticks missed while disabled are skipped). */
  enable(name: string): Promise<Schedule> {
    return this.post<Schedule>(name, "enable");
  }

  disable(name: string): Promise<Schedule> {
    return this.post<Schedule>(name, "disable");
  }

  /** Enqueues one job for the schedule now, outside its ticks. */
  run(name: string): Promise<Job> {
    return this.post<Job>(name, "run");
  }

  private async post<T>(name: string, verb: string): Promise<T> {
    return (await this.t.json<T>("POST", `/api/v1/schedules/${encodeURIComponent(name)}/${verb}`)).body;
  }
}

/** Counts by state and queue, and throughput and latency over the last `minutes` (1-60; default 5). */
export async function readStats(t: Transport, minutes?: number, signal?: AbortSignal): Promise<Stats> {
  return (await t.json<Stats>("GET", "/api/v1/stats", { query: { minutes }, signal })).body;
}

/** Throughput, failures and wait/run p50/p95 over `range` (1h, 6h, 24h or 7d; default 1h), in buckets, per queue and task. */
export async function readStatsSeries(
  t: Transport,
  options: { range?: SeriesRange; queue?: string; task?: string } = {},
  signal?: AbortSignal,
): Promise<StatsSeries> {
  const query = { range: options.range, queue: options.queue, task: options.task };
  return (await t.json<StatsSeries>("GET", "/api/v1/stats/series", { query, signal })).body;
}
