/**
 * Alert delivery through Overseer's own queue. Escalation records who is to be notified as
 * `planned` notifications (in the store's transaction); this module turns each into one job of
 * the built-in task `overseer.notify` per (notification, channel), so a failed send retries with
 * backoff and, after its last attempt, dead-letters visibly (the notification is marked failed).
 * Invariant: every planned notification gets exactly one live job: enqueues carry the idempotency
 * key `notify:<notification id>`, and a sweep re-enqueues planned notifications left without a
 * job by a crash between the escalation's commit and the enqueue.
 * A sent Telegram message with buttons is recorded with its receipt; once its alert (or the
 * approval behind it) is settled, `settleCopies` edits every such copy (see settled-copies.ts).
 * People are reached through the first channel of each kind (`person:<name>:<method>`): the
 * first Telegram bot, the first e-mail server, the first `sms` and `voice` channels.
 */

import type { ResolvedChannelConfig } from "../config/alert-channels.js";
import type { Alert, AlertNotification, NotificationReceipt } from "../core/alert.js";
import type { Approval } from "../core/approval.js";
import { PermanentError } from "../core/errors.js";
import { buildNewJob } from "../core/job-options.js";
import type { Logger } from "../core/logger.js";
import { type ContactMethod, type PersonContacts, parsePersonTarget } from "../core/people.js";
import { defineTask, type TaskDefinition } from "../core/task.js";
import { clip } from "../core/text.js";
import type { Store } from "../store/store.js";
import { Bundler } from "./channels/bundler.js";
import { type Channel, ChannelDeliveryError, type Notification, reachesOnlyPeople } from "./channels/channel.js";
import { type ChannelDeps, createChannel } from "./channels/factory.js";
import { isMessageNotModified, type TelegramChannel } from "./channels/telegram.js";
import { DEFAULT_DASHBOARD_URL, dashboardLinks } from "./links.js";
import { settledLine, settledText } from "./settled-copies.js";

type PhoneChannelConfig = Extract<ResolvedChannelConfig, { type: "sms" | "voice" }>;

/** The built-in task that sends one notification through one channel. */
export const NOTIFY_TASK = "overseer.notify";
/** Attempts of a send before it dead-letters (with the task's exponential backoff). */
export const NOTIFY_MAX_ATTEMPTS = 6;
/** Planned notifications one sweep looks at. */
const SWEEP_LIMIT = 500;
/** Notification ids this process remembers having enqueued; forgotten all at once past this. */
const MAX_REMEMBERED = 10_000;
/** How long closing waits for queued copy edits before dropping the rest. */
const COPY_DRAIN_MS = 5_000;

export interface NotifyPayload {
  notificationId: number;
  channel: string;
  notification: Notification;
}

/**
 * One notification of an alert, as every channel gets it: what a person reads (with, for an
 * approval, what the request asks: `approval` is the request behind the alert), the buttons they
 * get (Approve / Deny for a pending approval, Acknowledge otherwise), links to the dashboard, and
 * the ids a receiver needs: this notification's own (see `notificationIdOf`) and the alert's.
 */
export function notificationFor(
  alert: Alert,
  sent: Pick<AlertNotification, "id" | "at">,
  dashboardUrl = DEFAULT_DASHBOARD_URL,
  approval: Pick<Approval, "details" | "execution" | "test"> | null = null,
): Notification {
  const approvalId = approvalIdOf(alert);
  const jobId = jobIdOf(alert);
  const runId = runIdOf(alert);
  const details = alert.details === null || alert.details === undefined ? undefined : describeDetails(alert.details);
  return {
    kind: approvalId === null ? "alert" : "approval",
    id: notificationIdOf(alert.id, sent.id),
    alertId: alert.id,
    ...(approvalId === null ? {} : { approvalId }),
    ...(jobId === null ? {} : { jobId }),
    title: alert.summary,
    ...(approvalId === null || approval === null
      ? {}
      : { request: { details: approval.details, execution: approval.execution, test: approval.test } }),
    ...(details === undefined ? {} : { details }),
    links: dashboardLinks(dashboardUrl, {
      alertId: alert.id,
      ...(approvalId === null ? {} : { approvalId }),
      ...(jobId === null ? {} : { jobId }),
      ...(runId === null ? {} : { runId }),
    }),
    actions: approvalId === null ? ["ack"] : ["approve", "deny"],
    at: sent.at,
    raisedAt: alert.createdAt,
  };
}

/**
 * A notification's id as receivers see it: the alert's id and the stored notification's number,
 * `<alert id>-<n>`. Unique per step, round and target (a re-triggered alert's steps get new
 * numbers), the same on every retry, and unique across databases (alert ids are ULIDs).
 */
export function notificationIdOf(alertId: string, notificationId: number): string {
  return `${alertId}-${notificationId}`;
}

/** The approval an approval alert asks about; null for any other alert. */
export function approvalIdOf(alert: Alert): string | null {
  if (alert.source !== "approval") return null;
  const id = (alert.details as { approvalId?: unknown } | null)?.approvalId;
  return typeof id === "string" ? id : null;
}

/** The job an alert is about: a dead job, the job waiting for an approval; null for any other alert. */
export function jobIdOf(alert: Alert): string | null {
  const id = (alert.details as { jobId?: unknown } | null)?.jobId;
  return typeof id === "string" && id !== "" ? id : null;
}

/** The run an alert is about: a failed, stalled or budget-stopped run, the run asking a question; null otherwise. */
export function runIdOf(alert: Alert): string | null {
  const id = (alert.details as { runId?: unknown } | null)?.runId;
  return typeof id === "string" && id !== "" ? id : null;
}

function describeDetails(details: unknown): string {
  const text = typeof details === "string" ? details : JSON.stringify(details, null, 1);
  return clip(text, 1_500);
}

/** What delivery reads and writes: the escalations due, the notifications, and their send jobs. */
export type DeliveryStore = Pick<
  Store,
  | "now"
  | "nextEscalationAt"
  | "claimDueEscalations"
  | "recordNotification"
  | "planFallback"
  | "enqueueMany"
  | "listPlannedNotifications"
  | "getAlert"
  | "getApproval"
  | "listAlertNotifications"
>;

export interface AlertDeliveryOptions {
  store: DeliveryStore;
  logger: Logger;
  /** Secrets already read from the environment. */
  channels: readonly ResolvedChannelConfig[];
  /** How to reach the people policies page as `person:<name>:<method>` (config `alerts.people`). */
  people?: Readonly<Record<string, PersonContacts>>;
  deps?: Omit<ChannelDeps, "logger">;
  /** How often the sweep for planned notifications without a job runs. Default 15 s. */
  sweepMs?: number;
  /** The dashboard's public base URL, for the links in notifications (config `alerts.dashboardUrl`). */
  dashboardUrl?: string;
}

/**
 * One per process: the channels (with their rate limits and bundling), the `overseer.notify`
 * task, and the escalation dispatcher each worker's maintenance pass calls.
 */
export class AlertDelivery {
  readonly task: TaskDefinition<NotifyPayload>;
  readonly channels = new Map<string, Channel>();
  private readonly outboxes = new Map<string, Outbox>();
  private readonly store: DeliveryStore;
  private readonly logger: Logger;
  private readonly sweepMs: number;
  private readonly dashboardUrl: string;
  private lastSweep = 0;
  /** Notifications this process has enqueued the send jobs of (see `enqueue`). */
  private readonly enqueued = new Set<number>();
  private readonly deps: ChannelDeps;
  /** The first Telegram channel's bot writes to people (`telegram:<user id>`, a person's Telegram contact). */
  private readonly bot: Extract<ResolvedChannelConfig, { type: "telegram" }> | undefined;
  /** The first e-mail channel's SMTP server writes to a person's e-mail contact. */
  private readonly mailer: Extract<ResolvedChannelConfig, { type: "email" }> | undefined;
  /** The first `sms` channel texts a person's phone; the first `voice` channel calls it. */
  private readonly texter: PhoneChannelConfig | undefined;
  private readonly caller: PhoneChannelConfig | undefined;
  private readonly people: Readonly<Record<string, PersonContacts>>;
  /** Each channel's `fallback`, by channel name. */
  private readonly fallbacks: ReadonlyMap<string, string>;
  /** Copy edits run one after another, off the caller's path (a maintenance pass never waits on Telegram). */
  private copyEdits: Promise<void> = Promise.resolve();
  /** Closing: no new copy edits are queued. Closed: queued ones not yet started are dropped. */
  private closing = false;
  private closed = false;
  /** Settled copies edited, and edits that failed (message too old or deleted, Telegram down), since start. */
  readonly copies = { edited: 0, failed: 0 };

  constructor(options: AlertDeliveryOptions) {
    this.store = options.store;
    this.logger = options.logger;
    this.sweepMs = options.sweepMs ?? 15_000;
    this.dashboardUrl = options.dashboardUrl ?? DEFAULT_DASHBOARD_URL;
    this.deps = { logger: options.logger, ...options.deps };
    for (const config of options.channels) {
      // A phone channel without `to` reaches only people: each person's number gets its own outbox.
      if (reachesOnlyPeople(config)) continue;
      this.open(config.name, config);
    }
    this.texter = options.channels.find((c): c is PhoneChannelConfig => c.type === "sms");
    this.caller = options.channels.find((c): c is PhoneChannelConfig => c.type === "voice");
    this.bot = options.channels.find((c) => c.type === "telegram") as
      | Extract<ResolvedChannelConfig, { type: "telegram" }>
      | undefined;
    this.mailer = options.channels.find((c) => c.type === "email") as
      | Extract<ResolvedChannelConfig, { type: "email" }>
      | undefined;
    this.people = options.people ?? {};
    this.fallbacks = new Map(options.channels.flatMap((c) => (c.fallback === undefined ? [] : [[c.name, c.fallback]])));
    this.task = defineTask<NotifyPayload>(NOTIFY_TASK, (payload, ctx) => this.send(payload, ctx), {
      maxAttempts: NOTIFY_MAX_ATTEMPTS,
    });
  }

  /**
   * The escalation dispatcher, for a maintenance pass: a read first, a write only when a step is
   * due; then one send job per (notification, channel). Every so often, the sweep.
   */
  async dispatch(now?: number): Promise<void> {
    const due = await this.store.nextEscalationAt();
    // Due by the store's clock, which wrote the due time (an injected one in tests).
    if (due !== null && due <= (now ?? (await this.store.now()))) {
      for (const escalation of await this.store.claimDueEscalations()) {
        await this.enqueue(escalation.alert, escalation.notifications);
      }
    }
    const wall = Date.now();
    if (wall - this.lastSweep >= this.sweepMs) {
      this.lastSweep = wall;
      await this.sweep();
    }
  }

  /**
   * Enqueues the send jobs of notifications just recorded as planned (idempotent per notification).
   * Ones this process enqueued already are skipped without a write: the raise, the `alert.raised`
   * event that follows it and the sweep all hand the same notifications here.
   */
  async enqueue(alert: Alert, notifications: readonly AlertNotification[]): Promise<void> {
    const planned = notifications.filter((n) => n.status === "planned" && !this.enqueued.has(n.id));
    if (planned.length === 0) return;
    const approvalId = approvalIdOf(alert);
    const approval = approvalId === null ? null : await this.store.getApproval(approvalId);
    const jobs = [];
    for (const n of planned) {
      if (this.outboxFor(n.target) === undefined) {
        // A person with no way to reach them (not in alerts.people, or telegram:<id> without a
        // Telegram channel), or a channel removed from the config: nobody to send through.
        await this.store.recordNotification(n.id, "failed", `no configured channel reaches "${n.target}"`);
        continue;
      }
      const payload: NotifyPayload = {
        notificationId: n.id,
        channel: n.target,
        notification: notificationFor(alert, n, this.dashboardUrl, approval),
      };
      jobs.push(buildNewJob(NOTIFY_TASK, payload, { idempotencyKey: `notify:${n.id}` }, this.task.defaults));
    }
    if (jobs.length > 0) await this.store.enqueueMany(jobs);
    if (this.enqueued.size + planned.length > MAX_REMEMBERED) this.enqueued.clear();
    for (const n of planned) this.enqueued.add(n.id);
  }

  /**
   * Re-enqueues planned notifications of open alerts (a crash may have left some without a job):
   * one indexed read, and a read of each alert that has such notifications.
   */
  async sweep(): Promise<void> {
    const byAlert = new Map<string, AlertNotification[]>();
    for (const n of await this.store.listPlannedNotifications(SWEEP_LIMIT)) {
      if (this.enqueued.has(n.id)) continue;
      byAlert.set(n.alertId, [...(byAlert.get(n.alertId) ?? []), n]);
    }
    for (const [alertId, notifications] of byAlert) {
      const alert = await this.store.getAlert(alertId);
      if (alert !== null) await this.enqueue(alert, notifications);
    }
  }

  private async send(payload: NotifyPayload, ctx: { attempt: number; job: { maxAttempts: number } }): Promise<void> {
    const outbox = this.outboxFor(payload.channel);
    if (outbox === undefined) {
      await this.store.recordNotification(
        payload.notificationId,
        "failed",
        `no configured channel "${payload.channel}"`,
      );
      throw new PermanentError(`no configured channel "${payload.channel}"`, { code: "CHANNEL_NOT_FOUND" });
    }
    let receipt: NotificationReceipt | undefined;
    try {
      receipt = await outbox.deliver(payload.notification);
    } catch (err) {
      const permanent = err instanceof ChannelDeliveryError && !err.retryable;
      const message = (err as Error).message ?? String(err);
      // The last attempt: the job goes dead now, the timeline says so, and a fallback takes over.
      if (permanent || ctx.attempt >= ctx.job.maxAttempts) {
        try {
          await this.fallBack(payload);
        } catch (fallbackErr) {
          // The failure is recorded all the same; a fallback planned but not enqueued is the sweep's.
          this.logger.warn({ err: fallbackErr, notificationId: payload.notificationId }, "planning a fallback failed");
        }
        await this.store.recordNotification(payload.notificationId, "failed", message.slice(0, 500));
      }
      if (permanent) throw new PermanentError(message, { code: (err as ChannelDeliveryError).code, cause: err });
      throw err;
    }
    const sent = await this.store.recordNotification(payload.notificationId, "sent", null, receipt ?? null);
    // Settled while this was being sent: the sources pass may have edited the copies before this
    // receipt was recorded, so this copy is checked once more (an edit that changes nothing is fine).
    if (receipt !== undefined) this.settleCopies(sent.alertId, sent.id);
  }

  /**
   * A send that failed for good through a channel with a `fallback`: the same notification goes
   * there at once, rather than waiting for the alert's next step. Planned before the failure is
   * recorded, so a crash in between leaves it to the sweep; planned once however often this runs.
   */
  private async fallBack(payload: NotifyPayload): Promise<void> {
    const fallback = this.fallbackOf(payload.channel);
    if (fallback === undefined) return;
    const planned = await this.store.planFallback(payload.notificationId, fallback);
    if (planned === null) return; // the alert is closed: nobody needs paging
    const alert = await this.store.getAlert(planned.alertId);
    if (alert !== null) await this.enqueue(alert, [planned]);
  }

  /**
   * The fallback of the channel a target is reached through: its own, or for a person's contact
   * that of the channel reaching them (the bot, the mailer, the first `sms` or `voice` channel).
   */
  private fallbackOf(target: string): string | undefined {
    if (this.fallbacks.has(target)) return this.fallbacks.get(target);
    if (/^telegram:\d{1,20}$/.test(target)) return this.bot?.fallback;
    const method = parsePersonTarget(target)?.method;
    if (method === null || method === undefined) return undefined;
    return this.carrierOf(method)?.fallback;
  }

  /** The channel that reaches people by `method`: the first of its type. */
  private carrierOf(method: ContactMethod): ResolvedChannelConfig | undefined {
    switch (method) {
      case "telegram":
        return this.bot;
      case "email":
        return this.mailer;
      case "sms":
        return this.texter;
      case "voice":
        return this.caller;
    }
  }

  /**
   * Brings the Telegram copies of an alert in line with where it stands: once it is acknowledged
   * or closed (an approval alert: once its approval is settled), every message sent for it with
   * buttons loses them and says what happened and by whom, whichever path settled it. Queued and
   * run in order off the caller's path; reads the alert when its turn comes, so a later state wins.
   * Failures are logged and counted (`copies.failed`), never thrown. `onlyId`: one notification's copy.
   */
  settleCopies(alertId: string, onlyId?: number): void {
    if (this.closing) return;
    this.copyEdits = this.copyEdits.then(() =>
      this.editCopies(alertId, onlyId).catch((err: unknown) => {
        this.copies.failed++;
        this.logger.warn({ err, alertId }, "updating the Telegram copies of a settled alert failed");
      }),
    );
  }

  /** Resolves once the copy edits queued so far have run (tests, and close). */
  copiesSettled(): Promise<void> {
    return this.copyEdits;
  }

  private async editCopies(alertId: string, onlyId: number | undefined): Promise<void> {
    if (this.closed) return;
    const alert = await this.store.getAlert(alertId);
    if (alert === null) return;
    const approvalId = approvalIdOf(alert);
    // The Approve / Deny buttons follow the approval: while it is pending they stay, whatever the alert's status.
    const approval = approvalId === null ? null : await this.store.getApproval(approvalId);
    if (approvalId !== null && approval === null) return;
    const line = settledLine(alert, approval);
    if (line === null) return;
    for (const n of await this.store.listAlertNotifications(alertId)) {
      if (n.receipt === null || (onlyId !== undefined && n.id !== onlyId) || this.closed) continue;
      const text = settledText(notificationFor(alert, n, this.dashboardUrl, approval), line);
      const { chatId, messageId } = n.receipt;
      const channel = this.telegramFor(n.target);
      if (channel === undefined) {
        this.copies.failed++;
        this.logger.warn({ alertId, target: n.target, messageId }, "no Telegram bot reaches a settled copy any more");
        continue;
      }
      try {
        await channel.client.editMessageText(chatId, messageId, text, { parseMode: "HTML" });
        this.copies.edited++;
      } catch (err) {
        if (isMessageNotModified(err)) continue; // already says so: another pass or node was first
        this.copies.failed++;
        this.logger.warn(
          { err, alertId, target: n.target, chatId, messageId },
          "editing a settled alert's Telegram copy failed",
        );
      }
    }
  }

  /** The Telegram channel (or direct chat through the first Telegram bot) a notification went through. */
  private telegramFor(target: string): TelegramChannel | undefined {
    if (this.outboxFor(target) === undefined) return undefined;
    const channel = this.channels.get(target);
    return channel?.type === "telegram" ? (channel as TelegramChannel) : undefined;
  }

  private open(name: string, config: ResolvedChannelConfig): Outbox {
    const channel = createChannel(config, this.deps);
    const outbox = new Outbox(channel, new Bundler(config.limits));
    this.channels.set(name, channel);
    this.outboxes.set(name, outbox);
    return outbox;
  }

  /**
   * A configured channel; for `telegram:<user id>` a direct chat through the Telegram bot; for a
   * person's contact (`person:<name>:telegram|email|sms|voice`) the bot, the SMTP server, or the
   * first `sms` / `voice` channel, addressed to them. Undefined when nothing configured reaches the target.
   */
  private outboxFor(target: string): Outbox | undefined {
    const existing = this.outboxes.get(target);
    if (existing !== undefined) return existing;
    const userId = /^telegram:(\d{1,20})$/.exec(target)?.[1];
    if (userId !== undefined) {
      return this.bot === undefined ? undefined : this.open(target, { ...this.bot, name: target, chatId: userId });
    }
    const named = parsePersonTarget(target);
    const contacts = named === null ? undefined : this.people[named.person];
    if (named?.method === "telegram" && contacts?.telegram !== undefined && this.bot !== undefined) {
      return this.open(target, { ...this.bot, name: target, chatId: String(contacts.telegram) });
    }
    if (named?.method === "email" && contacts?.email !== undefined && this.mailer !== undefined) {
      return this.open(target, { ...this.mailer, name: target, to: [contacts.email] });
    }
    const phoneChannel = named?.method === "sms" ? this.texter : named?.method === "voice" ? this.caller : undefined;
    if (phoneChannel !== undefined && contacts?.phone !== undefined) {
      return this.open(target, { ...phoneChannel, name: target, to: contacts.phone });
    }
    return undefined;
  }

  async close(): Promise<void> {
    // Queued copy edits get a few seconds; the rest are dropped (the one under way finishes, within
    // its request timeout): a copy left with its buttons answers a press "Already settled".
    this.closing = true;
    let timer: NodeJS.Timeout | undefined;
    const drained = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, COPY_DRAIN_MS);
    });
    await Promise.race([this.copyEdits, drained]);
    clearTimeout(timer);
    this.closed = true;
    await this.copyEdits;
    for (const outbox of this.outboxes.values()) outbox.stop();
    for (const channel of this.channels.values()) {
      try {
        await channel.close?.();
      } catch (err) {
        this.logger.warn({ err, channel: channel.name }, "closing a notification channel failed");
      }
    }
  }
}

/**
 * One channel's rate limit and bundling, in the sending process: `deliver` settles once a
 * message holding the notification went out (alone, or in a bundle when the window closes),
 * or rejects with that message's failure so the job retries.
 */
class Outbox {
  private readonly waiters = new Map<
    string,
    Array<{ resolve(receipt: NotificationReceipt | undefined): void; reject(err: unknown): void }>
  >();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly channel: Channel,
    private readonly bundler: Bundler,
  ) {}

  /** Resolves with the sent message's receipt (a Telegram message with buttons), else undefined. */
  deliver(n: Notification): Promise<NotificationReceipt | undefined> {
    const settled = new Promise<NotificationReceipt | undefined>((resolve, reject) => {
      const list = this.waiters.get(n.id) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(n.id, list);
    });
    void this.sendAll(this.bundler.offer(n, Date.now()));
    return settled;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const list of this.waiters.values()) {
      for (const w of list)
        w.reject(new ChannelDeliveryError("stopped before sending", { retryable: true, code: "STOPPED" }));
    }
    this.waiters.clear();
  }

  private async sendAll(messages: Notification[]): Promise<void> {
    for (const m of messages) {
      const ids = m.bundle?.ids ?? [m.id];
      let failure: unknown = null;
      let receipt: NotificationReceipt | undefined;
      try {
        receipt = await this.channel.send(m);
      } catch (err) {
        failure = err;
      }
      // A bundle has no buttons, so no receipt; a message sent as itself is every waiter's copy.
      const copy = m.bundle === undefined ? receipt : undefined;
      for (const id of ids) {
        const list = this.waiters.get(id) ?? [];
        this.waiters.delete(id);
        for (const w of list) failure === null ? w.resolve(copy) : w.reject(failure);
      }
    }
    this.arm();
  }

  /** Wakes when the bundling window closes, to send what it held. */
  private arm(): void {
    const at = this.bundler.nextWakeAt();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (at === null) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        void this.sendAll(this.bundler.tick(Date.now()));
      },
      Math.max(0, at - Date.now()),
    );
    this.timer.unref();
  }
}
