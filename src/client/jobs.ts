/**
 * /api/v1/jobs (and the signals jobs wait for): enqueue, list, read, and act on one job or on
 * the jobs a filter matches. A write given the `version` the caller read applies only if the
 * job has not changed since (else 409 VERSION_CONFLICT).
 */
import { type Page, type PageQuery, type WalkOptions, walkItems, walkPages } from "./paging.js";
import type { Transport, Versioned } from "./transport.js";
import type {
  BulkResult,
  CancelResult,
  EnqueuedJob,
  EnqueueItem,
  EnqueueOptions,
  Job,
  JobBulkFilter,
  JobDetail,
  JobState,
  RequeueDeadInput,
  RequeueDeadResult,
  RetryPreview,
  SignalResult,
} from "./types.js";

/** Which jobs a listing shows. */
export interface JobQuery {
  state?: readonly JobState[];
  queue?: string;
  task?: string;
  /** Text the job id or idempotency key contains. */
  q?: string;
  createdAfter?: string;
  createdBefore?: string;
  finishedAfter?: string;
  finishedBefore?: string;
  /** `desc` (newest first, the default) or `asc`. */
  order?: "desc" | "asc";
}

export interface Enqueued<T> {
  /** The job (or jobs), with `taskRegistered` and any warnings. */
  job: T;
  /** False when an idempotency key found an existing job (for a batch: none was created). */
  created: boolean;
}

const path = (id: string, action = "") => `/api/v1/jobs/${encodeURIComponent(id)}${action}`;

export class JobsApi {
  constructor(private readonly t: Transport) {}

  async enqueue(task: string, payload?: unknown, options?: EnqueueOptions): Promise<Enqueued<EnqueuedJob>> {
    const { status, body } = await this.t.json<EnqueuedJob>("POST", "/api/v1/jobs", {
      body: { task, payload, options },
    });
    return { job: body, created: status === 201 };
  }

  /** Up to 1,000 jobs in one transaction: all are enqueued, or none. */
  async enqueueMany(items: EnqueueItem[]): Promise<Enqueued<EnqueuedJob[]>> {
    const { status, body } = await this.t.json<EnqueuedJob[]>("POST", "/api/v1/jobs", { body: items });
    return { job: body, created: status === 201 };
  }

  /** One page, newest first (or oldest first with `order: "asc"`). */
  async list(query: JobQuery & PageQuery = {}, signal?: AbortSignal): Promise<Page<Job>> {
    return (await this.t.json<Page<Job>>("GET", "/api/v1/jobs", { query: { ...query }, signal })).body;
  }

  /** How many jobs a listing's filter matches, counted up to 10,000 (`capped`: at least that many). */
  async count(query: Omit<JobQuery, "order"> = {}, signal?: AbortSignal): Promise<{ count: number; capped: boolean }> {
    return (
      await this.t.json<{ count: number; capped: boolean }>("GET", "/api/v1/jobs/count", {
        query: { ...query },
        signal,
      })
    ).body;
  }

  /** The task names known here (registered by a worker, or defined by the server), sorted. */
  async taskNames(signal?: AbortSignal): Promise<string[]> {
    return (await this.t.json<{ items: string[] }>("GET", "/api/v1/tasks", { signal })).body.items;
  }

  /** Every page of a listing in turn. */
  pages(query: JobQuery = {}, walk: WalkOptions = {}): AsyncGenerator<Page<Job>> {
    return walkPages((page) => this.list({ ...query, ...page }), walk);
  }

  /** Every job of a listing, one by one, the pages read as they are needed. */
  all(query: JobQuery = {}, walk: WalkOptions = {}): AsyncGenerator<Job> {
    return walkItems((page) => this.list({ ...query, ...page }), walk);
  }

  async get(id: string, signal?: AbortSignal): Promise<JobDetail> {
    return (await this.t.json<JobDetail>("GET", path(id), { signal })).body;
  }

  /** What the retry policy says about the job now, and what a retry by hand would do. */
  async retryPreview(id: string, signal?: AbortSignal): Promise<RetryPreview> {
    return (await this.t.json<RetryPreview>("GET", path(id, "/retry-preview"), { signal })).body;
  }

  async retry(id: string, options: Versioned = {}): Promise<Job> {
    return (await this.t.json<Job>("POST", path(id, "/retry"), options)).body;
  }

  async cancel(id: string, options: Versioned = {}): Promise<CancelResult> {
    return (await this.t.json<CancelResult>("POST", path(id, "/cancel"), options)).body;
  }

  /** Deletes a finished job and its attempts (its events stay). */
  async discard(id: string, options: Versioned = {}): Promise<void> {
    await this.t.json("POST", path(id, "/discard"), options);
  }

  /** Retries the dead or cancelled jobs a filter matches, each in its own transaction. */
  async retryMany(filter: JobBulkFilter = {}): Promise<BulkResult> {
    return (await this.t.json<BulkResult>("POST", "/api/v1/jobs/retry", { body: filter })).body;
  }

  async cancelMany(filter: JobBulkFilter = {}): Promise<BulkResult> {
    return (await this.t.json<BulkResult>("POST", "/api/v1/jobs/cancel", { body: filter })).body;
  }

  async discardMany(filter: JobBulkFilter = {}): Promise<BulkResult> {
    return (await this.t.json<BulkResult>("POST", "/api/v1/jobs/discard", { body: filter })).body;
  }

  /** The re-queue policy: dead jobs back in their queue, conservatively (see docs/alerts.md). */
  async requeueDead(input: RequeueDeadInput = {}): Promise<RequeueDeadResult> {
    return (await this.t.json<RequeueDeadResult>("POST", "/api/v1/jobs/requeue-dead", { body: input })).body;
  }

  /** A signal for jobs waiting in `ctx.waitForEvent`; kept for a later wait if none waits yet. */
  async signal(name: string, payload?: unknown, options: { jobId?: string } = {}): Promise<SignalResult> {
    const body = { name, payload, ...(options.jobId === undefined ? {} : { jobId: options.jobId }) };
    return (await this.t.json<SignalResult>("POST", "/api/v1/signals", { body })).body;
  }
}
