/**
 * Prometheus metrics for /metrics, in a registry of this server's own (two servers in one
 * process, as in tests, do not collide).
 *
 * Where the numbers come from, so that they are right however many processes share the store:
 * - gauges (depth by queue and state, oldest waiting age, workers and their busy slots, pending
 *   approvals, open alerts, concurrency keys) are read from the store at scrape time;
 * - counters and histograms are counted from the event log as the server's one event reader
 *   sees it, which includes every process's work: jobs, re-queues, idempotency hits
 *   (`job.deduplicated`, appended by the enqueue that found the key), approvals settled
 *   (`approval.settled` and `approval.cancelled`, which carry when the request was made),
 *   escalations (`alert.escalated`) and notifications sent or failed
 *   (`alert.notification_sent` / `_failed`, appended in the transaction that records the
 *   outcome: a count read from the notifications table at scrape would fall when retention
 *   deletes closed alerts). They start at zero when the server starts (Prometheus's `rate()` and
 *   `increase()` handle restarts), and every server on the same store counts the same events:
 *   sum them with `max by` rather than `sum` across servers.
 *
 * Concurrency limits are shown as gauges, not as a count of claims that passed a job over: a
 * full key turns the same jobs away on every claim of every worker, so such a count would
 * measure how often workers poll, and counting each job once would put a write on the claim
 * path. `overseer_concurrency_limited_jobs` is the number of queued jobs their key holds back at
 * the scrape. The per-key gauges are exported for the busiest keys only (`MAX_KEY_SERIES`, by
 * running then waiting jobs): key names are users' strings, unbounded in number.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Logger } from "../core/logger.js";
import { parsePersonTarget } from "../core/people.js";
import type { OverseerEvent } from "../core/types.js";
import type { Store } from "../store/store.js";
import type { HubEvent } from "./events/event-hub.js";
import type { StreamClients } from "./events/stream-clients.js";

/** Jobs whose task and queue are remembered between their events; older ones are looked up. */
const MAX_TRACKED_JOBS = 100_000;
/** Concurrency keys the per-key gauges export at most: the busiest. */
export const MAX_KEY_SERIES = 50;
const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];
/** A person's time to decide: seconds to a day. */
const DECISION_BUCKETS = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400];
/** How an approval request ended, by the kind of its last event. */
const APPROVAL_ENDS = new Set(["approval.settled", "approval.cancelled"]);
const FINISHED: Record<string, string> = {
  "job.succeeded": "succeeded",
  "job.dead": "dead",
  "job.cancelled": "cancelled",
};

interface Tracked {
  task: string;
  queue: string;
  /** When it became due (enqueue time or its runAt), epoch ms; null once started. */
  dueAt: number | null;
  startedAt: number | null;
}

/** What the gauges and the job lookups read (an Overseer is one). */
export type MetricsReads = Pick<
  Store,
  | "getJob"
  | "listJobs"
  | "listQueues"
  | "listWorkers"
  | "countRuns"
  | "lastEventSeq"
  | "now"
  | "getApproval"
  | "countPendingApprovals"
  | "countOpenAlerts"
  | "listConcurrencyKeys"
  | "concurrencyTotals"
  | "busySlots"
>;

/**
 * The channel a notification target is counted under, a label of bounded cardinality: a channel
 * named in the config as it is; a person by contact method (`person:email`, or `person` for all
 * of theirs); any other `kind:address` (a direct Telegram chat, `telegram:<user id>`) by its kind.
 */
export function channelLabel(target: string): string {
  const person = parsePersonTarget(target);
  if (person !== null) return person.method === null ? "person" : `person:${person.method}`;
  const colon = target.indexOf(":");
  return colon > 0 ? target.slice(0, colon) : target;
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;
  private readonly jobs = new Map<string, Tracked>();
  private chain: Promise<void> = Promise.resolve();

  private readonly enqueued: Counter<"task" | "queue">;
  private readonly finished: Counter<"task" | "queue" | "outcome">;
  private readonly retries: Counter<"task" | "queue">;
  private readonly deadLetters: Counter<"task" | "queue">;
  private readonly leasesLost: Counter<"task" | "queue">;
  private readonly waitTime: Histogram<"task" | "queue">;
  private readonly runTime: Histogram<"task" | "queue" | "outcome">;
  private readonly depth: Gauge<"queue" | "state">;
  private readonly oldestWaiting: Gauge<"queue">;
  private readonly paused: Gauge<"queue">;
  private readonly breakerOpen: Gauge<"queue">;
  private readonly workers: Gauge<"status">;
  private readonly streamClients: Gauge<"transport">;
  private readonly lastSeq: Gauge;
  private readonly runs: Gauge<"state">;
  private readonly runTurns: Counter<"outcome">;
  private readonly runTokens: Counter<"direction">;
  private readonly runsFinished: Counter<"outcome">;
  private readonly requeued: Counter<"task" | "queue">;
  private readonly idempotencyHits: Counter<"task" | "queue">;
  private readonly approvalsPending: Gauge;
  private readonly approvalsSettled: Counter<"outcome">;
  private readonly approvalDecision: Histogram<"outcome">;
  private readonly alertsOpen: Gauge<"status">;
  private readonly escalations: Counter<"trigger">;
  private readonly notifications: Counter<"channel" | "status">;
  private readonly concurrencyKeys: Gauge;
  private readonly concurrencyLimited: Gauge;
  private readonly keyRunning: Gauge<"key">;
  private readonly keyWaiting: Gauge<"key">;
  private readonly keyLimit: Gauge<"key">;
  private readonly workerBusy: Gauge<"worker" | "name">;
  private readonly workerSlots: Gauge<"worker" | "name">;
  private readonly workerUtilization: Gauge<"worker" | "name">;
  readonly httpRequests: Counter<"method" | "route" | "status">;

  constructor(
    private readonly store: MetricsReads,
    private readonly clients: StreamClients,
    private readonly logger: Logger,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // prom-client adds a total to each of its by-type gauges (nodejs_active_handles_total and the
    // like) as a gauge named *_total, a suffix Prometheus keeps for counters: `promtool check
    // metrics` refuses it. The by-type families stay; sum() over them is the same number.
    for (const metric of this.registry.getMetricsAsArray()) {
      if (metric instanceof Gauge && metric.name.endsWith("_total")) this.registry.removeSingleMetric(metric.name);
    }
    const jobLabels = ["task", "queue"] as const;
    this.enqueued = new Counter({
      name: "overseer_jobs_enqueued_total",
      help: "Jobs enqueued, by task and queue (from the event log).",
      labelNames: jobLabels,
      registers,
    });
    this.finished = new Counter({
      name: "overseer_jobs_finished_total",
      help: "Jobs that reached a finished state, by task, queue and outcome (succeeded, dead, cancelled).",
      labelNames: [...jobLabels, "outcome"],
      registers,
    });
    this.retries = new Counter({
      name: "overseer_job_retries_total",
      help: "Failed attempts scheduled to run again.",
      labelNames: jobLabels,
      registers,
    });
    this.deadLetters = new Counter({
      name: "overseer_jobs_dead_lettered_total",
      help: "Jobs that went dead (attempts exhausted, a permanent error, or a lost lease on the last attempt).",
      labelNames: jobLabels,
      registers,
    });
    this.leasesLost = new Counter({
      name: "overseer_leases_lost_total",
      help: "Attempts whose worker stopped heartbeating; the job was recovered.",
      labelNames: jobLabels,
      registers,
    });
    this.waitTime = new Histogram({
      name: "overseer_job_wait_seconds",
      help: "From when a job was due to when an attempt started.",
      labelNames: jobLabels,
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.runTime = new Histogram({
      name: "overseer_job_run_seconds",
      help: "From an attempt's start to its end, by how it ended (succeeded, failed, cancelled).",
      labelNames: [...jobLabels, "outcome"],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.depth = new Gauge({
      name: "overseer_jobs",
      help: "Jobs in the store by queue and state, at scrape time.",
      labelNames: ["queue", "state"],
      registers,
    });
    this.oldestWaiting = new Gauge({
      name: "overseer_queue_oldest_waiting_seconds",
      help: "How long the oldest queued job of each queue has been due; 0 when none is queued.",
      labelNames: ["queue"],
      registers,
    });
    this.paused = new Gauge({
      name: "overseer_queue_paused",
      help: "1 when the queue is paused.",
      labelNames: ["queue"],
      registers,
    });
    this.breakerOpen = new Gauge({
      name: "overseer_queue_breaker_open",
      help: "1 when the queue's circuit breaker is open or half-open (its jobs are held or diverted).",
      labelNames: ["queue"],
      registers,
    });
    this.workers = new Gauge({
      name: "overseer_workers",
      help: "Registered workers by status (active is alive and heartbeating).",
      labelNames: ["status"],
      registers,
    });
    this.streamClients = new Gauge({
      name: "overseer_event_stream_clients",
      help: "Clients connected to the event streams of this server, by transport.",
      labelNames: ["transport"],
      registers,
    });
    this.lastSeq = new Gauge({
      name: "overseer_event_log_last_seq",
      help: "The newest event's sequence number.",
      registers,
    });
    this.runs = new Gauge({
      name: "overseer_runs",
      help: "Runs in the store by state, at scrape time.",
      labelNames: ["state"],
      registers,
    });
    this.runTurns = new Counter({
      name: "overseer_run_turns_total",
      help: "Run turns that ended, by outcome (exited, timed_out, cancelled, interrupted, lost, spawn_failed).",
      labelNames: ["outcome"],
      registers,
    });
    this.runTokens = new Counter({
      name: "overseer_run_tokens_total",
      help: "Tokens runs reported (token_usage telemetry), by direction (input, output).",
      labelNames: ["direction"],
      registers,
    });
    this.runsFinished = new Counter({
      name: "overseer_runs_finished_total",
      help: "Runs that finished, by outcome (completed, failed, cancelled).",
      labelNames: ["outcome"],
      registers,
    });
    this.requeued = new Counter({
      name: "overseer_jobs_requeued_total",
      help: "Dead jobs the re-queue policy put back in their queue (job.requeued), by task and queue.",
      labelNames: jobLabels,
      registers,
    });
    this.idempotencyHits = new Counter({
      name: "overseer_idempotency_hits_total",
      help: "Enqueues that returned an existing job because of its idempotency key (job.deduplicated).",
      labelNames: jobLabels,
      registers,
    });
    this.approvalsPending = new Gauge({
      name: "overseer_approvals_pending",
      help: "Approval requests waiting for a decision, at scrape time.",
      registers,
    });
    this.approvalsSettled = new Counter({
      name: "overseer_approvals_settled_total",
      help: "Approval requests settled, by outcome (approved, denied, timed_out, cancelled).",
      labelNames: ["outcome"],
      registers,
    });
    this.approvalDecision = new Histogram({
      name: "overseer_approval_decision_seconds",
      help: "From an approval request to its outcome (approved, denied, timed_out).",
      labelNames: ["outcome"],
      buckets: DECISION_BUCKETS,
      registers,
    });
    this.alertsOpen = new Gauge({
      name: "overseer_alerts_open",
      help: "Open alerts by status (triggered, acknowledged), at scrape time.",
      labelNames: ["status"],
      registers,
    });
    this.escalations = new Counter({
      name: "overseer_alert_escalations_total",
      help: "Escalation steps notified (alert.escalated), by trigger: policy (raise or watchdog), approval_timeout or manual.",
      labelNames: ["trigger"],
      registers,
    });
    this.notifications = new Counter({
      name: "overseer_alert_notifications_total",
      help: "Alert notifications whose send was recorded, by channel and status (sent, or failed for good).",
      labelNames: ["channel", "status"],
      registers,
    });
    this.concurrencyKeys = new Gauge({
      name: "overseer_concurrency_keys",
      help: "Concurrency keys that have unfinished jobs, at scrape time.",
      registers,
    });
    this.concurrencyLimited = new Gauge({
      name: "overseer_concurrency_limited_jobs",
      help: "Queued jobs held back now because their concurrency key has as many jobs running as its limit.",
      registers,
    });
    this.keyRunning = new Gauge({
      name: "overseer_concurrency_key_running",
      help: `Jobs running per concurrency key (the ${MAX_KEY_SERIES} busiest keys).`,
      labelNames: ["key"],
      registers,
    });
    this.keyWaiting = new Gauge({
      name: "overseer_concurrency_key_waiting",
      help: `Jobs queued per concurrency key (the ${MAX_KEY_SERIES} busiest keys).`,
      labelNames: ["key"],
      registers,
    });
    this.keyLimit = new Gauge({
      name: "overseer_concurrency_key_limit",
      help: `The limit of each concurrency key (the ${MAX_KEY_SERIES} busiest keys).`,
      labelNames: ["key"],
      registers,
    });
    const workerLabels = ["worker", "name"] as const;
    this.workerBusy = new Gauge({
      name: "overseer_worker_busy_slots",
      help: "Jobs each active worker runs now.",
      labelNames: workerLabels,
      registers,
    });
    this.workerSlots = new Gauge({
      name: "overseer_worker_slots",
      help: "Each active worker's concurrency: the jobs it may run at once.",
      labelNames: workerLabels,
      registers,
    });
    this.workerUtilization = new Gauge({
      name: "overseer_worker_utilization_ratio",
      help: "Each active worker's busy slots over its concurrency, 0 to 1.",
      labelNames: workerLabels,
      registers,
    });
    this.httpRequests = new Counter({
      name: "overseer_http_requests_total",
      help: "HTTP requests answered, by method, route pattern and status.",
      labelNames: ["method", "route", "status"],
      registers,
    });
  }

  /** The event reader's listener: counts in order, looking up jobs it has not seen enqueued. */
  onEvents = (batch: readonly HubEvent[]): void => {
    this.chain = this.chain
      .then(() => this.count(batch))
      .catch((err: unknown) => this.logger.warn({ err }, "metrics: counting events failed; counters may be low"));
  };

  /** Resolves once every batch handed over so far is counted (tests). */
  settled(): Promise<void> {
    return this.chain;
  }

  /** Reads the gauges from the store, then renders everything. */
  async render(): Promise<string> {
    await this.refreshGauges();
    return this.registry.metrics();
  }

  private async count(batch: readonly HubEvent[]): Promise<void> {
    for (const { event } of batch) {
      if (APPROVAL_ENDS.has(event.kind)) {
        await this.countApprovalEnd(event);
        continue;
      }
      if (event.kind.startsWith("alert.")) {
        this.countAlertEvent(event);
        continue;
      }
      if (event.runId !== null) {
        this.countRunEvent(event);
        continue;
      }
      if (event.jobId === null || !event.kind.startsWith("job.")) continue;
      const at = Date.parse(event.at);
      if (event.kind === "job.enqueued") {
        const task = String(event.data.task ?? "unknown");
        const queue = String(event.data.queue ?? "unknown");
        const runAt = typeof event.data.runAt === "string" ? Date.parse(event.data.runAt) : at;
        this.track(event.jobId, { task, queue, dueAt: runAt, startedAt: null });
        this.enqueued.inc({ task, queue });
        continue;
      }
      if (event.kind === "job.deduplicated") {
        this.idempotencyHits.inc({
          task: String(event.data.task ?? "unknown"),
          queue: String(event.data.queue ?? "unknown"),
        });
        continue;
      }
      const job = await this.lookup(event);
      if (!job) continue;
      const labels = { task: job.task, queue: job.queue };
      switch (event.kind) {
        case "job.started":
          if (job.dueAt !== null) this.waitTime.observe(labels, Math.max(0, at - job.dueAt) / 1000);
          job.dueAt = null;
          job.startedAt = at;
          break;
        case "job.failed":
          this.observeRun(job, at, "failed");
          break;
        case "job.retry_scheduled":
          this.retries.inc(labels);
          job.dueAt = typeof event.data.runAt === "string" ? Date.parse(event.data.runAt) : null;
          break;
        case "job.retried":
          job.dueAt = at;
          break;
        case "job.requeued":
          this.requeued.inc(labels);
          break;
        case "job.lost":
          this.leasesLost.inc(labels);
          job.startedAt = null;
          break;
        case "job.dead":
          this.deadLetters.inc(labels);
          this.finish(event, job, at);
          break;
        case "job.succeeded":
        case "job.cancelled":
          this.finish(event, job, at);
          break;
      }
    }
  }

  private finish(event: OverseerEvent, job: Tracked, at: number): void {
    const outcome = FINISHED[event.kind] ?? "unknown";
    if (outcome !== "dead") this.observeRun(job, at, outcome);
    this.finished.inc({ task: job.task, queue: job.queue, outcome });
    // A finished job may still be retried; it is looked up again then.
    if (event.jobId) this.jobs.delete(event.jobId);
  }

  private observeRun(job: Tracked, at: number, outcome: string): void {
    if (job.startedAt === null) return;
    this.runTime.observe({ task: job.task, queue: job.queue, outcome }, Math.max(0, at - job.startedAt) / 1000);
    job.startedAt = null;
  }

  private track(jobId: string, job: Tracked): void {
    if (this.jobs.size >= MAX_TRACKED_JOBS) {
      const oldest = this.jobs.keys().next().value;
      if (oldest !== undefined) this.jobs.delete(oldest);
    }
    this.jobs.set(jobId, job);
  }

  /** A job enqueued before this server started (or forgotten): its task and queue from the store. */
  private async lookup(event: OverseerEvent): Promise<Tracked | null> {
    const id = event.jobId as string;
    const known = this.jobs.get(id);
    if (known) return known;
    const job = await this.store.getJob(id);
    // Discarded since: it is counted under "unknown" rather than not at all.
    const tracked: Tracked = {
      task: job?.task ?? "unknown",
      queue: job?.queue ?? "unknown",
      dueAt: null,
      startedAt: job?.startedAt ? Date.parse(job.startedAt) : null,
    };
    this.track(id, tracked);
    return tracked;
  }

  /** A request settled or cancelled: its outcome, and for a decision or a timeout, how long it took. */
  private async countApprovalEnd(event: OverseerEvent): Promise<void> {
    const outcome = event.kind === "approval.cancelled" ? "cancelled" : String(event.data.state ?? "unknown");
    this.approvalsSettled.inc({ outcome });
    if (outcome === "cancelled") return;
    let requestedAt = typeof event.data.requestedAt === "string" ? Date.parse(event.data.requestedAt) : Number.NaN;
    if (Number.isNaN(requestedAt) && typeof event.data.approvalId === "string") {
      // Settled by a version that did not record it: the request says when it was made.
      const approval = await this.store.getApproval(event.data.approvalId);
      if (approval) requestedAt = Date.parse(approval.createdAt);
    }
    if (Number.isNaN(requestedAt)) return;
    this.approvalDecision.observe({ outcome }, Math.max(0, Date.parse(event.at) - requestedAt) / 1000);
  }

  private countAlertEvent(event: OverseerEvent): void {
    switch (event.kind) {
      case "alert.escalated":
        // A step whose time window was shut paged nobody: not an escalation anyone received.
        if (event.data.skipped !== undefined) break;
        this.escalations.inc({ trigger: triggerOf(event.data.by) });
        break;
      case "alert.notification_sent":
      case "alert.notification_failed":
        this.notifications.inc({
          channel: channelLabel(String(event.data.target ?? "unknown")),
          status: event.kind === "alert.notification_sent" ? "sent" : "failed",
        });
        break;
    }
  }

  private countRunEvent(event: OverseerEvent): void {
    switch (event.kind) {
      case "run.turn_finished":
      case "run.turn_lost":
        this.runTurns.inc({
          outcome: event.kind === "run.turn_lost" ? "lost" : String(event.data.outcome ?? "unknown"),
        });
        break;
      case "run.token_usage":
        this.runTokens.inc({ direction: "input" }, Number(event.data.input) || 0);
        this.runTokens.inc({ direction: "output" }, Number(event.data.output) || 0);
        break;
      case "run.completed":
      case "run.failed":
      case "run.cancelled":
        this.runsFinished.inc({ outcome: event.kind.slice("run.".length) });
        break;
    }
  }

  private async refreshGauges(): Promise<void> {
    const [queues, workers, now, last, runs, busy, pending, alerts, keys, totals] = await Promise.all([
      this.store.listQueues(),
      this.store.listWorkers(),
      this.store.now(),
      this.store.lastEventSeq(),
      this.store.countRuns(),
      this.store.busySlots(),
      this.store.countPendingApprovals(),
      this.store.countOpenAlerts(),
      this.store.listConcurrencyKeys({ limit: MAX_KEY_SERIES, busiestFirst: true }),
      this.store.concurrencyTotals(),
    ]);
    this.approvalsPending.set(pending);
    for (const [status, n] of Object.entries(alerts)) this.alertsOpen.set({ status }, n);
    this.concurrencyKeys.set(totals.keys);
    this.concurrencyLimited.set(totals.limitedJobs);
    this.keyRunning.reset();
    this.keyWaiting.reset();
    this.keyLimit.reset();
    for (const k of keys) {
      this.keyRunning.set({ key: k.key }, k.running);
      this.keyWaiting.set({ key: k.key }, k.waiting);
      this.keyLimit.set({ key: k.key }, k.limit);
    }
    this.workerBusy.reset();
    this.workerSlots.reset();
    this.workerUtilization.reset();
    for (const w of workers) {
      // A quiet worker is alive and finishing its jobs: its slots still count.
      if (w.status !== "active" && w.status !== "quiet") continue;
      const labels = { worker: w.id, name: w.name };
      const used = busy[w.id] ?? 0;
      this.workerBusy.set(labels, used);
      this.workerSlots.set(labels, w.concurrency);
      this.workerUtilization.set(labels, w.concurrency > 0 ? Math.min(1, used / w.concurrency) : 0);
    }
    for (const [state, n] of Object.entries(runs)) this.runs.set({ state }, n);
    this.depth.reset();
    this.oldestWaiting.reset();
    this.paused.reset();
    this.breakerOpen.reset();
    for (const q of queues) {
      for (const [state, n] of Object.entries(q.counts)) this.depth.set({ queue: q.name, state }, n);
      this.paused.set({ queue: q.name }, q.paused ? 1 : 0);
      this.breakerOpen.set({ queue: q.name }, q.breaker === null ? 0 : 1);
      let age = 0;
      if (q.counts.queued > 0) {
        // Ids are time-ordered: the oldest queued job by creation, as GET /queues reads it.
        const [oldest] = await this.store.listJobs({ queue: q.name, states: ["queued"], oldestFirst: true, limit: 1 });
        if (oldest) age = Math.max(0, now - Date.parse(oldest.runAt)) / 1000;
      }
      this.oldestWaiting.set({ queue: q.name }, age);
    }
    this.workers.reset();
    for (const status of ["active", "quiet", "stopping", "stopped", "lost"]) {
      this.workers.set({ status }, workers.filter((w) => w.status === status).length);
    }
    this.streamClients.set({ transport: "sse" }, this.clients.count("sse"));
    this.streamClients.set({ transport: "websocket" }, this.clients.count("websocket"));
    this.lastSeq.set(last);
  }
}

/** Who made an escalation step happen: its policy, an approval's timeout, or a person ("escalate now"). */
function triggerOf(by: unknown): "policy" | "approval_timeout" | "manual" {
  if (by === "escalator") return "policy";
  return by === "approval-timeout" ? "approval_timeout" : "manual";
}
