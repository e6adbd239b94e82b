/**
 * A fake Telegram Bot API on loopback (port 0) for tests: enough of `sendMessage`,
 * `getUpdates` (long polling with offsets), `answerCallbackQuery`, `editMessageReplyMarkup`
 * and `editMessageText` to drive the Telegram channel as the real API would. It records
 * every call, keeps each message as it stands after edits (`current`), refuses edits as
 * Telegram does (a message it does not have; an edit that changes nothing: "message is not
 * modified"), reads `parse_mode: "HTML"` as Telegram does (unknown or unbalanced tags, bare `<`
 * or `&`, and text over 4,096 characters once parsed are refused), lets a test press a button
 * (a `callback_query` update served to the next getUpdates) or write in the chat, and can be
 * told to fail the next call of a method or to forget a message.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeInlineButton {
  text: string;
  callback_data?: string;
  url?: string;
}

export interface SentMessage {
  messageId: number;
  chatId: string | number;
  /** As sent: with its markup in HTML mode (`visibleText` gives what a person sees). */
  text: string;
  parseMode?: string;
  /** The message it replies to. */
  replyTo?: number;
  /** The inline keyboard as sent (rows of buttons); empty when none. */
  keyboard: FakeInlineButton[][];
}

export interface FakeCall {
  method: string;
  params: Record<string, any>;
}

export interface FakeTelegram {
  /** Pass as the client's apiBaseUrl. */
  readonly url: string;
  readonly token: string;
  /** Every call, in order. */
  readonly calls: FakeCall[];
  readonly sent: SentMessage[];
  readonly answers: Array<{ callbackQueryId: string; text?: string; showAlert?: boolean }>;
  /** Applied editMessageReplyMarkup calls (refused ones are only in `calls`). */
  readonly markupEdits: Array<{ chatId: string | number; messageId: number; keyboard: FakeInlineButton[][] }>;
  /** Applied editMessageText calls (refused ones are only in `calls`). */
  readonly textEdits: Array<{
    chatId: string | number;
    messageId: number;
    text: string;
    keyboard: FakeInlineButton[][];
  }>;
  /** A sent message as it stands now, after every applied edit; undefined if never sent or forgotten. */
  current(messageId: number): SentMessage | undefined;
  /** Telegram no longer has this message (deleted, or too old to edit): edits of it are refused. */
  forget(messageId: number): void;
  /** Queues a button press by `fromId` on a sent message; returns the callback query id. */
  press(options: { fromId: number; data: string; messageId?: number; username?: string }): string;
  /** Queues any raw update (a text message, say); the update_id is filled in. */
  queueUpdate(update: Record<string, unknown>): number;
  /**
   * Queues a chat message by `fromId` (in the chat of the message it replies to, or `chatId`);
   * a reply carries the replied-to message with its buttons, as Telegram's updates do. Returns its message id.
   */
  say(options: { fromId: number; text: string; replyTo?: number; chatId?: string | number; username?: string }): number;
  /** The next call of `method` answers with this error instead of working. */
  failNext(method: string, errorCode: number, description: string, retryAfter?: number): void;
  /** Number of getUpdates calls so far, and the offsets they asked from. */
  readonly pollOffsets: number[];
  close(): Promise<void>;
}

export async function startFakeTelegram(
  options: { token?: string; maxPollSeconds?: number } = {},
): Promise<FakeTelegram> {
  const token = options.token ?? "123456:TEST-token";
  const maxPollMs = (options.maxPollSeconds ?? 2) * 1000;
  const calls: FakeCall[] = [];
  const sent: SentMessage[] = [];
  const answers: FakeTelegram["answers"] = [];
  const markupEdits: FakeTelegram["markupEdits"] = [];
  const textEdits: FakeTelegram["textEdits"] = [];
  /** Messages as they stand now, by id (ids are unique across chats here). */
  const messages = new Map<number, SentMessage>();
  const pollOffsets: number[] = [];
  const updates: Array<Record<string, unknown> & { update_id: number }> = [];
  const failures = new Map<string, { errorCode: number; description: string; retryAfter?: number }>();
  const waiters = new Set<() => void>();
  let nextUpdateId = 1_000;
  let nextMessageId = 1;
  let nextQueryId = 1;
  let closed = false;

  const wake = () => {
    for (const w of [...waiters]) w();
  };

  const reply = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };

  const handle = async (method: string, params: Record<string, any>, res: ServerResponse) => {
    calls.push({ method, params });
    const failure = failures.get(method);
    if (failure) {
      failures.delete(method);
      reply(res, failure.errorCode, {
        ok: false,
        error_code: failure.errorCode,
        description: failure.description,
        ...(failure.retryAfter === undefined ? {} : { parameters: { retry_after: failure.retryAfter } }),
      });
      return;
    }
    switch (method) {
      case "sendMessage": {
        if (params.chat_id === undefined || typeof params.text !== "string" || params.text === "") {
          reply(res, 400, { ok: false, error_code: 400, description: "Bad Request: message text is empty" });
          return;
        }
        const keyboard: FakeInlineButton[][] = params.reply_markup?.inline_keyboard ?? [];
        for (const button of keyboard.flat()) {
          if (button.callback_data !== undefined && Buffer.byteLength(button.callback_data) > 64) {
            reply(res, 400, { ok: false, error_code: 400, description: "Bad Request: BUTTON_DATA_INVALID" });
            return;
          }
        }
        const refusal = textRefusal(params);
        if (refusal !== null) {
          reply(res, 400, { ok: false, error_code: 400, description: refusal });
          return;
        }
        const message: SentMessage = {
          messageId: nextMessageId++,
          chatId: params.chat_id,
          text: params.text,
          ...(params.parse_mode === undefined ? {} : { parseMode: params.parse_mode }),
          ...(params.reply_parameters?.message_id === undefined ? {} : { replyTo: params.reply_parameters.message_id }),
          keyboard,
        };
        sent.push(message);
        messages.set(message.messageId, { ...message });
        reply(res, 200, {
          ok: true,
          result: { message_id: message.messageId, chat: { id: params.chat_id }, date: 0, text: params.text },
        });
        return;
      }
      case "getMe":
        reply(res, 200, { ok: true, result: BOT });
        return;
      case "answerCallbackQuery":
        answers.push({ callbackQueryId: params.callback_query_id, text: params.text, showAlert: params.show_alert });
        reply(res, 200, { ok: true, result: true });
        return;
      case "editMessageReplyMarkup":
      case "editMessageText": {
        const message = messages.get(Number(params.message_id));
        if (message === undefined || String(message.chatId) !== String(params.chat_id)) {
          reply(res, 400, { ok: false, error_code: 400, description: "Bad Request: message to edit not found" });
          return;
        }
        const keyboard: FakeInlineButton[][] = params.reply_markup?.inline_keyboard ?? [];
        const text = method === "editMessageText" ? params.text : message.text;
        if (typeof text !== "string" || text === "") {
          reply(res, 400, { ok: false, error_code: 400, description: "Bad Request: message text is empty" });
          return;
        }
        const refusal = method === "editMessageText" ? textRefusal(params) : null;
        if (refusal !== null) {
          reply(res, 400, { ok: false, error_code: 400, description: refusal });
          return;
        }
        if (text === message.text && JSON.stringify(keyboard) === JSON.stringify(message.keyboard)) {
          reply(res, 400, {
            ok: false,
            error_code: 400,
            description:
              "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
          });
          return;
        }
        message.text = text;
        message.keyboard = keyboard;
        if (method === "editMessageText") {
          if (params.parse_mode === undefined) delete message.parseMode;
          else message.parseMode = params.parse_mode;
        }
        if (method === "editMessageText") {
          textEdits.push({ chatId: params.chat_id, messageId: message.messageId, text, keyboard });
        } else {
          markupEdits.push({ chatId: params.chat_id, messageId: message.messageId, keyboard });
        }
        reply(res, 200, {
          ok: true,
          result: { message_id: message.messageId, chat: { id: message.chatId }, date: 0, text },
        });
        return;
      }
      case "getUpdates": {
        const offset = Number(params.offset ?? 0);
        pollOffsets.push(offset);
        // Confirmed updates (id below offset) are forgotten, as Telegram does.
        while (updates.length > 0 && updates[0]!.update_id < offset) updates.shift();
        const limit = Math.min(Number(params.limit ?? 100), 100);
        const deadline = Date.now() + Math.min(Number(params.timeout ?? 0) * 1000, maxPollMs);
        while (updates.length === 0 && !closed && Date.now() < deadline) {
          await new Promise<void>((resolve) => {
            const done = () => {
              waiters.delete(done);
              clearTimeout(timer);
              resolve();
            };
            const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
            waiters.add(done);
          });
        }
        reply(res, 200, { ok: true, result: updates.slice(0, limit) });
        return;
      }
      default:
        reply(res, 404, { ok: false, error_code: 404, description: "Not Found: method not found" });
    }
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(req.url?.split("?")[0] ?? "");
      if (!match || match[1] !== token) {
        reply(res, 401, { ok: false, error_code: 401, description: "Unauthorized" });
        return;
      }
      let params: Record<string, any> = {};
      try {
        const text = Buffer.concat(chunks).toString("utf8");
        params = text === "" ? {} : JSON.parse(text);
      } catch (err) {
        reply(res, 400, { ok: false, error_code: 400, description: `Bad Request: ${(err as Error).message}` });
        return;
      }
      handle(match[2]!, params, res).catch((err: unknown) => {
        reply(res, 500, { ok: false, error_code: 500, description: String(err) });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  const queueUpdate = (update: Record<string, unknown>): number => {
    const id = nextUpdateId++;
    updates.push({ ...update, update_id: id });
    wake();
    return id;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    calls,
    sent,
    answers,
    markupEdits,
    textEdits,
    pollOffsets,
    current(messageId) {
      const message = messages.get(messageId);
      return message === undefined ? undefined : { ...message, keyboard: message.keyboard.map((row) => [...row]) };
    },
    forget(messageId) {
      messages.delete(messageId);
    },
    press({ fromId, data, messageId, username }) {
      const message = messageId === undefined ? sent.at(-1) : sent.find((m) => m.messageId === messageId);
      const id = `cbq-${nextQueryId++}`;
      queueUpdate({
        callback_query: {
          id,
          from: { id: fromId, is_bot: false, first_name: `user${fromId}`, ...(username ? { username } : {}) },
          chat_instance: "fake",
          data,
          ...(message
            ? { message: { message_id: message.messageId, chat: { id: message.chatId }, date: 0, text: message.text } }
            : {}),
        },
      });
      return id;
    },
    queueUpdate,
    say({ fromId, text, replyTo, chatId, username }) {
      const replied = replyTo === undefined ? undefined : messages.get(replyTo);
      const messageId = nextMessageId++;
      queueUpdate({
        message: {
          message_id: messageId,
          from: { id: fromId, is_bot: false, first_name: `user${fromId}`, ...(username ? { username } : {}) },
          chat: { id: chatId ?? replied?.chatId ?? "-1" },
          date: 0,
          text,
          ...(replied
            ? {
                reply_to_message: {
                  message_id: replied.messageId,
                  from: BOT,
                  chat: { id: replied.chatId },
                  date: 0,
                  text: visibleText(replied),
                  ...(replied.keyboard.length === 0 ? {} : { reply_markup: { inline_keyboard: replied.keyboard } }),
                },
              }
            : {}),
        },
      });
      return messageId;
    },
    failNext(method, errorCode, description, retryAfter) {
      failures.set(method, { errorCode, description, ...(retryAfter === undefined ? {} : { retryAfter }) });
    },
    async close() {
      closed = true;
      wake();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

/** The bot the fake speaks as (getMe); every message it keeps was sent by it. */
export const BOT = { id: 999_000, is_bot: true, first_name: "Overseer", username: "OverseerTestBot" } as const;

/** Telegram's length limit, counted on the text a person sees (after parsing HTML). */
const MAX_TEXT = 4096;
/** The tags Telegram's HTML mode accepts (https://core.telegram.org/bots/api#html-style). */
const HTML_TAGS = new Set([
  "b",
  "strong",
  "i",
  "em",
  "u",
  "ins",
  "s",
  "strike",
  "del",
  "span",
  "tg-spoiler",
  "a",
  "code",
  "pre",
  "blockquote",
  "tg-emoji",
]);
const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"' };

/** Why Telegram would refuse this text, or null. */
function textRefusal(params: Record<string, any>): string | null {
  if (params.parse_mode !== undefined && params.parse_mode !== "HTML") {
    return `Bad Request: unsupported parse_mode ${params.parse_mode} in this fake`;
  }
  let text: string;
  try {
    text = params.parse_mode === "HTML" ? parseHtml(params.text) : params.text;
  } catch (err) {
    return `Bad Request: can't parse entities: ${(err as Error).message}`;
  }
  return text.length > MAX_TEXT ? "Bad Request: message is too long" : null;
}

/** The text a person sees of a message as it stands. */
export function visibleText(message: Pick<SentMessage, "text" | "parseMode">): string {
  return message.parseMode === "HTML" ? parseHtml(message.text) : message.text;
}

/** HTML-mode text as Telegram reads it: known tags, balanced; `&` only in entities; no bare `<`. */
function parseHtml(html: string): string {
  const open: string[] = [];
  let out = "";
  const token = /<(\/?)([a-z-]+)((?:\s+[a-z-]+="[^"<>]*")*)\s*>|&(#\d+|[a-z]+);|[<>&]/gy;
  let at = 0;
  while (at < html.length) {
    const next = html.slice(at).search(/[<>&]/);
    if (next === -1) {
      out += html.slice(at);
      break;
    }
    out += html.slice(at, at + next);
    at += next;
    token.lastIndex = at;
    const m = token.exec(html);
    if (m === null || (m[2] === undefined && m[4] === undefined)) {
      throw new Error(`unexpected "${html[at]}" at byte offset ${at}`);
    }
    at = token.lastIndex;
    if (m[4] !== undefined) {
      const entity = m[4].startsWith("#") ? String.fromCodePoint(Number(m[4].slice(1))) : ENTITIES[m[4]];
      if (entity === undefined) throw new Error(`unknown entity &${m[4]};`);
      out += entity;
      continue;
    }
    const name = m[2] as string;
    if (!HTML_TAGS.has(name)) throw new Error(`unsupported start tag "${name}"`);
    if (m[1] === "/") {
      if (open.pop() !== name) throw new Error(`can't find end tag corresponding to start tag "${name}"`);
    } else {
      open.push(name);
    }
  }
  if (open.length > 0) throw new Error(`can't find end tag corresponding to start tag "${open.at(-1)}"`);
  return out;
}
