// A stand-in for Telegram's Bot API on loopback, so that the examples run without a bot: enough
// of getMe, sendMessage, getUpdates (long polling from an offset), answerCallbackQuery and the two
// edits for Overseer's Telegram channel; `press()` and `say()` play a person pressing a button
// and writing in the chat, and `refuseSends()` a bot Telegram no longer lets into the chat. A
// real bot needs none of this: leave `apiBaseUrl` out of the channel and give its token instead.
import { createServer } from "node:http";

export async function startFakeBotApi() {
  const token = "123456:FAKE-bot-token";
  const messages = [];
  const updates = [];
  const polls = new Set();
  let nextUpdateId = 1;
  let arrived = () => undefined;
  /** While set, every sendMessage is refused with it: `[status, description]`. */
  let refusal = null;
  const push = (update) => {
    updates.push({ update_id: nextUpdateId++, ...update });
    for (const poll of [...polls]) poll();
  };

  const methods = {
    getMe: () => ({ id: 777_000, is_bot: true, first_name: "Overseer", username: "OverseerExampleBot" }),
    sendMessage(params) {
      if (refusal !== null) return refusal;
      const message = {
        message_id: messages.length + 1,
        chat: { id: params.chat_id },
        text: params.text,
        buttons: (params.reply_markup?.inline_keyboard ?? []).flat(),
      };
      messages.push(message);
      arrived();
      return { message_id: message.message_id, chat: message.chat, date: 0, text: message.text };
    },
    answerCallbackQuery: () => true,
    editMessageReplyMarkup(params) {
      const message = messages[params.message_id - 1];
      if (message) message.buttons = (params.reply_markup?.inline_keyboard ?? []).flat();
      return true;
    },
    editMessageText(params) {
      const message = messages[params.message_id - 1];
      if (message) Object.assign(message, { text: params.text, buttons: params.reply_markup.inline_keyboard.flat() });
      return true;
    },
    // Answers at once with the updates from `offset` on, or holds the request until one comes.
    async getUpdates(params) {
      const offset = params.offset ?? 0;
      while (updates.length > 0 && updates[0].update_id < offset) updates.shift();
      if (updates.length === 0) {
        await new Promise((resolve) => {
          const timer = setTimeout(done, (params.timeout ?? 0) * 1000);
          function done() {
            clearTimeout(timer);
            polls.delete(done);
            resolve();
          }
          polls.add(done);
        });
      }
      return updates.slice(0, params.limit ?? 100);
    },
  };

  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", async () => {
      const [, sentToken, method] = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? "") ?? [];
      const answer = (status, json) =>
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
      const refused = (status, description) => answer(status, { ok: false, error_code: status, description });
      if (sentToken !== token) return refused(401, "Unauthorized");
      if (!methods[method]) return refused(404, "Not Found");
      const result = await methods[method](body === "" ? {} : JSON.parse(body));
      if (result === refusal && refusal !== null) return refused(...refusal);
      answer(200, { ok: true, result });
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));

  return {
    url: `http://127.0.0.1:${server.address().port}`,
    token,
    messages,
    /** The next message a bot sends (or the first one not yet taken). */
    async nextMessage(after = 0) {
      while (messages.length <= after) await new Promise((resolve) => (arrived = resolve));
      return messages[after];
    },
    /** The first message the bot sent that `matches`, once it has sent one. */
    async waitFor(matches) {
      for (;;) {
        const found = messages.find(matches);
        if (found) return found;
        await new Promise((resolve) => (arrived = resolve));
      }
    },
    /** A person (Telegram user `fromId`) presses the button of `message` for `action` (approve, deny, ack). */
    press(fromId, message, action) {
      const button = message.buttons.find((b) => b.callback_data?.startsWith(`${action}:`));
      push({
        callback_query: {
          id: `press-${nextUpdateId}`,
          from: { id: fromId, is_bot: false, first_name: `user ${fromId}` },
          data: button.callback_data,
          message: { message_id: message.message_id, chat: message.chat },
        },
      });
    },
    /** A person writes `text` in the chat (`approve <id> [reason]`, say). */
    say(fromId, chatId, text) {
      push({
        message: {
          message_id: 10_000 + nextUpdateId,
          date: 0,
          chat: { id: chatId, type: "supergroup" },
          from: { id: fromId, is_bot: false, first_name: `user ${fromId}` },
          text,
        },
      });
    },
    /** From now on, every message the bot sends is refused (`status`, `description`), as Telegram refuses a bot removed from the chat. */
    refuseSends(status, description) {
      refusal = [status, description];
    },
    async close() {
      for (const poll of [...polls]) poll();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
