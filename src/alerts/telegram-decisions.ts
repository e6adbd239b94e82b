/**
 * Decisions from Telegram: polls each configured Telegram channel's bot for button presses and
 * replies (`approve <id> [reason]`, `deny <id> [reason]`) and applies them through the same paths
 * as the dashboard: Approve / Deny decide the approval with `decideApproval` (channel `telegram`,
 * decider `telegram:<user id>`, a reply's reason as the decision's), Acknowledge acknowledges the
 * alert. Only the channel's `approvers` may decide; anyone else is answered "not allowed" and an
 * `approval.refused` or `alert.refused` event records who tried, and how.
 */
import type { ChannelConfig } from "../config/alert-channels.js";
import type { Approval, Decider, DecisionChannel } from "../core/approval.js";
import { isOverseerError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { NewEvent } from "../store/store.js";
import type { Channel } from "./channels/channel.js";
import type { ButtonPress, PressOutcome, TelegramChannel, TelegramPoller } from "./channels/telegram.js";
import { startTelegramPoller } from "./channels/telegram.js";

/** What deciding from Telegram needs of Overseer; the SDK's `Overseer` is one. */
export interface TelegramDecisionServices {
  readonly logger: Logger;
  /** The channels as configured: a Telegram channel's `approvers` may press. */
  readonly alerts: { readonly channels: readonly ChannelConfig[] };
  /** The channels that send, each Telegram one with the bot that polls; null without channels. */
  alertDelivery(): { readonly channels: ReadonlyMap<string, Channel> } | null;
  acknowledgeAlert(id: string, by: string): Promise<unknown>;
  decideApproval(
    id: string,
    decision: { decision: "approve" | "deny"; reason: string | null; channel: DecisionChannel },
    who: Decider,
  ): Promise<Approval>;
  deciderFor(name: string, mayOperate: boolean): Decider;
  appendEvents(events: readonly NewEvent[]): Promise<unknown>;
}

export interface TelegramDecisions {
  /** Stops every poller; resolves once their loops have ended. */
  stop(): Promise<void>;
}

export interface TelegramDecisionOptions {
  logger?: Logger;
  /** Long-poll timeout in seconds; default 25. */
  pollTimeoutSeconds?: number;
  /** Backoff after a failed poll; default 1 s. */
  backoffMs?: number;
}

/** Starts a poller per Telegram channel of the config; null when there is none. */
export function startTelegramDecisions(
  overseer: TelegramDecisionServices,
  options: TelegramDecisionOptions = {},
): TelegramDecisions | null {
  const delivery = overseer.alertDelivery();
  if (delivery === null) return null;
  const logger = options.logger ?? overseer.logger;
  const pollers: TelegramPoller[] = [];
  for (const config of overseer.alerts.channels) {
    if (config.type !== "telegram") continue;
    const channel = delivery.channels.get(config.name) as TelegramChannel | undefined;
    if (channel === undefined) continue;
    pollers.push(
      startTelegramPoller({
        client: channel.client,
        approvers: config.approvers,
        chatId: config.chatId,
        logger,
        ...(options.pollTimeoutSeconds === undefined ? {} : { pollTimeoutSeconds: options.pollTimeoutSeconds }),
        ...(options.backoffMs === undefined ? {} : { backoffMs: options.backoffMs }),
        onPress: (press) => applyPress(overseer, press),
        onRefused: (press) => refuse(overseer, config.name, press),
        onError: (err) => logger.warn({ err, channel: config.name }, "telegram decisions: a poll or press failed"),
      }),
    );
  }
  if (pollers.length === 0) return null;
  return {
    async stop() {
      await Promise.all(pollers.map((p) => p.stop()));
    },
  };
}

/** A listed approver's press: decided as `telegram:<id>`, the buttons removed once it is settled. */
export async function applyPress(overseer: TelegramDecisionServices, press: ButtonPress): Promise<PressOutcome> {
  const who = `telegram:${press.user.id}`;
  try {
    if (press.action === "ack") {
      await overseer.acknowledgeAlert(press.targetId, who);
      return { answer: "Acknowledged", removeButtons: true };
    }
    const approval = await overseer.decideApproval(
      press.targetId,
      { decision: press.action, channel: "telegram", reason: press.reason },
      overseer.deciderFor(who, true),
    );
    if (approval.state === "pending") return { answer: "Recorded; more approvals are needed" };
    return { answer: approval.state === "approved" ? "Approved" : "Denied", removeButtons: true };
  } catch (err) {
    if (!isOverseerError(err)) throw err;
    switch (err.code) {
      case "APPROVAL_SETTLED":
      case "ALERT_INVALID_TRANSITION":
        return { answer: "Already settled", removeButtons: true };
      case "APPROVAL_ALREADY_DECIDED":
        return { answer: "You have decided this already" };
      case "APPROVAL_FORBIDDEN":
        return { answer: `Not allowed: ${err.message}`.slice(0, 200) };
      case "APPROVAL_NOT_FOUND":
      case "ALERT_NOT_FOUND":
        return { answer: "Not found: it may have been removed", removeButtons: true };
      default:
        throw err;
    }
  }
}

async function refuse(overseer: TelegramDecisionServices, channel: string, press: ButtonPress): Promise<void> {
  const isAck = press.action === "ack";
  await overseer.appendEvents([
    {
      kind: isAck ? "alert.refused" : "approval.refused",
      data: {
        [isAck ? "alertId" : "approvalId"]: press.targetId,
        action: press.action,
        via: press.via,
        userId: press.user.id,
        username: press.user.username ?? null,
        channel,
        reason: "not a listed approver of this Telegram channel",
      },
    },
  ]);
}
