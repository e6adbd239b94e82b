import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { parseAlertChannels, resolveAlertChannels } from "../../config/alert-channels.js";
import { silentLogger } from "../../core/logger.js";
import { type FakeTelegram, startFakeTelegram } from "../../test-support/fake-telegram.js";
import { type FakeTwilio, startFakeTwilio } from "../../test-support/fake-twilio.js";
import { type SmtpSink, startSmtpSink } from "../../test-support/smtp-sink.js";
import type { Channel, Notification } from "./channel.js";
import { createChannel, createChannels } from "./factory.js";
import type { TelegramChannel } from "./telegram.js";
import { SIGNATURE_HEADER, verifyWebhook } from "./webhook.js";

let fake: FakeTelegram | undefined;
let smtp: SmtpSink | undefined;
let twilio: FakeTwilio | undefined;
let channels: Map<string, Channel> | undefined;
afterEach(async () => {
  await Promise.all([...(channels?.values() ?? [])].map((c) => c.close?.()));
  await fake?.close();
  await smtp?.close();
  await twilio?.close();
  fake = smtp = twilio = channels = undefined;
});

const APPROVAL_ID = "01JAPPROVAL0000000000000001";
const approval: Notification = {
  kind: "approval",
  id: "01JALERT00000000000000000A-3",
  alertId: "01JALERT00000000000000000A",
  approvalId: APPROVAL_ID,
  title: "Approve: rotate the database password?",
  actions: ["approve", "deny"],
  at: "2026-11-21T12:00:00.000Z",
};
const WHSEC = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;

describe("createChannels", () => {
  it("builds each type from config and delivers through all four", async () => {
    fake = await startFakeTelegram();
    smtp = await startSmtpSink();
    const hooks: Array<{ body: string; headers: Record<string, string> }> = [];
    const logged: Array<{ obj: object; msg?: string }> = [];
    const log = (obj: object, msg?: string) => logged.push({ obj, ...(msg === undefined ? {} : { msg }) });
    const sentTo: string[] = [];
    const config = parseAlertChannels({
      "ops-hook": { type: "webhook", url: "http://127.0.0.1:9/hook", secret: "env:HOOK_SECRET" },
      "old-hook": { type: "webhook", url: "http://127.0.0.1:9/old", secret: "env:OLD_SECRET", signature: "legacy" },
      "ops-tg": { type: "telegram", chatId: "-100", botToken: "env:TG_TOKEN", approvers: [1], apiBaseUrl: fake.url },
      mail: { type: "email", smtp: smtp.url, from: "overseer@example.test", to: ["ops@example.test"] },
      log: { type: "console" },
    });
    const resolved = resolveAlertChannels(config, { HOOK_SECRET: WHSEC, OLD_SECRET: "s3cret", TG_TOKEN: fake.token });
    const realFetch = fetch;
    channels = createChannels(resolved, {
      logger: { debug: log, info: log, warn: log, error: log },
      // The webhooks go to a stand-in receiver; Telegram's calls go through to the fake Bot API.
      fetch: async (url, init) => {
        if (url.startsWith("http://127.0.0.1:9/")) {
          hooks.push({ body: String(init.body), headers: init.headers as Record<string, string> });
          return new Response(null, { status: 204 });
        }
        return realFetch(url, init);
      },
      onTelegramSent: (channel, n, m) => sentTo.push(`${channel}:${n.id}:${m.message_id}`),
    });
    expect([...channels.keys()]).toEqual(["ops-hook", "old-hook", "ops-tg", "mail", "log"]);
    expect([...channels.values()].map((c) => c.type)).toEqual(["webhook", "webhook", "telegram", "email", "console"]);

    for (const channel of channels.values()) await channel.send(approval);

    // Each webhook channel signs in its own scheme.
    expect(new Webhook(WHSEC).verify(hooks[0]!.body, hooks[0]!.headers)).toMatchObject({ notification: approval });
    expect(hooks[0]!.headers["webhook-id"]).toBe(approval.id);
    expect(verifyWebhook("s3cret", hooks[1]!.body, hooks[1]!.headers[SIGNATURE_HEADER]).ok).toBe(true);
    // The buttons act on the approval, not on the notification.
    expect(fake.sent[0]?.keyboard.flat().map((b) => b.callback_data)).toEqual([
      `approve:${APPROVAL_ID}`,
      `deny:${APPROVAL_ID}`,
    ]);
    expect(sentTo).toEqual([`ops-tg:${approval.id}:1`]);
    expect((channels.get("ops-tg") as TelegramChannel).chatId).toBe("-100");
    expect(smtp.mail[0]?.raw).toContain("Approve: rotate the database password?");
    expect(logged).toEqual([
      {
        obj: {
          channel: "log",
          kind: "approval",
          id: approval.id,
          title: approval.title,
          actions: ["approve", "deny"],
          at: approval.at,
        },
        msg: "notification: Approve: rotate the database password?",
      },
    ]);
  });

  it("builds sms and voice channels that text and call their number through the provider, logging no secret", async () => {
    twilio = await startFakeTwilio();
    const logged: unknown[] = [];
    const log = (obj: object, msg?: string) => logged.push({ obj, msg });
    const provider = { url: twilio.url, accountSid: twilio.accountSid, authToken: "env:TWILIO_TOKEN" };
    const config = parseAlertChannels({
      "team-sms": { type: "sms", provider, from: "+14155550100", to: "+14155550111" },
      "team-phone": { type: "voice", provider, from: "+14155550100", to: "+14155550122" },
    });
    channels = createChannels(resolveAlertChannels(config, { TWILIO_TOKEN: twilio.authToken }), {
      logger: { debug: log, info: log, warn: log, error: log },
    });
    expect([...channels.values()].map((c) => c.type)).toEqual(["sms", "voice"]);
    for (const channel of channels.values()) await channel.send(approval);

    expect(twilio.messages.map((m) => [m.from, m.to, m.body])).toEqual([
      ["+14155550100", "+14155550111", "[Overseer] Approve: rotate the database password?"],
    ]);
    expect(twilio.calls.map((c) => [c.from, c.to, c.said[0]])).toEqual([
      [
        "+14155550100",
        "+14155550122",
        "This is Overseer. A request waits for approval: Approve: rotate the database password? Decide on the dashboard.",
      ],
    ]);
    expect(logged).toEqual([
      {
        obj: { channel: "team-sms", notificationId: approval.id, providerId: twilio.messages[0]?.sid },
        msg: "sms sent",
      },
      {
        obj: { channel: "team-phone", notificationId: approval.id, providerId: twilio.calls[0]?.sid },
        msg: "call placed",
      },
    ]);
    expect(JSON.stringify(logged)).not.toContain(twilio.authToken);
  });

  it("leaves out a phone channel without a number of its own, which reaches only people; building it alone is refused", () => {
    const config = parseAlertChannels({
      texts: { type: "sms", provider: { accountSid: "AC1", authToken: "env:T" }, from: "+14155550100" },
      desk: {
        type: "sms",
        provider: { accountSid: "AC1", authToken: "env:T" },
        from: "+14155550100",
        to: "+14155550199",
      },
    });
    const resolved = resolveAlertChannels(config, { T: "tok" });
    expect([...createChannels(resolved, { logger: silentLogger }).keys()]).toEqual(["desk"]);
    expect(() => createChannel(resolved[0] as (typeof resolved)[number], { logger: silentLogger })).toThrow(
      'channel texts: a sms channel without "to" pages no number of its own',
    );
  });
});
