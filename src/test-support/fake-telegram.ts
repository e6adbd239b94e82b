/**
 * A fake Telegram Bot API on loopback (port 0) for tests: enough of `sendMessage`,
 * `getUpdates` (long polling with offsets), `answerCallbackQuery`, `editMessageReplyMarkup`
 * and `editMessageText` to drive the Telegram channel as the real API would. It records
 * every call, keeps each message as it stands after edits (`current`), refuses edits as
 * Telegram does (a message it does not have; an edit that changes nothing: "message is not
 * modified"), lets a test press a button (a `callback_query` update served to the next
 * getUpdates), and can be told to fail the next call of a method or to forget a message.
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
  text: string;
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
        const message = { messageId: nextMessageId++, chatId: params.chat_id, text: params.text, keyboard };
        sent.push(message);
        messages.set(message.messageId, { ...message });
        reply(res, 200, {
          ok: true,
          result: { message_id: message.messageId, chat: { id: params.chat_id }, date: 0, text: params.text },
        });
        return;
      }
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
