/**
 * Telegram channel over the plain Bot API (HTTPS + JSON through `fetch`; no library). Alerts
 * and approval requests go out as HTML (telegram-format.ts: what a request asks shown as code
 * blocks and lists) with inline buttons whose callback_data is `approve:<id>`, `deny:<id>` or
 * `ack:<id>` (Telegram caps it at 64 bytes). Presses, and replies such as `approve <id> [reason]`,
 * come back through a long-polling `getUpdates` loop that checks the sender against the
 * configured approvers: anyone else is answered "not allowed" and reported to a hook (the audit
 * trail is written there). The bot token is part of every URL, so no URL ever goes into an
 * error or a log.
 */

import type { Logger } from "../../core/logger.js";
import { clip } from "../../core/text.js";
import {
  type Channel,
  ChannelDeliveryError,
  isRetryableStatus,
  type Notification,
  type NotificationAction,
} from "./channel.js";
import { MAX_MESSAGE_LENGTH, telegramHtml } from "./telegram-format.js";
import type { FetchLike } from "./webhook.js";

export { MAX_MESSAGE_LENGTH };
export const DEFAULT_TELEGRAM_API = "https://api.telegram.org";
/** Telegram's limit on callback_data. */
export const MAX_CALLBACK_DATA_BYTES = 64;

/**
 * How a message's text is read: plain (cut to Telegram's limit here) or Telegram's HTML, which
 * its maker keeps within the limit (a cut could break the markup).
 */
export interface TextOptions {
  buttons?: InlineButton[] | InlineButton[][];
  parseMode?: "HTML";
  /** The message this one answers (a reply to an approver's `approve <id>`). */
  replyTo?: number;
}

export interface InlineButton {
  text: string;
  callbackData: string;
}

export interface TelegramClientOptions {
  botToken: string;
  /** `https://api.telegram.org` unless a test (or a local Bot API server) says otherwise. */
  apiBaseUrl?: string;
  fetch?: FetchLike;
  /** For every call but getUpdates, whose bound is its poll timeout plus this. */
  timeoutMs?: number;
}

export interface TelegramUser {
  id: number;
  username?: string;
  first_name?: string;
}

export interface CallbackQuery {
  id: string;
  from: TelegramUser;
  data?: string;
  message?: { message_id: number; chat: { id: number | string } };
}

/** A chat message, as far as Overseer reads one: an approver's `approve <id> [reason]`, say. */
export interface ChatMessage {
  message_id: number;
  chat: { id: number | string };
  from?: TelegramUser;
  text?: string;
  /** The message it replies to; its buttons (if this bot sent it) name the request a bare `approve` is about. */
  reply_to_message?: {
    message_id: number;
    from?: TelegramUser;
    reply_markup?: { inline_keyboard?: Array<Array<{ callback_data?: string }>> };
  };
}

export interface Update {
  update_id: number;
  callback_query?: CallbackQuery;
  message?: ChatMessage;
}

export interface SentTelegramMessage {
  message_id: number;
  chat: { id: number | string };
}

/** A thin, typed Bot API client: one method per call Overseer makes. */
export class TelegramClient {
  readonly #token: string;
  readonly #base: string;
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number;

  constructor(options: TelegramClientOptions) {
    this.#token = options.botToken;
    this.#base = (options.apiBaseUrl ?? DEFAULT_TELEGRAM_API).replace(/\/+$/, "");
    this.#fetch = options.fetch ?? fetch;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  async sendMessage(chatId: string | number, text: string, options: TextOptions = {}): Promise<SentTelegramMessage> {
    const params: Record<string, unknown> = {
      chat_id: chatId,
      ...textParams(text, options),
      link_preview_options: { is_disabled: true },
    };
    const keyboard = toKeyboard(options.buttons);
    if (keyboard.length > 0) params.reply_markup = { inline_keyboard: keyboard };
    if (options.replyTo !== undefined) {
      params.reply_parameters = { message_id: options.replyTo, allow_sending_without_reply: true };
    }
    return this.call<SentTelegramMessage>("sendMessage", params);
  }

  /** Stops the button's spinner; `text` shows as a toast (or an alert box with showAlert). */
  answerCallbackQuery(callbackQueryId: string, options: { text?: string; showAlert?: boolean } = {}): Promise<boolean> {
    const params: Record<string, unknown> = { callback_query_id: callbackQueryId };
    if (options.text !== undefined) params.text = options.text;
    if (options.showAlert) params.show_alert = true;
    return this.call<boolean>("answerCallbackQuery", params);
  }

  /** Replaces a message's buttons; with none, removes them (once a request is settled). */
  async editMessageReplyMarkup(
    chatId: string | number,
    messageId: number,
    buttons?: InlineButton[] | InlineButton[][],
  ): Promise<unknown> {
    return this.call("editMessageReplyMarkup", {
      chat_id: chatId,
      message_id: messageId,
      reply_markup: { inline_keyboard: toKeyboard(buttons) },
    });
  }

  /**
   * Replaces a message's text and buttons (none: removed), as a settled request's copies get.
   * Telegram refuses an edit that changes nothing ("message is not modified", see
   * `isMessageNotModified`) and one of a message it no longer has (400).
   */
  async editMessageText(
    chatId: string | number,
    messageId: number,
    text: string,
    options: Omit<TextOptions, "replyTo"> = {},
  ): Promise<unknown> {
    return this.call("editMessageText", {
      chat_id: chatId,
      message_id: messageId,
      ...textParams(text, options),
      link_preview_options: { is_disabled: true },
      reply_markup: { inline_keyboard: toKeyboard(options.buttons) },
    });
  }

  /** The bot itself: its user id and username. */
  getMe(): Promise<TelegramUser> {
    return this.call<TelegramUser>("getMe", {});
  }

  getUpdates(
    options: { offset?: number; timeoutSeconds?: number; limit?: number; signal?: AbortSignal } = {},
  ): Promise<Update[]> {
    const timeoutSeconds = options.timeoutSeconds ?? 0;
    return this.call<Update[]>(
      "getUpdates",
      {
        offset: options.offset,
        timeout: timeoutSeconds,
        limit: options.limit ?? 100,
        allowed_updates: ["callback_query", "message"],
      },
      { timeoutMs: timeoutSeconds * 1000 + this.#timeoutMs, signal: options.signal },
    );
  }

  /** One Bot API call. Errors are ChannelDeliveryErrors that never contain the token. */
  async call<T>(
    method: string,
    params: Record<string, unknown>,
    options: { timeoutMs?: number; signal?: AbortSignal | undefined } = {},
  ): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    let response: Response;
    try {
      response = await this.#fetch(`${this.#base}/bot${this.#token}/${method}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(params),
        signal,
      });
    } catch (err) {
      if (options.signal?.aborted) throw err; // stopped by the caller: not a delivery failure
      const timedOut = timeout.aborted;
      throw new ChannelDeliveryError(
        timedOut
          ? `telegram ${method}: no response within ${timeoutMs} ms`
          : `telegram ${method}: ${this.#redact(describeCause(err))}`,
        { retryable: true, code: timedOut ? "TIMEOUT" : "NETWORK_ERROR", cause: err },
      );
    }
    let body: { ok?: boolean; result?: T; description?: string; error_code?: number; parameters?: any };
    try {
      body = (await response.json()) as typeof body;
    } catch (err) {
      throw new ChannelDeliveryError(`telegram ${method}: HTTP ${response.status} with a body that is not JSON`, {
        retryable: isRetryableStatus(response.status) || response.ok,
        code: `HTTP_${response.status}`,
        status: response.status,
        cause: err,
      });
    }
    if (response.ok && body.ok === true) return body.result as T;
    const status = body.error_code ?? response.status;
    const retryAfter = body.parameters?.retry_after;
    throw new ChannelDeliveryError(`telegram ${method}: ${status} ${this.#redact(body.description ?? "failed")}`, {
      retryable: isRetryableStatus(status),
      code: `TELEGRAM_${status}`,
      status,
      ...(typeof retryAfter === "number" ? { retryAfterMs: retryAfter * 1000 } : {}),
    });
  }

  #redact(text: string): string {
    return this.#token === "" ? text : text.split(this.#token).join("<token>");
  }
}

/**
 * Telegram's answer to an edit that would leave the message as it is: what the edit wanted is
 * already there (another node or the press handler got there first), so it is not a failure.
 */
export function isMessageNotModified(err: unknown): boolean {
  return err instanceof ChannelDeliveryError && err.status === 400 && /message is not modified/i.test(err.message);
}

function textParams(text: string, options: Pick<TextOptions, "parseMode">): Record<string, string> {
  return options.parseMode === undefined
    ? { text: clip(text, MAX_MESSAGE_LENGTH) }
    : { text, parse_mode: options.parseMode };
}

function toKeyboard(buttons: InlineButton[] | InlineButton[][] | undefined): Array<Array<Record<string, string>>> {
  if (!buttons || buttons.length === 0) return [];
  const rows = (Array.isArray(buttons[0]) ? buttons : [buttons]) as InlineButton[][];
  return rows.map((row) =>
    row.map((b) => {
      if (Buffer.byteLength(b.callbackData, "utf8") > MAX_CALLBACK_DATA_BYTES) {
        throw new ChannelDeliveryError(
          `telegram: callback_data ${JSON.stringify(b.callbackData)} is longer than ${MAX_CALLBACK_DATA_BYTES} bytes`,
          { retryable: false, code: "CALLBACK_DATA_TOO_LONG" },
        );
      }
      return { text: b.text, callback_data: b.callbackData };
    }),
  );
}

function describeCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
}

const BUTTON_LABELS: Record<NotificationAction, string> = {
  approve: "✅ Approve",
  deny: "❌ Deny",
  ack: "👀 Acknowledge",
};

/** `approve:<id>`; throws (not retryable) if it would not fit Telegram's 64 bytes. */
export function callbackData(action: NotificationAction, id: string): string {
  const data = `${action}:${id}`;
  if (Buffer.byteLength(data, "utf8") > MAX_CALLBACK_DATA_BYTES) {
    throw new ChannelDeliveryError(`telegram: callback_data for ${action} on ${id} is longer than 64 bytes`, {
      retryable: false,
      code: "CALLBACK_DATA_TOO_LONG",
    });
  }
  return data;
}

/** Reads `approve:<id>` back; null for anything else (an old or forged button). */
export function parseCallbackData(data: string | undefined): { action: NotificationAction; id: string } | null {
  if (data === undefined) return null;
  const match = /^(approve|deny|ack):([A-Za-z0-9._:-]{1,56})$/.exec(data);
  return match ? { action: match[1] as NotificationAction, id: match[2] as string } : null;
}

/** The buttons a notification asks for, in one row. */
export function actionButtons(n: Notification): InlineButton[] {
  return (n.actions ?? []).map((action) => ({
    text: BUTTON_LABELS[action],
    callbackData: callbackData(action, actionTargetOf(n, action)),
  }));
}

/**
 * What a button acts on: the approval for Approve / Deny, the alert for Acknowledge (never the
 * notification, which only says when and to whom it went). A notification queued by an earlier
 * version carries neither id, and its `id` was the approval's or the alert's.
 */
function actionTargetOf(n: Notification, action: NotificationAction): string {
  return (action === "ack" ? n.alertId : n.approvalId) ?? n.id;
}

/** An approval id as a person would type it: a ULID, in either case. */
const TYPED_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/i;

/**
 * A chat message that decides a request: `approve <id> [reason]` or `deny <id> [reason]` (also as
 * the bot commands `/approve` and `/deny`, which reach a bot in a group whatever its privacy
 * setting; `/approve@BotName` only when it names this bot). In a reply to a request's message
 * this bot sent, the id may be left out: the message's buttons name the request (an id typed
 * anyway names the request it names). Null for anything else, such as "approve this PR".
 */
export function parseDecisionReply(
  message: Pick<ChatMessage, "text" | "reply_to_message">,
  bot: Pick<TelegramUser, "id" | "username">,
): { action: "approve" | "deny"; id: string; reason: string | null; fromButtons: boolean } | null {
  const match = /^\/?(approve|deny)(?:@([A-Za-z0-9_]+))?(?:\s+([\s\S]*))?$/i.exec(message.text?.trim() ?? "");
  if (!match) return null;
  if (match[2] !== undefined && match[2].toLowerCase() !== bot.username?.toLowerCase()) return null;
  const action = (match[1] as string).toLowerCase() as "approve" | "deny";
  const words = (match[3] ?? "").trim();
  const first = words.split(/\s+/, 1)[0] ?? "";
  const reasonOf = (text: string) => (text.trim() === "" ? null : text.trim());
  const replied = message.reply_to_message;
  const fromButtons =
    replied === undefined || replied.from?.id !== bot.id
      ? undefined
      : (replied.reply_markup?.inline_keyboard ?? [])
          .flat()
          .map((b) => parseCallbackData(b.callback_data))
          .find((p): p is NonNullable<typeof p> => p !== null && p.action !== "ack");
  if (TYPED_ID.test(first)) {
    const id = first.toUpperCase();
    return { action, id, reason: reasonOf(words.slice(first.length)), fromButtons: fromButtons?.id === id };
  }
  if (fromButtons === undefined) return null;
  return { action, id: fromButtons.id, reason: reasonOf(words), fromButtons: true };
}

function userOf(from: TelegramUser): ButtonPress["user"] {
  return { id: from.id, ...(from.username ? { username: from.username } : {}) };
}

/** Only listed user ids may press; an empty list allows no one (secure by default). */
export function isApprover(approvers: readonly number[], userId: number): boolean {
  return approvers.includes(userId);
}

export interface TelegramChannelOptions {
  client: TelegramClient;
  chatId: string | number;
  /** Called with the sent message id, so the wiring can remove buttons once settled. */
  onSent?: (n: Notification, message: SentTelegramMessage) => void;
}

/** A Telegram channel keeps its client, so a poller for its buttons can share it. */
export interface TelegramChannel extends Channel {
  readonly type: "telegram";
  readonly client: TelegramClient;
  readonly chatId: string | number;
}

export function createTelegramChannel(name: string, options: TelegramChannelOptions): TelegramChannel {
  return {
    name,
    type: "telegram",
    client: options.client,
    chatId: options.chatId,
    async send(notification) {
      const buttons = actionButtons(notification);
      const message = await options.client.sendMessage(options.chatId, telegramHtml(notification), {
        buttons,
        parseMode: "HTML",
      });
      options.onSent?.(notification, message);
      // Where a message with buttons went, so it can lose them once settled (see settled-copies.ts).
      return buttons.length === 0 ? undefined : { chatId: message.chat.id, messageId: message.message_id };
    },
  };
}

/** A button press, as the poller hands it on. */
/** A button press, or a reply that decides (`approve <id> [reason]`), as the poller hands it on. */
export interface ButtonPress {
  /** `button`: an inline button; `reply`: a chat message naming the decision. */
  via: "button" | "reply";
  action: NotificationAction;
  /** The approval's or alert's id from the button, or named in the reply. */
  targetId: string;
  /** A reply's reason (the words after the id); null for a button. */
  reason: string | null;
  user: { id: number; username?: string };
  /** The message with the request's buttons (pressed, or replied to), so its buttons can be removed. */
  message?: { chatId: number | string; messageId: number };
}

export interface PressOutcome {
  /** Shown to the presser (a toast); "Done" when not given. */
  answer?: string;
  /** Removes the message's buttons: the request is settled. */
  removeButtons?: boolean;
}

export interface TelegramPollerOptions {
  client: TelegramClient;
  approvers: readonly number[];
  /**
   * The channel's chat: a decision typed with a request's id counts only there (a reply to a
   * request's message this bot sent counts wherever that message is); none without it.
   */
  chatId?: string | number;
  /** An allowed press; the decision goes through the same path as the dashboard's. */
  onPress(press: ButtonPress): Promise<PressOutcome | undefined> | PressOutcome | undefined;
  /** A press by someone not listed: already answered "not allowed"; audit it here. */
  onRefused?(press: ButtonPress): Promise<void> | void;
  logger?: Logger;
  /** Each failed poll or handler, for metrics and events (also logged). */
  onError?(err: unknown): void;
  /** Long-poll timeout in seconds (1-50; Telegram allows up to 50). */
  pollTimeoutSeconds?: number;
  /** The first update id to ask for (the last handled + 1), if the wiring keeps it. */
  initialOffset?: number;
  /** Backoff after a failed poll: doubles from this, up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export interface TelegramPoller {
  /** The next update id to ask for; everything below it was handled. */
  readonly offset: number;
  /** Stops polling (aborting the open long poll) and resolves once the loop has ended. */
  stop(): Promise<void>;
}

/** Long-polls getUpdates and dispatches button presses until stopped. */
export function startTelegramPoller(options: TelegramPollerOptions): TelegramPoller {
  const { client } = options;
  const controller = new AbortController();
  const pollTimeout = Math.min(50, Math.max(1, Math.floor(options.pollTimeoutSeconds ?? 25)));
  const baseBackoff = options.backoffMs ?? 1_000;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  let offset = options.initialOffset ?? 0;
  let backoff = baseBackoff;

  const report = (err: unknown, msg: string, context: object = {}) => {
    options.logger?.warn({ err, ...context }, msg);
    options.onError?.(err);
  };

  const handlePress = async (query: CallbackQuery) => {
    const parsed = parseCallbackData(query.data);
    const answer = (text: string, showAlert = false) =>
      client.answerCallbackQuery(query.id, { text, showAlert }).catch((err: unknown) => {
        report(err, "telegram: answering a button press failed", { callbackQueryId: query.id });
      });
    if (parsed === null) {
      options.logger?.warn({ data: query.data, userId: query.from.id }, "telegram: unknown button data");
      await answer("This button is no longer valid.");
      return;
    }
    await decide(
      {
        via: "button",
        action: parsed.action,
        targetId: parsed.id,
        reason: null,
        user: userOf(query.from),
        ...(query.message ? { message: { chatId: query.message.chat.id, messageId: query.message.message_id } } : {}),
      },
      answer,
    );
  };

  /** A chat message: a decision if it reads as one (see parseDecisionReply), else not Overseer's business. */
  let bot: TelegramUser | undefined;
  const handleMessage = async (message: ChatMessage) => {
    if (message.from === undefined || !/^\/?(approve|deny)\b/i.test(message.text?.trim() ?? "")) return;
    bot ??= await client.getMe();
    const parsed = parseDecisionReply(message, bot);
    if (parsed === null) return;
    // A typed id decides only in the channel's own chat, where its requests are posted.
    if (!parsed.fromButtons && String(message.chat.id) !== String(options.chatId)) return;
    const answer = async (text: string) => {
      await client
        .sendMessage(message.chat.id, text, { replyTo: message.message_id })
        .catch((err: unknown) => report(err, "telegram: answering a reply failed", { messageId: message.message_id }));
    };
    const replied = message.reply_to_message;
    await decide(
      {
        via: "reply",
        action: parsed.action,
        targetId: parsed.id,
        reason: parsed.reason,
        user: userOf(message.from),
        ...(replied && parsed.fromButtons
          ? { message: { chatId: message.chat.id, messageId: replied.message_id } }
          : {}),
      },
      answer,
    );
  };

  const decide = async (press: ButtonPress, answer: (text: string, showAlert?: boolean) => Promise<unknown>) => {
    if (!isApprover(options.approvers, press.user.id)) {
      await answer("Not allowed: you are not an approver here.", true);
      try {
        await options.onRefused?.(press);
      } catch (err) {
        report(err, "telegram: the refused-press hook failed", { userId: press.user.id, targetId: press.targetId });
      }
      return;
    }
    let outcome: PressOutcome | undefined;
    try {
      outcome = await options.onPress(press);
    } catch (err) {
      report(err, "telegram: handling a decision failed", { action: press.action, targetId: press.targetId });
      await answer(`Failed: ${(err as Error).message ?? String(err)}`.slice(0, 200), true);
      return;
    }
    await answer(outcome?.answer ?? "Done");
    if (outcome?.removeButtons && press.message) {
      await client.editMessageReplyMarkup(press.message.chatId, press.message.messageId).catch((err: unknown) => {
        // The settled text (settled-copies.ts) may have replaced the buttons already: nothing to do.
        if (isMessageNotModified(err)) return;
        report(err, "telegram: removing buttons failed", { messageId: press.message?.messageId });
      });
    }
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        controller.signal.removeEventListener("abort", done);
        resolve();
      }
      controller.signal.addEventListener("abort", done, { once: true });
    });

  const loop = async () => {
    while (!controller.signal.aborted) {
      let updates: Update[];
      try {
        updates = await client.getUpdates({ offset, timeoutSeconds: pollTimeout, signal: controller.signal });
        backoff = baseBackoff;
      } catch (err) {
        if (controller.signal.aborted) break;
        report(err, "telegram: getUpdates failed; backing off", { backoffMs: backoff });
        const retryAfter = err instanceof ChannelDeliveryError ? err.retryAfterMs : undefined;
        await sleep(Math.max(backoff, retryAfter ?? 0));
        backoff = Math.min(maxBackoff, backoff * 2);
        continue;
      }
      for (const update of updates) {
        // Updates left when stopped keep their place: the next poller gets them.
        if (controller.signal.aborted) break;
        // Moving the offset first: a press whose handler throws is not handed over twice.
        offset = Math.max(offset, update.update_id + 1);
        try {
          if (update.callback_query) await handlePress(update.callback_query);
          else if (update.message) await handleMessage(update.message);
        } catch (err) {
          report(err, "telegram: an update could not be handled", { updateId: update.update_id });
        }
      }
    }
  };
  const done = loop();

  return {
    get offset() {
      return offset;
    },
    async stop() {
      controller.abort();
      await done;
    },
  };
}
