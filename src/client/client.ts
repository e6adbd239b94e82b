/**
 * The typed client of Overseer's HTTP API: one object with a member per resource (jobs, runs,
 * approvals, alerts, ...), each operation a method that sends the request, checks the answer
 * and returns the records, or throws the OverseerError the server's envelope names.
 */
import { AlertsApi, HeartbeatsApi } from "./alerts.js";
import { ApprovalsApi } from "./approvals.js";
import { ClaimsApi } from "./claims.js";
import { EventsApi } from "./events.js";
import { JobsApi } from "./jobs.js";
import { LessonsApi } from "./lessons.js";
import { OncallApi } from "./oncall.js";
import { ConcurrencyApi, QueuesApi, readStats, readStatsSeries, SchedulesApi, WorkersApi } from "./operating.js";
import { RunsApi } from "./runs.js";
import { type ClientOptions, Transport } from "./transport.js";
import type { Attention, ExecutionState, SeriesRange, Stats, StatsSeries, StreamToken, Whoami } from "./types.js";

export class OverseerClient {
  readonly jobs: JobsApi;
  readonly queues: QueuesApi;
  readonly workers: WorkersApi;
  readonly concurrency: ConcurrencyApi;
  readonly schedules: SchedulesApi;
  readonly runs: RunsApi;
  readonly approvals: ApprovalsApi;
  readonly alerts: AlertsApi;
  readonly heartbeats: HeartbeatsApi;
  readonly claims: ClaimsApi;
  readonly oncall: OncallApi;
  readonly lessons: LessonsApi;
  readonly events: EventsApi;
  private readonly t: Transport;

  constructor(options: ClientOptions = {}) {
    this.t = new Transport(options);
    this.jobs = new JobsApi(this.t);
    this.queues = new QueuesApi(this.t);
    this.workers = new WorkersApi(this.t);
    this.concurrency = new ConcurrencyApi(this.t);
    this.schedules = new SchedulesApi(this.t);
    this.runs = new RunsApi(this.t);
    this.approvals = new ApprovalsApi(this.t);
    this.alerts = new AlertsApi(this.t);
    this.heartbeats = new HeartbeatsApi(this.t);
    this.claims = new ClaimsApi(this.t);
    this.oncall = new OncallApi(this.t);
    this.lessons = new LessonsApi(this.t);
    this.events = new EventsApi(this.t);
  }

  /** The server this client talks to (empty: the page's own origin). */
  get url(): string {
    return this.t.base;
  }

  /** Counts by state and queue, and throughput and latency over the last `minutes` (1-60; default 5). */
  stats(minutes?: number, signal?: AbortSignal): Promise<Stats> {
    return readStats(this.t, minutes, signal);
  }

  /**
   * Throughput, failures and wait/run p50/p95 over `range` (1h, 6h, 24h or 7d; default 1h), in
   * buckets sized to it, with totals per queue and per task; narrowed to a queue or task if given.
   */
  statsSeries(
    options: { range?: SeriesRange; queue?: string; task?: string } = {},
    signal?: AbortSignal,
  ): Promise<StatsSeries> {
    return readStatsSeries(this.t, options, signal);
  }

  /**
   * What needs a person now, counted, with the first few of each: pending approvals (oldest
   * first, with their deadline), triggered and escalation-exhausted alerts, failed and stalled
   * runs, lost workers, dead jobs by task and queue, paused queues.
   */
  async attention(signal?: AbortSignal): Promise<Attention> {
    return (await this.t.json<Attention>("GET", "/api/v1/attention", { signal })).body;
  }

  /** Whether handlers may do their side effects (enabled) or only record them (dry-run), and who set it. */
  async execution(signal?: AbortSignal): Promise<ExecutionState> {
    return (await this.t.json<ExecutionState>("GET", "/api/v1/execution", { signal })).body;
  }

  /**
   * Sets the execution switch (turning it on needs an admin token), audited as
   * `execution.changed`; with `version`, 409 VERSION_CONFLICT if it moved since.
   */
  async setExecution(
    mode: ExecutionState["mode"],
    options: { reason?: string; version?: number } = {},
  ): Promise<ExecutionState> {
    return (await this.t.json<ExecutionState>("PUT", "/api/v1/execution", { body: { mode, ...options } })).body;
  }

  /** The calling token's name and scope (401 UNAUTHENTICATED for a token the server does not know). */
  async whoami(signal?: AbortSignal): Promise<Whoami> {
    return (await this.t.json<Whoami>("GET", "/api/v1/whoami", { signal })).body;
  }

  /** A short-lived token for the event streams' `?access_token=`, for clients that cannot send headers. */
  async streamToken(ttlSeconds?: number): Promise<StreamToken> {
    const body = ttlSeconds === undefined ? {} : { ttlSeconds };
    return (await this.t.json<StreamToken>("POST", "/api/v1/stream-tokens", { body })).body;
  }

  /** Resolves when the server's process and its database answer (`/readyz`); else throws. */
  async ready(signal?: AbortSignal): Promise<void> {
    await this.t.json("GET", "/readyz", { signal });
  }

  /** The OpenAPI document of every operation. */
  async openapi(signal?: AbortSignal): Promise<Record<string, unknown>> {
    return (await this.t.json<Record<string, unknown>>("GET", "/api/v1/openapi.json", { signal })).body;
  }
}

export function createClient(options: ClientOptions = {}): OverseerClient {
  return new OverseerClient(options);
}
