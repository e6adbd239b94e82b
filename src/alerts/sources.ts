/**
 * Where alerts come from: the config's `alerts.rules`, applied in each worker's maintenance pass.
 * Most sources are events (a job dead-lettered, a worker lost, a schedule that missed ticks, an
 * approval requested or settled), read from the event log after a cursor: one indexed read per
 * pass. Queue depth and age are checked every few seconds, and only for queues a rule names.
 * One node at a time applies them: the one holding the claim `overseer.alert-sources` (see
 * core/claim.ts), refreshed every pass and released on close, so a dead job raises one alert
 * (or one bump) however many nodes run. The leader saves its position in the event log (the
 * store's cursor `overseer.alert-sources`) after each pass that moved it, so a node that takes
 * the claim over, even after a leader died without closing, goes on from there: events in the
 * gap are read, not skipped. A stale leader's late save can only move the position back, and
 * dedup keys make re-reads safe.
 * Heartbeats raise in the store (`checkHeartbeats`) with their own policy; their notifications,
 * like every alert's, are enqueued when `alert.raised` is read here. Acknowledgements, closes and
 * settled approvals are seen here once, whichever path made them, so this is also where their
 * Telegram copies are told to lose their buttons (delivery.settleCopies).
 */

import { hostname } from "node:os";
import type { AlertRule } from "../config/alerts.js";
import type { Alert, AlertSource, EscalationPolicy } from "../core/alert.js";
import type { Approval } from "../core/approval.js";
import { isOverseerError } from "../core/errors.js";
import { newId } from "../core/ids.js";
import type { Logger } from "../core/logger.js";
import { clip } from "../core/text.js";
import { conditionHolds } from "../core/time-window.js";
import type { OverseerEvent } from "../core/types.js";
import type { Lessons } from "../engine/lessons.js";
import type { Store } from "../store/store.js";
import { type AlertDelivery, NOTIFY_TASK } from "./delivery.js";

type Rule<K extends AlertRule["when"]> = Extract<AlertRule, { when: K }>;

/** What the sources read and write: the event log and its cursor, the claim, alerts, and what rules look at. */
export type SourcesStore = Pick<
  Store,
  | "takeClaim"
  | "releaseClaim"
  | "getCursor"
  | "saveCursor"
  | "lastEventSeq"
  | "readEvents"
  | "getJob"
  | "listJobs"
  | "listQueues"
  | "getApproval"
  | "listApprovals"
  | "getRun"
  | "listRuns"
  | "getAlert"
  | "listAlerts"
  | "listAlertNotifications"
  | "raiseAlert"
  | "escalateAlertNow"
  | "closeAlert"
>;

/** What the sources hand to delivery: new notifications to send, and settled requests' copies to edit. */
export type SourcesDelivery = Pick<AlertDelivery, "enqueue" | "settleCopies">;

export interface AlertSourcesOptions {
  store: SourcesStore;
  rules: readonly AlertRule[];
  /** Null when no channels are configured: alerts are raised and shown, nobody is paged. */
  delivery: SourcesDelivery | null;
  logger: Logger;
  /** How often queue depth and age are checked. Default 5 s. */
  queueCheckMs?: number;
  /** Finds the lessons like a job, for the approval alert's details (the first two); none without it. */
  lessons?: Pick<Lessons, "similar">;
}

const OPEN = ["triggered", "acknowledged"] as const;
/** The claim that says which node applies the rules. */
export const SOURCES_CLAIM = "overseer.alert-sources";
const SOURCES_CLAIM_TTL_MS = 15_000;
/** The store's cursor that keeps the leader's position in the event log across leaders. */
export const SOURCES_CURSOR = "overseer.alert-sources";

/** How long an approval alert waits for the lessons like its job (an embedder may be slow) before it goes without. */
const LESSONS_WAIT_MS = 2_000;
const LESSONS_PAUSE_MS = 60_000;

export class AlertSources {
  private readonly store: SourcesStore;
  private readonly rules: readonly AlertRule[];
  private readonly delivery: SourcesDelivery | null;
  private readonly logger: Logger;
  private readonly queueCheckMs: number;
  private readonly lessons: Pick<Lessons, "similar"> | null;
  /** After a search that took too long, alerts go without lessons until then (epoch ms): a pass of many must not wait on each. */
  private lessonsPausedUntil = 0;
  private cursor: number | null = null;
  private lastQueueCheck = 0;
  /** Several workers of one process share this: one pass at a time. */
  private busy = false;
  /** When this process last took or refreshed the sources claim (epoch ms), or null. */
  private heldSince: number | null = null;
  /** Who this process is when it takes the sources claim. */
  private readonly owner = `sources:${hostname()}:${process.pid}:${newId().slice(-8)}`;
  /** Pending `onTimeout: escalate` requests this process watches: approval id → expiry (epoch ms). */
  private readonly timeouts = new Map<string, number>();

  constructor(options: AlertSourcesOptions) {
    this.store = options.store;
    this.rules = options.rules;
    this.delivery = options.delivery;
    this.logger = options.logger;
    this.queueCheckMs = options.queueCheckMs ?? 5_000;
    this.lessons = options.lessons ?? null;
  }

  /**
   * The first rule of a kind that matches and, when `at` is given, whose time window (`during` /
   * `outside`) holds at `at`: a business-hours rule and an after-hours one route the same alert
   * to different policies. Without `at`: whether any rule of the kind is configured at all.
   */
  private rule<K extends AlertRule["when"]>(
    when: K,
    matches: (r: Rule<K>) => boolean = () => true,
    at?: number,
  ): Rule<K> | null {
    for (const r of this.rules) {
      if (r.when !== when || !matches(r as Rule<K>)) continue;
      if (at === undefined || conditionHolds(r.window, at)) return r as Rule<K>;
    }
    return null;
  }

  /** One pass: new events, approval timeouts, and (every few seconds) queue thresholds. */
  async pass(now = Date.now()): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.passOnce(now);
    } finally {
      this.busy = false;
    }
  }

  /** Gives the claim up (on close), so another node takes over at once. */
  async release(): Promise<void> {
    if (this.cursor === null) return;
    const at = this.cursor;
    this.cursor = null;
    await this.store.saveCursor(SOURCES_CURSOR, at).catch(() => undefined);
    this.heldSince = null;
    await this.store.releaseClaim(SOURCES_CLAIM, this.owner).catch(() => undefined);
  }

  /**
   * Takes or refreshes the sources claim; false while another node holds it. A held claim is
   * refreshed once a third of its TTL has passed, not on every pass: a write every few seconds.
   */
  private async lead(): Promise<boolean> {
    const now = Date.now();
    if (this.heldSince !== null && now - this.heldSince < SOURCES_CLAIM_TTL_MS / 3) return true;
    try {
      await this.store.takeClaim(SOURCES_CLAIM, this.owner, SOURCES_CLAIM_TTL_MS);
      this.heldSince = now;
      return true;
    } catch (err) {
      this.heldSince = null;
      if (isOverseerError(err, "CLAIM_HELD")) return false;
      throw err;
    }
  }

  private async passOnce(now: number): Promise<void> {
    if (!(await this.lead())) {
      // Not this node's turn; should it lead later, it goes on from the saved position.
      this.cursor = null;
      return;
    }
    if (this.cursor === null) {
      // The last leader's position; the newest event on a store no leader has read yet.
      this.cursor = (await this.store.getCursor(SOURCES_CURSOR)) ?? (await this.store.lastEventSeq());
      await this.adoptPendingApprovals();
    }
    const from = this.cursor;
    for (;;) {
      const events = await this.store.readEvents({ afterSeq: this.cursor, limit: 500 });
      for (const event of events) {
        await this.onEvent(event);
        this.cursor = event.seq;
      }
      if (events.length < 500) break;
    }
    if (this.cursor !== from) await this.store.saveCursor(SOURCES_CURSOR, this.cursor);
    await this.escalateTimedOutApprovals(now);
    if (now - this.lastQueueCheck >= this.queueCheckMs) {
      this.lastQueueCheck = now;
      await this.checkQueues(now);
      await this.checkStalledRuns(now);
    }
  }

  private async onEvent(e: OverseerEvent): Promise<void> {
    const data = e.data;
    /** Rules are routed by when it happened (their time windows), not when this pass reads it. */
    const at = Date.parse(e.at);
    switch (e.kind) {
      case "alert.raised":
      case "alert.escalated":
      case "alert.retriggered":
        // Alerts raised elsewhere (heartbeats, the API, another node): their planned sends, once each.
        if (this.delivery && typeof data.alertId === "string") await this.deliver(data.alertId);
        return;
      case "alert.acknowledged":
      case "alert.closed":
        // Every Telegram copy says so, and loses its buttons (an approval alert's follow its approval).
        if (this.delivery && typeof data.alertId === "string") this.delivery.settleCopies(data.alertId);
        return;
      case "approval.requested": {
        if (typeof data.approvalId !== "string") return;
        const approval = await this.store.getApproval(data.approvalId);
        if (approval?.state === "pending") await this.approvalRequested(approval);
        return;
      }
      case "approval.settled":
      case "approval.cancelled": {
        if (typeof data.approvalId !== "string") return;
        this.timeouts.delete(data.approvalId);
        if (this.rule("approval.pending") === null) return;
        const by = typeof data.decidedBy === "string" ? data.decidedBy : "overseer";
        const how = e.kind === "approval.cancelled" ? "cancelled" : String(data.state ?? "settled");
        const key = `approval:${data.approvalId}`;
        // Closing it appends `alert.closed`, which settles its copies (above).
        const closedNow = await this.closeOpen("approval", key, by, `approval ${how}`);
        if (this.delivery && closedNow === null) {
          // No open alert: one a person closed while the request was pending kept its Approve /
          // Deny, settled now.
          const closedBefore = await this.store.listAlerts({ statuses: ["closed"], source: "approval", limit: 200 });
          for (const alert of closedBefore) {
            if (alert.dedupKey === key && alert.id !== closedNow) this.delivery.settleCopies(alert.id);
          }
        }
        return;
      }
      case "job.dead": {
        if (e.jobId === null || this.rule("job.dead") === null) return;
        const job = await this.store.getJob(e.jobId);
        if (job === null) return;
        // A dead send is not paged about through the channels that failed it, unless a rule names the task.
        const rule = this.rule(
          "job.dead",
          (r) =>
            (r.queue === undefined || r.queue === job.queue) &&
            (r.task === undefined ? job.task !== NOTIFY_TASK : r.task === job.task),
          at,
        );
        if (rule === null) return;
        await this.raise("job.dead", `job.dead:${job.queue}:${job.task}`, rule.policy, {
          summary: `Jobs dead-lettered: task ${job.task} in queue ${job.queue}`,
          details: { jobId: job.id, task: job.task, queue: job.queue, reason: data.reason ?? null },
        });
        return;
      }
      case "worker.lost": {
        const rule = this.rule("worker.lost", undefined, at);
        if (rule === null || e.workerId === null) return;
        await this.raise("worker.lost", `worker.lost:${e.workerId}`, rule.policy, {
          summary: `Worker lost: ${e.workerId} stopped heartbeating`,
          details: { workerId: e.workerId, staleMs: data.staleMs ?? null },
        });
        return;
      }
      case "run.failed": {
        if (e.runId === null) return;
        const run = await this.store.getRun(e.runId);
        const rule = this.rule("run.failed", (r) => r.profile === undefined || r.profile === run?.profile, at);
        if (rule === null || run === null) return;
        const error = run.error ?? { code: String(data.code ?? "unknown"), message: String(data.message ?? "") };
        await this.raise("run.failed", `run.failed:${run.id}`, rule.policy, {
          summary: `Run failed: ${run.profile ?? "ad hoc"} run ${run.id}: ${error.code}`,
          details: {
            runId: run.id,
            profile: run.profile,
            turn: run.currentTurn,
            code: error.code,
            message: error.message,
          },
        });
        return;
      }
      case "run.budget_exceeded": {
        if (e.runId === null) return;
        const run = await this.store.getRun(e.runId);
        const rule = this.rule("run.budget", (r) => r.profile === undefined || r.profile === run?.profile, at);
        if (rule === null || run === null) return;
        await this.raise("run.budget", `run.budget:${run.id}`, rule.policy, {
          summary: `Run ${data.action === "paused" ? "paused" : "stopped"} at its budget: ${run.profile ?? "ad hoc"} run ${run.id}: ${String(data.code)}`,
          details: { runId: run.id, profile: run.profile, code: data.code, message: data.message, action: data.action },
        });
        return;
      }
      case "queue.breaker_opened": {
        const queue = String(data.queue ?? "");
        const rule = this.rule("queue.breaker", (r) => r.queue === undefined || r.queue === queue, at);
        if (rule === null) return;
        const diverting = typeof data.divertTo === "string" ? `, its jobs go to ${data.divertTo}` : "";
        await this.raise("queue.breaker", `queue.breaker:${queue}`, rule.policy, {
          summary:
            data.reason === "probe_failed"
              ? `Circuit breaker of queue ${queue} opened again: its probe failed`
              : `Circuit breaker of queue ${queue} opened: ${String(data.failures)} of ${String(data.attempts)} attempts failed${diverting}`,
          details: data,
        });
        return;
      }
      case "queue.breaker_closed": {
        const queue = String(data.queue ?? "");
        if (this.rule("queue.breaker") === null) return;
        const by = typeof data.by === "string" ? data.by : "overseer";
        const why = data.reason === "reset" ? "reset by a person" : "its probe succeeded";
        await this.closeOpen("queue.breaker", `queue.breaker:${queue}`, by, `circuit breaker closed: ${why}`);
        return;
      }
      case "schedule.missed": {
        const name = String(data.schedule ?? "");
        const rule = this.rule("schedule.missed", (r) => r.schedule === undefined || r.schedule === name, at);
        if (rule === null) return;
        await this.raise("schedule.missed", `schedule.missed:${name}`, rule.policy, {
          summary: `Schedule ${name} missed ${String(data.missed)} tick(s)`,
          details: data,
        });
        return;
      }
    }
  }

  /** Requests pending from before this process started: raised (or bumped) once, and their timeouts watched. */
  private async adoptPendingApprovals(): Promise<void> {
    if (this.rule("approval.pending") === null) return;
    for (const approval of await this.store.listApprovals({ states: ["pending"], limit: 200 })) {
      await this.approvalRequested(approval);
    }
  }

  private async approvalRequested(approval: Approval): Promise<void> {
    const rule = this.rule("approval.pending", undefined, Date.parse(approval.createdAt));
    if (rule === null) return;
    const lessons = approval.jobId === null ? [] : await this.lessonsLike(approval.jobId);
    await this.raise("approval", `approval:${approval.id}`, rule.policy, {
      summary: `${approval.kind === "question" ? "Question from a run" : "Approval needed"}: ${approval.title}`,
      details: {
        approvalId: approval.id,
        ...(approval.runId === null ? { jobId: approval.jobId } : { runId: approval.runId, kind: approval.kind }),
        risk: approval.risk,
        approvers: approval.approvers,
        expiresAt: approval.expiresAt,
        onTimeout: approval.onTimeout,
        ...(lessons.length === 0 ? {} : { similarLessons: lessons }),
      },
    });
    if (approval.onTimeout === "escalate") this.timeouts.set(approval.id, Date.parse(approval.expiresAt));
  }

  /**
   * "Incidents like this were resolved by ...": the two lessons most like the job, one line each.
   * A help for the person deciding, never a reason not to ask: a failed search gives none.
   */
  private async lessonsLike(jobId: string): Promise<string[]> {
    if (this.lessons === null || Date.now() < this.lessonsPausedUntil) return [];
    try {
      const found = await withTimeout(this.lessons.similar({ jobId, limit: 2 }), LESSONS_WAIT_MS);
      // One line each, short enough that a Telegram message keeps its links.
      return found.map(({ lesson }) => clip(`${lesson.title}: ${lesson.outcome}`, 200));
    } catch (err) {
      this.lessonsPausedUntil = Date.now() + LESSONS_PAUSE_MS;
      this.logger.warn({ err, jobId }, "no similar lessons for an approval alert; alerts go without them for a minute");
      return [];
    }
  }

  /**
   * `onTimeout: escalate`: at its expiry the request stays pending and its alert escalates to the
   * next step, once: the escalation is guarded by the alert's version, so of several nodes one wins.
   */
  private async escalateTimedOutApprovals(now: number): Promise<void> {
    for (const [approvalId, expiresAt] of this.timeouts) {
      if (expiresAt > now) continue;
      this.timeouts.delete(approvalId);
      const alert = await this.findOpen("approval", `approval:${approvalId}`);
      // Touched since the timeout (another node escalated it, or a person acknowledged it): leave it.
      if (alert === null || Date.parse(alert.updatedAt) >= expiresAt) continue;
      try {
        const escalation = await this.store.escalateAlertNow(alert.id, "approval-timeout", alert.version);
        this.logger.warn({ approvalId, alertId: alert.id }, "an approval timed out: escalated its alert");
        await this.delivery?.enqueue(escalation.alert, escalation.notifications);
      } catch (err) {
        if (isOverseerError(err) && (err.code === "VERSION_CONFLICT" || err.code === "ALERT_INVALID_TRANSITION")) {
          continue; // another node escalated it, or it was closed meanwhile
        }
        throw err;
      }
    }
  }

  /**
   * `run.stalled`: a running run that has written nothing (output, telemetry, a turn's start or
   * end) for the rule's `after`. Its alert closes once the run writes again or stops running.
   */
  private async checkStalledRuns(now: number): Promise<void> {
    const all = this.rules.filter((r): r is Rule<"run.stalled"> => r.when === "run.stalled");
    const first = all[0];
    if (first === undefined) return;
    const running = new Map((await this.store.listRuns({ states: ["running"], limit: 500 })).map((r) => [r.id, r]));
    const open = await this.store.listAlerts({ statuses: OPEN, source: "run.stalled", limit: 200 });
    const ids = new Set([...running.keys(), ...open.map((a) => a.dedupKey?.slice("run.stalled:".length) ?? "")]);
    for (const id of ids) {
      const run = running.get(id);
      const quietMs = run === undefined ? 0 : now - Date.parse(run.updatedAt);
      const describe = (rule: Rule<"run.stalled">) => ({
        summary: `Run stalled: ${run?.profile ?? "ad hoc"} run ${id} has written nothing for ${Math.round(quietMs / 1000)} s`,
        details: {
          runId: id,
          profile: run?.profile ?? null,
          turn: run?.currentTurn ?? null,
          quietMs,
          afterMs: rule.after,
        },
      });
      // A run that stopped, or that no rule covers, is never raised; an alert left open closes.
      const rules = run === undefined ? [] : all.filter((r) => r.profile === undefined || r.profile === run.profile);
      if (rules.length === 0) await this.threshold("run.stalled", id, false, first.policy, describe(first));
      else await this.routedThreshold("run.stalled", id, rules, now, (r) => quietMs > r.after, describe);
    }
  }

  /** Queue depth (jobs queued) and age (the oldest queued job's wait) against the rules that name a queue. */
  private async checkQueues(now: number): Promise<void> {
    const depthRules = this.rules.filter((r): r is Rule<"queue.depth"> => r.when === "queue.depth");
    const ageRules = this.rules.filter((r): r is Rule<"queue.age"> => r.when === "queue.age");
    if (depthRules.length > 0) {
      const queues = new Map((await this.store.listQueues()).map((q) => [q.name, q.counts.queued]));
      for (const [queue, rules] of byQueue(depthRules)) {
        const depth = queues.get(queue) ?? 0;
        await this.routedThreshold(
          "queue.depth",
          queue,
          rules,
          now,
          (r) => depth > r.above,
          (r) => ({
            summary: `Queue ${queue} has ${depth} jobs waiting (more than ${r.above})`,
            details: { queue, depth, above: r.above },
          }),
        );
      }
    }
    for (const [queue, rules] of byQueue(ageRules)) {
      const [oldest] = await this.store.listJobs({ queue, states: ["queued"], oldestFirst: true, limit: 1 });
      const age = oldest === undefined ? 0 : now - Date.parse(oldest.runAt);
      await this.routedThreshold(
        "queue.age",
        queue,
        rules,
        now,
        (r) => age > r.above,
        (r) => ({
          summary: `Queue ${queue}: the oldest job has waited ${Math.round(age / 1000)} s (more than ${Math.round(r.above / 1000)} s)`,
          details: { queue, oldestJobId: oldest?.id ?? null, ageMs: age, aboveMs: r.above },
        }),
      );
    }
  }

  /**
   * A threshold with the rules of one subject, in config order: the first whose time window holds
   * at `now` decides (raise when over, close when back under). While none holds, nothing is
   * raised, and an open alert still closes once no rule would call the value over.
   */
  private async routedThreshold<R extends AlertRule>(
    source: "queue.depth" | "queue.age" | "run.stalled",
    subject: string,
    rules: readonly R[],
    now: number,
    isOver: (rule: R) => boolean,
    describe: (rule: R) => { summary: string; details: unknown },
  ): Promise<void> {
    const chosen = rules.find((r) => conditionHolds(r.window, now));
    if (chosen !== undefined) {
      await this.threshold(source, subject, isOver(chosen), chosen.policy, describe(chosen));
      return;
    }
    const first = rules[0];
    if (first !== undefined && !rules.some(isOver)) {
      await this.threshold(source, subject, false, first.policy, describe(first));
    }
  }

  /** Over the threshold: raised (a repeat bumps it). Back under: its open alert is closed. */
  private async threshold(
    source: "queue.depth" | "queue.age" | "run.stalled",
    subject: string,
    over: boolean,
    policy: EscalationPolicy,
    alert: { summary: string; details: unknown },
  ): Promise<void> {
    const key = `${source}:${subject}`;
    if (over) {
      const open = await this.findOpen(source, key);
      if (open === null) await this.raise(source, key, policy, alert);
      return;
    }
    await this.closeOpen(
      source,
      key,
      "overseer",
      source === "run.stalled" ? "the run wrote again or stopped running" : "back under the threshold",
    );
  }

  private async raise(
    source: AlertSource,
    dedupKey: string,
    policy: EscalationPolicy,
    alert: { summary: string; details: unknown },
  ): Promise<void> {
    const raised = await this.store.raiseAlert({
      id: newId(),
      source,
      summary: alert.summary.slice(0, 300),
      details: alert.details,
      dedupKey,
      policy,
    });
    if (raised.created) this.logger.warn({ alertId: raised.alert.id, source, dedupKey }, "raised an alert");
    await this.delivery?.enqueue(raised.alert, raised.notifications);
  }

  private async deliver(alertId: string): Promise<void> {
    const alert = await this.store.getAlert(alertId);
    if (alert === null || alert.status === "closed") return;
    await this.delivery?.enqueue(alert, await this.store.listAlertNotifications(alertId));
  }

  private async findOpen(source: AlertSource, dedupKey: string): Promise<Alert | null> {
    const open = await this.store.listAlerts({ statuses: OPEN, source, limit: 200 });
    return open.find((a) => a.dedupKey === dedupKey) ?? null;
  }

  /** Closes the open alert of the key, if any; the id of the alert this closed, or null. */
  private async closeOpen(source: AlertSource, dedupKey: string, by: string, reason: string): Promise<string | null> {
    const alert = await this.findOpen(source, dedupKey);
    if (alert === null) return null;
    try {
      await this.store.closeAlert(alert.id, by, reason);
      return alert.id;
    } catch (err) {
      // Closed meanwhile by a person or another node: what this wanted.
      if (!(isOverseerError(err) && err.code === "ALERT_INVALID_TRANSITION")) throw err;
      return null;
    }
  }
}

/** The promise's value, or a rejection once `ms` have passed (the promise itself runs on). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Rules grouped by the queue they name, each group in config order. */
function byQueue<R extends { queue: string }>(rules: readonly R[]): Map<string, R[]> {
  const groups = new Map<string, R[]>();
  for (const rule of rules) groups.set(rule.queue, [...(groups.get(rule.queue) ?? []), rule]);
  return groups;
}
