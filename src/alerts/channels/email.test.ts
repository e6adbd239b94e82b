import type { SMTPServerOptions } from "smtp-server";
import { afterEach, describe, expect, it } from "vitest";
import { type SmtpSink, startSmtpSink } from "../../test-support/smtp-sink.js";
import type { Channel, Notification } from "./channel.js";
import { createEmailChannel } from "./email.js";

const sinks: SmtpSink[] = [];
const channels: Channel[] = [];
afterEach(async () => {
  await Promise.all(channels.splice(0).map((c) => c.close?.()));
  await Promise.all(sinks.splice(0).map((s) => s.close()));
});

async function sink(options: Partial<SMTPServerOptions> = {}): Promise<SmtpSink> {
  const s = await startSmtpSink(options);
  sinks.push(s);
  return s;
}

function channel(target: Parameters<typeof createEmailChannel>[1]): Channel {
  const c = createEmailChannel("mail", target);
  channels.push(c);
  return c;
}

const ALERT_ID = "01JALERT000000000000000001";
const notification: Notification = {
  kind: "alert",
  id: `${ALERT_ID}-4`,
  alertId: ALERT_ID,
  title: "Heartbeat nightly-backup missed\r\nBcc: evil@example.com",
  details: "No ping for 26h.",
  links: [{ label: "Alert", url: `http://127.0.0.1:7070/alerts/${ALERT_ID}` }],
  at: "2026-11-21T12:00:00.000Z",
};

/** The header block of a received message. */
function headersOf(raw: string): string {
  return raw.split(/\r?\n\r?\n/)[0] ?? "";
}

function header(raw: string, name: string): string | undefined {
  return new RegExp(`^${name}: (.*?)\r?$`, "im").exec(headersOf(raw))?.[1];
}

describe("email channel against an SMTP sink on loopback", () => {
  it("delivers one plain-text message to every recipient", async () => {
    const smtp = await sink();
    await channel({ smtp: smtp.url, from: "overseer@example.test", to: ["a@example.test", "b@example.test"] }).send(
      notification,
    );
    expect(smtp.mail).toHaveLength(1);
    const m = smtp.mail[0]!;
    expect(m.from).toBe("overseer@example.test");
    expect(m.to).toEqual(["a@example.test", "b@example.test"]);
    // The title's line break cannot inject a header.
    const headers = m.raw.split(/\r?\n\r?\n/)[0] ?? "";
    expect(headers).toMatch(/^Subject: \[Overseer\] Heartbeat nightly-backup missed Bcc: evil@example.com\r?$/m);
    expect(headers).not.toMatch(/^Bcc:/im);
    expect(headers).toMatch(/^X-Overseer-Notification-Id: 01JALERT000000000000000001-4\r?$/im);
    expect(headers).toMatch(/^X-Overseer-Alert-Id: 01JALERT000000000000000001\r?$/im);
    expect(m.raw).toContain("No ping for 26h.");
    expect(m.raw).toContain("Alert: http://127.0.0.1:7070/alerts/01JALERT000000000000000001");
  });

  it("names each notification by a Message-ID of its own, the same on a retry, threaded under its alert", async () => {
    const smtp = await sink();
    const mail = channel({ smtp: smtp.url, from: "Overseer <overseer@ops.example.test>", to: ["a@example.test"] });
    await mail.send(notification);
    await mail.send(notification); // a retry of the same notification
    await mail.send({ ...notification, id: `${ALERT_ID}-9`, at: "2026-11-21T12:05:00.000Z" }); // the next step
    await mail.send({ kind: "bundle", id: `bundle:${ALERT_ID}-9:3`, title: "3 alerts", at: notification.at });
    const [first, retry, next, bundle] = smtp.mail.map((m) => m.raw) as [string, string, string, string];
    expect(header(first, "Message-ID")).toBe(`<${ALERT_ID}-4@ops.example.test>`);
    expect(header(retry, "Message-ID")).toBe(header(first, "Message-ID"));
    expect(header(next, "Message-ID")).toBe(`<${ALERT_ID}-9@ops.example.test>`);
    // A bundle's ':' is not allowed in a Message-ID.
    expect(header(bundle, "Message-ID")).toBe(`<bundle.${ALERT_ID}-9.3@ops.example.test>`);
    expect(header(bundle, "X-Overseer-Notification-Id")).toBe(`bundle:${ALERT_ID}-9:3`);
    expect(header(bundle, "X-Overseer-Alert-Id")).toBeUndefined();
    // Date is when the notification was due, so a retry is the same message.
    expect(Date.parse(header(first, "Date") ?? "")).toBe(Date.parse(notification.at));
    expect(Date.parse(header(next, "Date") ?? "")).toBe(Date.parse("2026-11-21T12:05:00.000Z"));
    for (const raw of [first, next]) {
      expect(header(raw, "References")).toBe(`<alert-${ALERT_ID}@ops.example.test>`);
      expect(header(raw, "X-Overseer-Alert-Id")).toBe(ALERT_ID);
    }
  });

  it("logs in with the configured user and password", async () => {
    const smtp = await sink({
      authOptional: false,
      allowInsecureAuth: true,
      onAuth(auth, _session, callback) {
        if (auth.username === "overseer" && auth.password === "pw-from-env") callback(null, { user: auth.username });
        else callback(new Error("Invalid username or password"));
      },
    });
    await channel({
      smtp: smtp.url,
      from: "o@example.test",
      to: ["a@example.test"],
      user: "overseer",
      password: "pw-from-env",
    }).send(notification);
    expect(smtp.mail[0]?.user).toBe("overseer");
    const wrong = channel({
      smtp: smtp.url,
      from: "o@example.test",
      to: ["a@example.test"],
      user: "overseer",
      password: "nope",
    });
    await expect(wrong.send(notification)).rejects.toMatchObject({ retryable: false });
  });

  it("a 5xx recipient refusal is permanent, a 4xx one retryable", async () => {
    const smtp = await sink({
      onRcptTo(address, _session, callback) {
        if (address.address.startsWith("gone")) {
          callback(Object.assign(new Error("No such user"), { responseCode: 550 }));
        } else if (address.address.startsWith("busy")) {
          callback(Object.assign(new Error("Mailbox busy, try later"), { responseCode: 451 }));
        } else callback();
      },
    });
    await expect(
      channel({ smtp: smtp.url, from: "o@example.test", to: ["gone@example.test"] }).send(notification),
    ).rejects.toMatchObject({ retryable: false, status: 550, code: "SMTP_550" });
    await expect(
      channel({ smtp: smtp.url, from: "o@example.test", to: ["busy@example.test"] }).send(notification),
    ).rejects.toMatchObject({ retryable: true, status: 451 });
    expect(smtp.mail).toHaveLength(0);
  });

  it("a server that is not there is a retryable connection error", async () => {
    const smtp = await sink();
    const url = smtp.url;
    await smtp.close();
    await expect(
      channel({ smtp: url, from: "o@example.test", to: ["a@example.test"], timeoutMs: 2_000 }).send(notification),
    ).rejects.toMatchObject({ retryable: true });
  });
});
