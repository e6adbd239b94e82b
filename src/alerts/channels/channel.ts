/**
 * What every notification channel shares: the `Notification` it is handed (an alert, an
 * approval request, or a bundle of several) and the `Channel` interface. A channel only
 * delivers; deciding who is notified when (escalation), how often (rate limits and bundling,
 * see bundler.ts) and retrying (Overseer's own queue) all happen outside it. A failed `send`
 * always rejects with a `ChannelDeliveryError` that says whether trying again can help.
 */
import type { NotificationReceipt } from "../../core/alert.js";
import type { ExecutionMode } from "../../core/execution.js";
import { requestBlocks, requestText } from "./request-details.js";

/** The actions a person can take from a notification; each becomes a button where the channel has them. */
export const NOTIFICATION_ACTIONS = ["approve", "deny", "ack"] as const;
export type NotificationAction = (typeof NOTIFICATION_ACTIONS)[number];

export interface NotificationLink {
  label: string;
  url: string;
}

export interface Notification {
  /** `bundle` stands for several alerts and approvals sent as one message (see bundler.ts). */
  kind: "alert" | "approval" | "bundle";
  /**
   * This notification's id: one per alert, escalation step, round and target (`<alert id>-<n>`),
   * the same on every retry of its delivery, so a receiver drops duplicates by it and keeps each
   * escalation. For a bundle, a key derived from what it holds. Never contains a "." (the
   * Standard Webhooks signature joins id, timestamp and body with dots).
   */
  id: string;
  /** The alert it is about; absent on a bundle. */
  alertId?: string;
  /** The approval an approval request asks about. */
  approvalId?: string;
  /** The job the alert is about, when there is one (a dead job, the job waiting for an approval). */
  jobId?: string;
  /** One line: what a person reads first (the alert's summary, the approval's question). */
  title: string;
  /** More lines of plain text. */
  details?: string;
  /**
   * What an approval request asks: its `details` as the requester gave them (a command, a diff,
   * key/value pairs: see request-details.ts for how channels show them). Only on `approval`.
   */
  request?: {
    details: unknown;
    /** The asking job's execution mode: `dry-run` shows as DRY RUN (an approval runs nothing). Null for a run's request. */
    execution?: ExecutionMode | null;
    /** A test item, shown as TEST. */
    test?: boolean;
  };
  /** Pages of the dashboard about it: the alert's, the approval's, the job's. */
  links?: NotificationLink[];
  /** Buttons wanted: `approve`/`deny` for an approval, `ack` for an alert. Channels without buttons ignore them. */
  actions?: NotificationAction[];
  /** When this notification was due (its escalation step came), ISO-8601 UTC; the same on a retry. A bundle: when it was made. */
  at: string;
  /** When the alert was raised, ISO-8601 UTC; absent on a bundle. */
  raisedAt?: string;
  /** Only on a bundle: how many notifications it stands for and their ids. */
  bundle?: { total: number; ids: string[] };
}

export type ChannelType = "webhook" | "telegram" | "email" | "sms" | "voice" | "console";

export interface Channel {
  /** The channel's name in the config file (`ops-hook`). */
  readonly name: string;
  readonly type: ChannelType;
  /**
   * Delivers one message; rejects with a `ChannelDeliveryError`. Resolves with a receipt (where
   * the message went) when the message can be changed later: a Telegram message with buttons.
   */
  send(notification: Notification): Promise<NotificationReceipt | undefined>;
  /** Releases connections (SMTP pools); optional. */
  close?(): Promise<void>;
}

/**
 * A delivery that failed. `retryable` follows the usual convention (see core/retry-policy.ts):
 * `false` means the queue should dead-letter at once instead of retrying (a 4xx from a webhook,
 * a refused recipient), `true` that a later attempt may succeed (5xx, network, timeout, 429).
 */
export class ChannelDeliveryError extends Error {
  readonly retryable: boolean;
  readonly code: string;
  /** The HTTP status or SMTP reply code, when there was one. */
  readonly status: number | undefined;
  /** What the far side asked for (Retry-After, Telegram's retry_after), in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    options: { retryable: boolean; code: string; status?: number; retryAfterMs?: number; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.name = "ChannelDeliveryError";
    this.retryable = options.retryable;
    this.code = options.code;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** 5xx, 408 (request timeout) and 429 (too many requests) may pass later; other 4xx will not. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/**
 * The title with what a person must know before deciding in front: `[DRY RUN]` when approving
 * runs nothing (the job asked in dry-run mode), `[TEST]` for a test item.
 */
export function markedTitle(n: Pick<Notification, "title" | "request">): string {
  const marks = [...(n.request?.execution === "dry-run" ? ["[DRY RUN]"] : []), ...(n.request?.test ? ["[TEST]"] : [])];
  return marks.length === 0 ? n.title : `${marks.join(" ")} ${n.title}`;
}

/** The message as plain text lines: title, what the request asks, details, links. Shared by the text channels. */
export function renderText(n: Notification): string {
  const lines = [markedTitle(n)];
  const request = requestText(requestBlocks(n.request?.details));
  if (request !== "") lines.push("", request);
  if (n.details) lines.push("", n.details);
  if (n.links && n.links.length > 0) {
    lines.push("");
    for (const link of n.links) lines.push(`${link.label}: ${link.url}`);
  }
  return lines.join("\n");
}

/** An `sms` or `voice` channel without a number of its own (`to`): it reaches only people, through their phones. */
export function reachesOnlyPeople(channel: { type: string; to?: unknown }): boolean {
  return (channel.type === "sms" || channel.type === "voice") && channel.to === undefined;
}
