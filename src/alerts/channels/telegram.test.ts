import { afterEach, describe, expect, it } from "vitest";
import { type FakeTelegram, startFakeTelegram, visibleText } from "../../test-support/fake-telegram.js";
import { waitFor } from "../../test-support/wait.js";
import { ChannelDeliveryError, type Notification } from "./channel.js";
import {
  actionButtons,
  type ButtonPress,
  callbackData,
  createTelegramChannel,
  isApprover,
  parseCallbackData,
  parseDecisionReply,
  startTelegramPoller,
  TelegramClient,
  type TelegramPoller,
} from "./telegram.js";

const APPROVAL_ID = "01JD2W5Z0XQ4B7N8M9K1J2H3G4";
const approval: Notification = {
  kind: "approval",
  id: APPROVAL_ID,
  title: "Approve: deploy payments to production?",
  details: "Requested by agent-7 for run 01JRUN",
  request: { details: { command: ["gh", "pr", "merge", "42", "--squash"], repo: "acme/api" } },
  links: [{ label: "Dashboard", url: "http://127.0.0.1:7070/approvals/01JD2W5Z0XQ4B7N8M9K1J2H3G4" }],
  actions: ["approve", "deny"],
  at: "2026-11-21T12:00:00.000Z",
};

let fake: FakeTelegram;
const pollers: TelegramPoller[] = [];
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
  await fake?.close();
});

async function setup(): Promise<TelegramClient> {
  fake = await startFakeTelegram({ maxPollSeconds: 1 });
  return new TelegramClient({ botToken: fake.token, apiBaseUrl: fake.url, timeoutMs: 2_000 });
}

/** A poller for approver 12345 (in chat `chatId`) that records what it hands the handler and the refusal hook. */
function recordingPoller(client: TelegramClient, chatId?: number): { handled: ButtonPress[]; refused: ButtonPress[] } {
  const handled: ButtonPress[] = [];
  const refused: ButtonPress[] = [];
  pollers.push(
    startTelegramPoller({
      client,
      approvers: [12345],
      ...(chatId === undefined ? {} : { chatId }),
      pollTimeoutSeconds: 1,
      onPress: (p) => {
        handled.push(p);
        return undefined;
      },
      onRefused: (p) => {
        refused.push(p);
      },
    }),
  );
  return { handled, refused };
}

describe("callback data", () => {
  it("round-trips approve, deny and ack and fits in 64 bytes", () => {
    for (const action of ["approve", "deny", "ack"] as const) {
      const data = callbackData(action, APPROVAL_ID);
      expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
      expect(parseCallbackData(data)).toEqual({ action, id: APPROVAL_ID });
    }
  });

  it("refuses an id that would not fit, and parses nothing foreign", () => {
    expect(() => callbackData("approve", "x".repeat(60))).toThrow(ChannelDeliveryError);
    for (const bad of [undefined, "", "approve:", "delete:1", "approve:a b", `ack:${"x".repeat(57)}`, "approve"]) {
      expect(parseCallbackData(bad)).toBeNull();
    }
  });

  it("reads decisions in chat messages, and nothing else", () => {
    const id = APPROVAL_ID;
    const bot = { id: 999_000, username: "OverseerBot" };
    const buttons = { inline_keyboard: [[{ callback_data: `approve:${id}` }, { callback_data: `deny:${id}` }]] };
    const request = { message_id: 5, from: { id: bot.id }, reply_markup: buttons };
    const read = (text: string | undefined, reply_to_message?: typeof request | { message_id: number }) =>
      parseDecisionReply({ text, ...(reply_to_message ? { reply_to_message } : {}) }, bot);
    expect(read(`approve ${id}`)).toEqual({ action: "approve", id, reason: null, fromButtons: false });
    expect(read(`  Deny ${id.toLowerCase()}  too risky \n today `)).toEqual({
      action: "deny",
      id,
      reason: "too risky \n today",
      fromButtons: false,
    });
    expect(read(`/approve@overseerbot ${id} ok`)).toMatchObject({ action: "approve", id, reason: "ok" });
    // In reply to the request's message this bot sent: the id comes from its buttons, typed or not.
    expect(read("approve", request)).toEqual({ action: "approve", id, reason: null, fromButtons: true });
    expect(read("deny looks wrong", request)).toMatchObject({ id, reason: "looks wrong", fromButtons: true });
    expect(read(`deny ${id} looks wrong`, request)).toMatchObject({ id, reason: "looks wrong", fromButtons: true });
    // An id typed in a reply names its own request, not the replied-to one.
    const other = "01JD2W6J8Q0Z7T3M4B5C6D7E8F";
    expect(read(`approve ${other} checked`, request)).toEqual({
      action: "approve",
      id: other,
      reason: "checked",
      fromButtons: false,
    });
    for (const text of [
      undefined,
      "",
      "approve",
      "approved it",
      "approve this PR",
      "please approve 1",
      `ack ${id}`,
      `/approvex ${id}`,
      `/approve@OtherBot ${id}`,
    ]) {
      expect(read(text)).toBeNull();
    }
    // A reply needs the id unless it answers a request's message this bot sent (not another bot's copy).
    expect(read("approve", { message_id: 9 })).toBeNull();
    expect(read("approve", { ...request, from: { id: 123 } })).toBeNull();
  });

  it("isApprover allows listed ids only; an empty list allows no one", () => {
    expect(isApprover([1, 2], 2)).toBe(true);
    expect(isApprover([1, 2], 3)).toBe(false);
    expect(isApprover([], 1)).toBe(false);
  });
});

describe("TelegramClient against a fake Bot API on loopback", () => {
  it("sends an approval request with Approve / Deny buttons", async () => {
    const client = await setup();
    const sentIds: number[] = [];
    const channel = createTelegramChannel("ops-tg", {
      client,
      chatId: -100123,
      onSent: (_n, m) => sentIds.push(m.message_id),
    });
    await channel.send(approval);
    expect(fake.sent).toHaveLength(1);
    const message = fake.sent[0]!;
    expect(message.chatId).toBe(-100123);
    expect(message.parseMode).toBe("HTML");
    expect(message.text).toContain("<b>Approve: deploy payments to production?</b>");
    // The command being approved, as a code block, and what else the request says.
    expect(message.text).toContain('<pre><code class="language-shell">gh pr merge 42 --squash</code></pre>');
    expect(visibleText(message)).toContain("repo: acme/api");
    expect(message.text).toContain("Dashboard: http://127.0.0.1:7070/approvals/01JD2W5Z0XQ4B7N8M9K1J2H3G4");
    expect(message.keyboard).toEqual([
      [
        { text: "✅ Approve", callback_data: `approve:${APPROVAL_ID}` },
        { text: "❌ Deny", callback_data: `deny:${APPROVAL_ID}` },
      ],
    ]);
    expect(sentIds).toEqual([message.messageId]);
  });

  it("sends an alert with an Acknowledge button, and plain text without buttons", async () => {
    const client = await setup();
    await client.sendMessage("42", "hello");
    await client.sendMessage("42", "alert", {
      buttons: actionButtons({ kind: "alert", id: "A1", title: "t", actions: ["ack"], at: "" }),
    });
    expect(fake.sent[0]?.keyboard).toEqual([]);
    expect(fake.sent[1]?.keyboard).toEqual([[{ text: "👀 Acknowledge", callback_data: "ack:A1" }]]);
  });

  it("truncates text over Telegram's 4096 characters", async () => {
    const client = await setup();
    await client.sendMessage(1, "x".repeat(5000));
    expect(fake.sent[0]?.text).toHaveLength(4096);
  });

  it("answers callback queries and removes buttons", async () => {
    const client = await setup();
    const m = await client.sendMessage(1, "q", { buttons: [{ text: "ok", callbackData: "ack:1" }] });
    await client.answerCallbackQuery("cbq-9", { text: "Approved" });
    await client.editMessageReplyMarkup(1, m.message_id);
    expect(fake.answers).toEqual([{ callbackQueryId: "cbq-9", text: "Approved", showAlert: undefined }]);
    expect(fake.markupEdits).toEqual([{ chatId: 1, messageId: m.message_id, keyboard: [] }]);
  });

  it("classifies errors: 400 permanent, 429 retryable with retry_after, 5xx retryable; never shows the token", async () => {
    const client = await setup();
    fake.failNext("sendMessage", 400, "Bad Request: chat not found");
    const e400 = (await client.sendMessage(1, "x").catch((e: unknown) => e)) as ChannelDeliveryError;
    expect(e400).toMatchObject({ retryable: false, status: 400, code: "TELEGRAM_400" });
    expect(e400.message).toContain("chat not found");

    fake.failNext("sendMessage", 429, "Too Many Requests: retry after 3", 3);
    expect(await client.sendMessage(1, "x").catch((e: unknown) => e)).toMatchObject({
      retryable: true,
      retryAfterMs: 3_000,
    });

    fake.failNext("sendMessage", 502, `Bad Gateway for bot${fake.token}`);
    const e502 = (await client.sendMessage(1, "x").catch((e: unknown) => e)) as ChannelDeliveryError;
    expect(e502.retryable).toBe(true);
    expect(e502.message).not.toContain(fake.token);

    const wrong = new TelegramClient({ botToken: "999:wrong", apiBaseUrl: fake.url });
    expect(await wrong.sendMessage(1, "x").catch((e: unknown) => e)).toMatchObject({ retryable: false, status: 401 });
  });

  it("a Bot API that is down is a retryable network error", async () => {
    const client = await setup();
    await fake.close();
    const err = (await client.sendMessage(1, "x").catch((e: unknown) => e)) as ChannelDeliveryError;
    expect(err).toMatchObject({ retryable: true, code: "NETWORK_ERROR" });
    expect(err.message).not.toContain(fake.token);
  });

  it("refuses over-long callback_data before calling the API", async () => {
    const client = await setup();
    await expect(
      client.sendMessage(1, "x", { buttons: [{ text: "b", callbackData: "y".repeat(65) }] }),
    ).rejects.toMatchObject({ retryable: false, code: "CALLBACK_DATA_TOO_LONG" });
    expect(fake.sent).toHaveLength(0);
  });
});

describe("startTelegramPoller", () => {
  it("hands an approver's press to the handler, answers it and removes the buttons", async () => {
    const client = await setup();
    await createTelegramChannel("ops-tg", { client, chatId: 7 }).send(approval);
    const presses: ButtonPress[] = [];
    const poller = startTelegramPoller({
      client,
      approvers: [12345],
      pollTimeoutSeconds: 1,
      onPress: (press) => {
        presses.push(press);
        return { answer: "Approved", removeButtons: true };
      },
    });
    pollers.push(poller);
    const queryId = fake.press({ fromId: 12345, username: "alice", data: `approve:${APPROVAL_ID}` });
    await waitFor("the press to be handled", () => fake.markupEdits.length === 1, { timeoutMs: 5_000 });
    expect(presses).toEqual([
      {
        via: "button",
        action: "approve",
        targetId: APPROVAL_ID,
        reason: null,
        user: { id: 12345, username: "alice" },
        message: { chatId: 7, messageId: fake.sent[0]!.messageId },
      },
    ]);
    expect(fake.answers).toEqual([{ callbackQueryId: queryId, text: "Approved" }]);
    expect(fake.markupEdits[0]).toEqual({ chatId: 7, messageId: fake.sent[0]!.messageId, keyboard: [] });
  });

  it("answers someone not listed 'not allowed', tells the hook, and does not call the handler", async () => {
    const client = await setup();
    await createTelegramChannel("ops-tg", { client, chatId: 7 }).send(approval);
    const { handled, refused } = recordingPoller(client);
    const queryId = fake.press({ fromId: 666, data: `approve:${APPROVAL_ID}` });
    await waitFor("the refusal", () => refused.length === 1, { timeoutMs: 5_000 });
    expect(handled).toEqual([]);
    expect(refused[0]).toMatchObject({ action: "approve", targetId: APPROVAL_ID, user: { id: 666 } });
    expect(fake.answers).toEqual([
      { callbackQueryId: queryId, text: "Not allowed: you are not an approver here.", showAlert: true },
    ]);
    expect(fake.markupEdits).toEqual([]);
  });

  it("advances the offset so each press is handed over once, answers unknown data, and survives a failing handler", async () => {
    const client = await setup();
    const actions: string[] = [];
    const errors: unknown[] = [];
    const poller = startTelegramPoller({
      client,
      approvers: [1],
      pollTimeoutSeconds: 1,
      onPress: (p) => {
        actions.push(`${p.action}:${p.targetId}`);
        if (p.targetId === "boom") throw new Error("store unavailable");
        return { answer: "ok" };
      },
      onError: (err) => errors.push(err),
    });
    pollers.push(poller);
    fake.press({ fromId: 1, data: "ack:boom" });
    fake.press({ fromId: 1, data: "nonsense" });
    fake.press({ fromId: 1, data: "deny:A2" });
    await waitFor("three answers", () => fake.answers.length === 3, { timeoutMs: 5_000 });
    expect(actions).toEqual(["ack:boom", "deny:A2"]);
    expect(fake.answers.map((a) => a.text)).toEqual([
      "Failed: store unavailable",
      "This button is no longer valid.",
      "ok",
    ]);
    expect(errors).toHaveLength(1);
    // The next poll confirms all three: none is served again.
    await waitFor("a poll past the presses", () => fake.pollOffsets.some((o) => o > 1_002), { timeoutMs: 5_000 });
    expect(poller.offset).toBe(1_003);
    expect(actions).toHaveLength(2);
  });

  it("backs off after a failed poll, reports it, and keeps going", async () => {
    const client = await setup();
    const errors: unknown[] = [];
    const presses: string[] = [];
    fake.failNext("getUpdates", 502, "Bad Gateway");
    pollers.push(
      startTelegramPoller({
        client,
        approvers: [1],
        pollTimeoutSeconds: 1,
        backoffMs: 50,
        onPress: (p) => {
          presses.push(p.targetId);
          return undefined;
        },
        onError: (err) => errors.push(err),
      }),
    );
    fake.press({ fromId: 1, data: "ack:A1" });
    await waitFor("the press after the failure", () => presses.length === 1, { timeoutMs: 5_000 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ retryable: true, status: 502 });
  });

  it("takes a listed approver's reply as a decision: by id, as a command, or in reply to the request", async () => {
    const client = await setup();
    await createTelegramChannel("ops-tg", { client, chatId: -100 }).send(approval);
    const request = fake.sent[0]!;
    const presses: ButtonPress[] = [];
    pollers.push(
      startTelegramPoller({
        client,
        approvers: [12345],
        chatId: -100,
        pollTimeoutSeconds: 1,
        onPress: (press) => {
          presses.push(press);
          return { answer: press.action === "approve" ? "Approved" : "Denied", removeButtons: press.action === "deny" };
        },
      }),
    );
    const byId = fake.say({ fromId: 12345, chatId: -100, text: `approve ${APPROVAL_ID} looks right to me` });
    fake.say({ fromId: 12345, chatId: -100, text: "lunch at noon?" }); // not for Overseer: no answer
    const asReply = fake.say({
      fromId: 12345,
      replyTo: request.messageId,
      text: "/deny@OverseerTestBot not on a Friday",
    });
    await waitFor("two answers", () => fake.sent.length === 3, { timeoutMs: 5_000 });
    expect(presses).toEqual([
      { via: "reply", action: "approve", targetId: APPROVAL_ID, reason: "looks right to me", user: { id: 12345 } },
      {
        via: "reply",
        action: "deny",
        targetId: APPROVAL_ID,
        reason: "not on a Friday",
        user: { id: 12345 },
        message: { chatId: -100, messageId: request.messageId },
      },
    ]);
    // Each is answered in a reply to it; the request replied to loses its buttons once settled.
    expect(fake.sent.slice(1).map((m) => [m.replyTo, m.text])).toEqual([
      [byId, "Approved"],
      [asReply, "Denied"],
    ]);
    await waitFor("the buttons to go", () => fake.markupEdits.length === 1, { timeoutMs: 5_000 });
    expect(fake.markupEdits[0]).toEqual({ chatId: -100, messageId: request.messageId, keyboard: [] });
  });

  it("answers a reply from someone not listed 'not allowed' and tells the hook how they tried", async () => {
    const client = await setup();
    const { handled, refused } = recordingPoller(client, -100);
    const said = fake.say({ fromId: 666, chatId: -100, username: "mallory", text: `approve ${APPROVAL_ID} trust me` });
    await waitFor("the refusal", () => refused.length === 1, { timeoutMs: 5_000 });
    expect(handled).toEqual([]);
    expect(refused[0]).toEqual({
      via: "reply",
      action: "approve",
      targetId: APPROVAL_ID,
      reason: "trust me",
      user: { id: 666, username: "mallory" },
    });
    await waitFor("the answer", () => fake.sent.length === 1, { timeoutMs: 5_000 });
    expect(fake.sent[0]).toMatchObject({
      chatId: -100,
      replyTo: said,
      text: "Not allowed: you are not an approver here.",
    });
  });

  it("stops promptly while a long poll is open", async () => {
    const client = await setup();
    const poller = startTelegramPoller({ client, approvers: [], pollTimeoutSeconds: 50, onPress: () => undefined });
    await waitFor("the long poll to be open", () => fake.pollOffsets.length >= 1, { timeoutMs: 5_000 });
    const started = Date.now();
    await poller.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
