/**
 * The flood test from issue 8: 1,000 alerts in a burst, through each configured channel's
 * bundler and real deliveries on loopback, become a bounded number of messages per channel.
 * The bound (see bundler.ts): a burst within one bundle window is at most 2 messages.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { parseAlertChannels, resolveAlertChannels } from "../../config/alert-channels.js";
import { type FakeTelegram, startFakeTelegram } from "../../test-support/fake-telegram.js";
import { type SmtpSink, startSmtpSink } from "../../test-support/smtp-sink.js";
import { Bundler } from "./bundler.js";
import type { Channel, Notification } from "./channel.js";
import { createChannels } from "./factory.js";
import { SIGNATURE_HEADER, verifyWebhook } from "./webhook.js";

let fake: FakeTelegram | undefined;
let smtp: SmtpSink | undefined;
let hookServer: Server | undefined;
let channels: Map<string, Channel> | undefined;
afterEach(async () => {
  await Promise.all([...(channels?.values() ?? [])].map((c) => c.close?.()));
  await fake?.close();
  await smtp?.close();
  await new Promise<void>((resolve) => {
    hookServer?.closeAllConnections();
    if (hookServer) hookServer.close(() => resolve());
    else resolve();
  });
});

describe("flood", () => {
  it("1,000 alerts in a burst become at most 2 messages per channel, and every alert is accounted for", async () => {
    fake = await startFakeTelegram();
    smtp = await startSmtpSink();
    const hookBodies: string[] = [];
    let clock = 1_790_000_000_000;
    hookServer = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const ok = verifyWebhook("s3cret", raw, req.headers[SIGNATURE_HEADER] as string, { now: clock }).ok;
        if (ok) hookBodies.push(raw);
        res.writeHead(ok ? 204 : 401).end();
      });
    });
    await new Promise<void>((resolve) => hookServer!.listen(0, "127.0.0.1", resolve));
    const { port } = hookServer.address() as AddressInfo;
    const logged: string[] = [];
    const log = (_obj: object, msg?: string) => logged.push(msg ?? "");

    const configs = resolveAlertChannels(
      parseAlertChannels({
        // The legacy scheme, whose verifier takes this test's clock (the standardwebhooks library reads the real one).
        "ops-hook": {
          type: "webhook",
          url: `http://127.0.0.1:${port}/hook`,
          secret: "env:HOOK_SECRET",
          signature: "legacy",
        },
        "ops-tg": { type: "telegram", chatId: "-100", botToken: "env:TG_TOKEN", apiBaseUrl: fake.url },
        mail: { type: "email", smtp: smtp.url, from: "overseer@example.test", to: ["ops@example.test"] },
        log: { type: "console", bundle: { window: "5s" } },
      }),
      { HOOK_SECRET: "s3cret", TG_TOKEN: fake.token },
    );
    channels = createChannels(configs, {
      logger: { debug: log, info: log, warn: log, error: log },
      now: () => clock,
    });
    const bundlers = new Map(configs.map((c) => [c.name, new Bundler(c.limits)]));
    const sentPerChannel = new Map<string, Notification[]>(configs.map((c) => [c.name, []]));
    const deliver = async (name: string, messages: Notification[]) => {
      for (const m of messages) {
        await channels!.get(name)!.send(m);
        sentPerChannel.get(name)!.push(m);
      }
    };

    // 1,000 alerts in one second, to every channel.
    const start = clock;
    for (let i = 0; i < 1_000; i++) {
      clock = start + i;
      const alert: Notification = {
        kind: "alert",
        id: `A${String(i).padStart(4, "0")}`,
        title: `queue payments backed up (${i})`,
        actions: ["ack"],
        at: new Date(clock).toISOString(),
      };
      for (const [name, bundler] of bundlers) await deliver(name, bundler.offer(alert, clock));
    }
    // Let every bundle window end (ticking at each wake time, as the dispatcher will).
    for (const [name, bundler] of bundlers) {
      for (let wake = bundler.nextWakeAt(); wake !== null; wake = bundler.nextWakeAt()) {
        clock = Math.max(clock, wake);
        await deliver(name, bundler.tick(wake));
      }
    }

    const BOUND = 2;
    for (const [name, sent] of sentPerChannel) {
      expect(sent.length, name).toBeLessThanOrEqual(BOUND);
      expect(
        sent.map((m) => m.bundle?.total ?? 1).reduce((a, b) => a + b, 0),
        name,
      ).toBe(1_000);
    }
    // What actually arrived at each far end.
    expect(hookBodies).toHaveLength(2);
    expect(JSON.parse(hookBodies[1]!).notification.title).toBe("999 alerts: queue payments backed up (1)");
    expect(fake.sent).toHaveLength(2);
    expect(fake.sent[0]?.keyboard).toEqual([[{ text: "👀 Acknowledge", callback_data: "ack:A0000" }]]);
    expect(fake.sent[1]?.keyboard).toEqual([]); // a bundle has no buttons
    expect(fake.sent[1]?.text).toContain("… and 994 more");
    expect(smtp.mail).toHaveLength(2);
    expect(logged.filter((m) => m.startsWith("notification:"))).toHaveLength(2);
  });
});
