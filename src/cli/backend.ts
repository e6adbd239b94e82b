/**
 * What `overseer enqueue|jobs|queues|workers|concurrency|events|requeue` do, behind one interface with two
 * ends: the local database (`--database`), or a server's HTTP API through the package's client
 * (`--url` and `--token`, or OVERSEER_URL and OVERSEER_TOKEN). The commands print the same thing whichever end answered; the remote end
 * gives records the shape the local one does (extra fields the API adds are dropped).
 */

import {
  type CancelResult,
  type ConcurrencyPage,
  collect,
  type EnqueuedJob,
  type Job,
  type JobDetail,
  type JobState,
  type OverseerClient,
  type OverseerEvent,
  type Queue,
  type Worker,
} from "../client/index.js";
import { jobNotFound, OverseerError } from "../core/errors.js";
import type { EnqueueOptions } from "../core/job-options.js";
import type { PayloadMatch } from "../core/payload-filter.js";
import type { WorkerCommand, WorkerJob, WorkerRecord } from "../core/types.js";
import { jobsByWorker, workerLoad } from "../core/worker-load.js";
import { eventSchema } from "../http/contract/events.js";
import { attemptSchema, jobSchema } from "../http/contract/jobs.js";
import { queueSchema, workerSchema } from "../http/contract/operating.js";
import { encodeCursor } from "../http/cursor.js";
import { assertSubjectKnown } from "../sdk/event-subjects.js";
import type { EnqueueItem, Overseer } from "../sdk/overseer.js";
import type { RequeueDeadInput, RequeueDeadResult } from "../sdk/requeue-dead.js";
import { closing, type GlobalOptions, openOverseer } from "./context.js";
import { remoteClient } from "./remote.js";

export interface JobListQuery {
  states?: JobState[];
  queue?: string;
  task?: string;
  /** Payload fields the jobs hold (core/payload-filter.ts). */
  payload?: PayloadMatch[];
  limit: number;
  beforeId?: string;
}

/** Whose events: one job's, one run's, or (neither) the whole log's. */
export interface EventSubject {
  jobId?: string;
  runId?: string;
}

/** A job as enqueued, whether it was created (false: an idempotency key found it), and its warnings. */
interface EnqueueOutcome {
  job: Job;
  created: boolean;
  warnings: EnqueuedJob["warnings"];
}

/**
 * A worker as the store keeps it, with its load (see core/worker-load.ts): the API's heartbeat
 * age and job ids are the server's view.
 */
export type WorkerView = Omit<Worker, "heartbeatAgeMs" | "runningJobs">;

export interface Backend {
  /**
   * One job; `created` is false when its idempotency key found an existing job, returned instead.
   * The job as the store keeps it (no `taskRegistered`), its warnings beside it.
   */
  enqueue(task: string, payload: unknown, options: EnqueueOptions): Promise<EnqueueOutcome>;
  /** Many jobs in one transaction, each with its warnings. */
  enqueueMany(items: EnqueueItem[]): Promise<EnqueueOutcome[]>;
  listJobs(query: JobListQuery): Promise<Job[]>;
  /** The job, its attempts and latest events (a server also sends their lifecycle, which the CLI does not show). */
  jobDetail(id: string): Promise<Omit<JobDetail, "lifecycle">>;
  retry(id: string): Promise<Job>;
  cancel(id: string): Promise<CancelResult>;
  discard(id: string): Promise<void>;
  /** Retries dead jobs matching the filter; how many. */
  retryDead(filter: { queue?: string; task?: string; limit?: number }): Promise<number>;
  /** The re-queue policy over dead jobs; `by` is recorded locally, and a server records the token's name. */
  requeueDead(input: RequeueDeadInput, by: string): Promise<RequeueDeadResult>;
  listQueues(): Promise<Queue[]>;
  setQueuePaused(name: string, paused: boolean): Promise<Queue>;
  /** Closes the queue's circuit breaker; `by` is recorded locally, and a server records the token's name. */
  resetBreaker(name: string, by: string): Promise<Queue>;
  listWorkers(): Promise<WorkerView[]>;
  /** WORKER_NOT_FOUND when no worker has the id. */
  getWorker(id: string): Promise<WorkerView>;
  /** Leaves the command for the worker (see `Store.commandWorker`); `by` is recorded locally, a server records the token's name. */
  commandWorker(id: string, command: WorkerCommand, by: string): Promise<WorkerView>;
  /** Concurrency keys with unfinished jobs: the first `limit` by name, or the busiest; totals over every key. */
  concurrency(query: { busiest: boolean; limit: number }): Promise<Omit<ConcurrencyPage, "nextCursor">>;
  lastEventSeq(): Promise<number>;
  readEvents(query: EventSubject & { afterSeq: number; limit: number }): Promise<OverseerEvent[]>;
  /** Prints events after `after` as they come, until `signal` aborts (or a job's or run's stream ends). */
  follow(after: number, subject: EventSubject, print: (e: OverseerEvent) => void, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export async function openBackend(options: GlobalOptions): Promise<Backend> {
  const client = remoteClient(options);
  if (client) return new RemoteBackend(client);
  return new LocalBackend(await openOverseer(options));
}

/** Opens the backend the options name, runs `fn`, and always closes it. */
export async function withBackend<T>(options: GlobalOptions, fn: (backend: Backend) => Promise<T>): Promise<T> {
  const backend = await openBackend(options);
  return closing(backend, fn);
}

class LocalBackend implements Backend {
  constructor(private readonly o: Overseer) {}

  async enqueue(task: string, payload: unknown, options: EnqueueOptions) {
    return stored(await this.o.enqueueWithResult(task, payload, options));
  }
  async enqueueMany(items: EnqueueItem[]) {
    return (await this.o.enqueueManyWithResults(items)).map(stored);
  }
  listJobs(q: JobListQuery) {
    return this.o.listJobs({
      states: q.states,
      queue: q.queue,
      task: q.task,
      ...(q.payload?.length ? { payload: q.payload } : {}),
      limit: q.limit,
      beforeId: q.beforeId,
    });
  }
  async jobDetail(id: string) {
    const job = await this.o.getJob(id);
    if (!job) throw jobNotFound(id);
    return { job, attempts: await this.o.listAttempts(id), events: await this.o.readEvents({ jobId: id, limit: 200 }) };
  }
  retry(id: string) {
    return this.o.retry(id);
  }
  cancel(id: string) {
    return this.o.cancel(id);
  }
  discard(id: string) {
    return this.o.discard(id);
  }
  retryDead(filter: { queue?: string; task?: string; limit?: number }) {
    return this.o.retryDead(filter);
  }
  requeueDead(input: RequeueDeadInput, by: string) {
    return this.o.requeueDead({ ...input, by });
  }
  listQueues() {
    return this.o.listQueues();
  }
  setQueuePaused(name: string, paused: boolean) {
    return paused ? this.o.pauseQueue(name) : this.o.resumeQueue(name);
  }
  resetBreaker(name: string, by: string) {
    return this.o.resetBreaker(name, by);
  }
  async listWorkers() {
    const [workers, jobs] = await Promise.all([this.o.listWorkers(), this.o.listWorkerJobs(null)]);
    const byWorker = jobsByWorker(jobs);
    return workers.map((w) => localWorker(w, byWorker.get(w.id) ?? []));
  }
  async getWorker(id: string) {
    const [worker, jobs] = await Promise.all([this.o.getWorker(id), this.o.listWorkerJobs(id)]);
    if (worker === null) throw new OverseerError("WORKER_NOT_FOUND", `no worker has id "${id}"`, { workerId: id });
    return localWorker(worker, jobs);
  }
  async commandWorker(id: string, command: WorkerCommand, by: string) {
    const worker = await this.o.commandWorker(id, command, by);
    return localWorker(worker, await this.o.listWorkerJobs(id));
  }
  async concurrency(query: { busiest: boolean; limit: number }) {
    const [items, totals] = await Promise.all([
      this.o.listConcurrencyKeys({ limit: query.limit, busiestFirst: query.busiest }),
      this.o.concurrencyTotals(),
    ]);
    return { items, ...totals };
  }
  lastEventSeq() {
    return this.o.lastEventSeq();
  }
  async readEvents(query: EventSubject & { afterSeq: number; limit: number }) {
    // An unknown job or run is an error, as the server answers it.
    if (query.jobId !== undefined) await assertSubjectKnown(this.o, { jobId: query.jobId });
    else if (query.runId !== undefined) await assertSubjectKnown(this.o, { runId: query.runId });
    return this.o.readEvents(query);
  }
  /** Tails the log: woken by store changes, with a slow poll as a safety net. */
  async follow(after: number, subject: EventSubject, print: (e: OverseerEvent) => void, signal: AbortSignal) {
    let wake: (() => void) | null = null;
    const onAbort = () => wake?.();
    signal.addEventListener("abort", onAbort);
    const unsubscribe = this.o.onChange(() => wake?.());
    try {
      while (!signal.aborted) {
        const events = await this.o.readEvents({ ...subject, afterSeq: after, limit: 1_000 });
        for (const e of events) print(e);
        after = events.at(-1)?.seq ?? after;
        if (events.length === 1_000) continue;
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 500);
        });
        wake = null;
      }
    } finally {
      unsubscribe();
      signal.removeEventListener("abort", onAbort);
    }
  }
  close() {
    return this.o.close();
  }
}

/**
 * The API's serialiser writes required fields first; the records get back the field order the
 * store gives them (the schemas list fields in that order), so `--json` prints byte for byte
 * what the local mode prints.
 */
function inOrder<T>(schema: { properties: object }, record: T): T {
  const value = record as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) if (key in value) out[key] = value[key];
  for (const key of Object.keys(value)) if (!(key in out)) out[key] = value[key];
  return out as T;
}
/** A worker with its load, as the API orders its fields, without the API's heartbeat age and job ids. */
function localWorker(worker: WorkerRecord, jobs: readonly WorkerJob[]): WorkerView {
  const { runningJobs: _, ...load } = workerLoad(worker, jobs);
  return inOrder(workerSchema, { ...worker, ...load });
}

const remoteWorker = ({ heartbeatAgeMs: _a, runningJobs: _r, ...worker }: Worker): WorkerView =>
  inOrder(workerSchema, worker);

/** A job from the API as the store keeps it: `taskRegistered` is the API's, and the local mode has none. */
const job = (j: Job) => {
  const { taskRegistered: _, ...record } = inOrder(jobSchema, j);
  return record;
};

/** The job without the fields an enqueue adds (`taskRegistered`, `warnings`), so it prints as the store keeps it. */
function stored(outcome: EnqueueOutcome): EnqueueOutcome {
  const { taskRegistered: _, warnings: __, ...record } = outcome.job as Job & { warnings?: unknown };
  return { ...outcome, job: record };
}

const enqueued = (body: EnqueuedJob, created: boolean): EnqueueOutcome =>
  stored({ job: job(body), created, warnings: body.warnings ?? [] });

/** The HTTP API allows at most this many per bulk call; larger asks take several. */
export const BULK = 1_000;

class RemoteBackend implements Backend {
  constructor(private readonly api: OverseerClient) {}

  async enqueue(task: string, payload: unknown, options: EnqueueOptions) {
    const { job: body, created } = await this.api.jobs.enqueue(task, payload, options);
    return enqueued(body, created);
  }
  async enqueueMany(items: EnqueueItem[]) {
    // One request is one transaction; the caller keeps a batch within BULK.
    if (items.length === 0) return [];
    // Created when any was; which ones, the API does not say.
    const { job: jobs, created } = await this.api.jobs.enqueueMany(items);
    return jobs.map((j) => enqueued(j, created));
  }
  async listJobs(q: JobListQuery): Promise<Job[]> {
    const cursor = q.beforeId === undefined ? undefined : encodeCursor(q.beforeId);
    const fields = Object.fromEntries((q.payload ?? []).map((m) => [`payload.${m.path.join(".")}`, m.value]));
    const query = { state: q.states, queue: q.queue, task: q.task, ...fields };
    return (await collect(this.api.jobs.all(query, { limit: q.limit, cursor }))).map(job);
  }
  async jobDetail(id: string) {
    const detail = await this.api.jobs.get(id);
    return {
      job: job(detail.job),
      attempts: detail.attempts.map((a) => inOrder(attemptSchema, a)),
      events: detail.events.map((e) => inOrder(eventSchema, e)),
    };
  }
  async retry(id: string) {
    return job(await this.api.jobs.retry(id));
  }
  async cancel(id: string) {
    const result = await this.api.jobs.cancel(id);
    return { job: job(result.job), effect: result.effect };
  }
  discard(id: string) {
    return this.api.jobs.discard(id);
  }
  async retryDead(filter: { queue?: string; task?: string; limit?: number }) {
    let retried = 0;
    for (;;) {
      const limit = Math.min(BULK, (filter.limit ?? Number.POSITIVE_INFINITY) - retried);
      if (limit <= 0) return retried;
      const result = await this.api.jobs.retryMany({ state: ["dead"], queue: filter.queue, task: filter.task, limit });
      retried += result.changed;
      if (result.matched < limit || result.changed === 0) return retried;
    }
  }
  requeueDead(input: RequeueDeadInput) {
    // The server records the token's name as who re-queued.
    return this.api.jobs.requeueDead(input);
  }
  async listQueues() {
    return (await this.api.queues.list()).map(({ oldestWaitingAgeMs: _, ...queue }) => inOrder(queueSchema, queue));
  }
  async setQueuePaused(name: string, paused: boolean) {
    return inOrder(queueSchema, await (paused ? this.api.queues.pause(name) : this.api.queues.resume(name)));
  }
  async resetBreaker(name: string) {
    return inOrder(queueSchema, await this.api.queues.resetBreaker(name));
  }
  async listWorkers() {
    return (await this.api.workers.list()).map(remoteWorker);
  }
  async getWorker(id: string) {
    return remoteWorker(await this.api.workers.get(id));
  }
  async commandWorker(id: string, command: WorkerCommand) {
    return remoteWorker(await this.api.workers[command](id));
  }
  async concurrency(query: { busiest: boolean; limit: number }) {
    const { items, keys, limitedJobs } = await this.api.concurrency.list({
      order: query.busiest ? "busiest" : "key",
      limit: query.limit,
    });
    return { items, keys, limitedJobs };
  }
  async lastEventSeq() {
    return (await this.api.events.page({ limit: 1 })).lastSeq;
  }
  async readEvents(query: EventSubject & { afterSeq: number; limit: number }) {
    const { jobId, runId, afterSeq, limit } = query;
    const events = this.api.events.after({ jobId, runId, since: afterSeq, limit });
    return (await collect(events)).map((e) => inOrder(eventSchema, e));
  }
  async follow(after: number, subject: EventSubject, print: (e: OverseerEvent) => void, signal: AbortSignal) {
    // A dropped stream is resumed; a failed reconnect ends the command, as any failed request does.
    for await (const e of this.api.events.follow({ ...subject, since: after, signal, retries: 0 })) {
      print(inOrder(eventSchema, e));
    }
  }
  async close() {
    // Nothing to release: each request is its own fetch.
  }
}
