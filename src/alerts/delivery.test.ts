import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../config/config.js";
import type { EscalationPolicy } from "../core/alert.js";
import { newId } from "../core/ids.js";
import { startFakeTelegram } from "../test-support/fake-telegram.js";
import { startSmtpSink } from "../test-support/smtp-sink.js";
import { tempDatabase } from "../test-support/temp-database.js";
import { waitFor } from "../test-support/wait.js";
import { startWebhookReceiver, type WebhookReceiver } from "../test-support/webhook-receiver.js";
import { NOTIFY_TASK } from "./delivery.js";

const SECRET = "delivery-test-secret";
let receiver: WebhookReceiver | null = null;

afterEach(async () => {
  await receiver?.close();
  receiver = null;
  delete process.env.DELIVERY_HOOK_SECRET;
});

async function setup(policy: unknown = { steps: [{ delay: "0s", notify: ["hook"] }] }, bundleWindow = 0) {
  receiver = await startWebhookReceiver(SECRET);
  process.env.DELIVERY_HOOK_SECRET = SECRET;
  const { alerts } = parseConfig(
    {
      alerts: {
        channels: {
          hook: {
            type: "webhook",
            url: receiver.url,
            secret: "env:DELIVERY_HOOK_SECRET",
            timeout: "2s",
            bundle: { window: bundleWindow },
          },
        },
        policies: { p: policy },
      },
    },
    "test",
  );
  const db = tempDatabase();
  const overseer = await db.open({ alerts });
  return { db, alerts, overseer, receiver, policy: alerts.policies.p as EscalationPolicy };
}

describe("alert delivery through the queue", () => {
  it("sends a raised alert's first step through an overseer.notify job and marks it sent", async () => {
    const { overseer, receiver } = await setup();
    const worker = overseer.worker({ maintenanceMs: 50, pollMs: 50 });
    await worker.start();
    const { alert } = await overseer.raiseAlert({ summary: "disk full", dedupKey: "disk", policy: "p" });
    await waitFor("the delivery", async () => receiver.accepted.length === 1);
    await waitFor("the delivery", async () => (await overseer.listAlertNotifications(alert.id))[0]?.status === "sent");
    const [sent] = await overseer.listAlertNotifications(alert.id);
    // Its own id and time (the step's), the alert's id, and the alert's page on the default dashboard URL.
    expect(receiver.accepted[0]?.notification).toEqual({
      kind: "alert",
      id: `${alert.id}-${sent?.id}`,
      alertId: alert.id,
      title: "disk full",
      links: [{ label: "Alert", url: `http://127.0.0.1:7070/alerts/${alert.id}` }],
      actions: ["ack"],
      at: sent?.at,
      raisedAt: alert.createdAt,
    });
    expect(receiver.deliveries.map((d) => [d.id, d.alertId])).toEqual([[`${alert.id}-${sent?.id}`, alert.id]]);
    const jobs = await overseer.listJobs({ task: NOTIFY_TASK });
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.idempotencyKey).toMatch(/^notify:\d+$/);
  });

  it("a refused delivery (4xx) dead-letters at once and the notification is marked failed", async () => {
    const { overseer, receiver } = await setup();
    receiver.status = 410;
    await overseer.worker({ maintenanceMs: 50, pollMs: 50 }).start();
    const { alert } = await overseer.raiseAlert({ summary: "gone", policy: "p" });
    await waitFor(
      "the delivery",
      async () => (await overseer.listAlertNotifications(alert.id))[0]?.status === "failed",
    );
    const [job] = await overseer.listJobs({ task: NOTIFY_TASK });
    await waitFor("the delivery", async () => (await overseer.getJob(job?.id ?? ""))?.state === "dead");
  });

  it("a crash between the escalation's commit and the enqueue: the sweep enqueues the planned notification once", async () => {
    const { db, alerts, overseer, receiver, policy } = await setup();
    // Raised straight in the store: the step is recorded as planned and no job exists (the crash).
    const { alert, notifications } = await overseer.store.raiseAlert({
      id: newId(),
      source: "manual",
      summary: "lost enqueue",
      details: null,
      dedupKey: null,
      policy,
    });
    expect(notifications.map((n) => n.status)).toEqual(["planned"]);
    const delivery = overseer.alertDelivery();
    await delivery?.sweep();
    await delivery?.sweep(); // idempotent: still one job
    // Another node's sweep finds the notification still planned: its enqueue is a no-op too.
    await (await db.open({ alerts })).alertDelivery()?.sweep();
    expect(await overseer.listJobs({ task: NOTIFY_TASK })).toHaveLength(1);
    await overseer.worker({ maintenanceMs: 50, pollMs: 50 }).start();
    await waitFor("the delivery", async () => (await overseer.listAlertNotifications(alert.id))[0]?.status === "sent");
    expect(receiver.accepted).toHaveLength(1);
  });

  it("bundles a burst per channel in the sending process: 5 alerts, 2 messages, every notification sent", async () => {
    const { overseer, receiver } = await setup(undefined, 500);
    await overseer.worker({ maintenanceMs: 50, pollMs: 20 }).start();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await overseer.raiseAlert({ summary: `burst ${i}`, policy: "p" })).alert.id);
    for (const id of ids) {
      await waitFor("every send", async () => (await overseer.listAlertNotifications(id))[0]?.status === "sent");
    }
    expect(receiver.accepted).toHaveLength(2);
    expect(receiver.accepted[1]?.notification).toMatchObject({ kind: "bundle", bundle: { total: 4 } });
  });

  it("the dispatcher in the maintenance pass sends a later step when it is due", async () => {
    const { overseer, receiver } = await setup({
      steps: [
        { delay: "0s", notify: ["hook"] },
        { delay: "1s", notify: ["hook"] },
      ],
    });
    await overseer.worker({ maintenanceMs: 50, pollMs: 50 }).start();
    const { alert } = await overseer.raiseAlert({ summary: "twice", policy: "p" });
    await waitFor("the delivery", async () => (await overseer.listAlertNotifications(alert.id)).length === 2, {
      timeoutMs: 5_000,
    });
    await waitFor("the delivery", async () =>
      (await overseer.listAlertNotifications(alert.id)).every((n) => n.status === "sent"),
    );
    expect(receiver.accepted).toHaveLength(2);
  });
});

describe("alert delivery to people", () => {
  it("writes to telegram:<user id> and to each contact of a person, each a notification of its own", async () => {
    const telegram = await startFakeTelegram({ maxPollSeconds: 1 });
    const smtp = await startSmtpSink();
    process.env.DELIVERY_TG_TOKEN = telegram.token;
    try {
      const { alerts } = parseConfig(
        {
          alerts: {
            channels: {
              tg: { type: "telegram", chatId: 42, botToken: "env:DELIVERY_TG_TOKEN", apiBaseUrl: telegram.url },
              mail: { type: "email", smtp: smtp.url, from: "overseer@example.test", to: ["ops@example.test"] },
            },
            people: { ana: { telegram: 888, email: "ana@example.test" }, bo: { email: "bo@example.test" } },
            policies: { oncall: { steps: [{ delay: "0s", notify: ["telegram:777", "person:ana"] }] } },
          },
        },
        "test",
      );
      expect(alerts.policies.oncall?.steps[0]?.notify).toEqual([
        "telegram:777",
        "person:ana:telegram",
        "person:ana:email",
      ]);
      const overseer = await tempDatabase().open({ alerts });
      await overseer.worker({ maintenanceMs: 50, pollMs: 50 }).start();
      const { alert } = await overseer.raiseAlert({ summary: "db-1 is down", policy: "oncall" });
      const timeline = await waitFor("every notification settled", async () => {
        const list = await overseer.listAlertNotifications(alert.id);
        return list.length === 3 && list.every((n) => n.status !== "planned") ? list : null;
      });
      expect(timeline.map((n) => [n.target, n.status])).toEqual([
        ["telegram:777", "sent"],
        ["person:ana:telegram", "sent"],
        ["person:ana:email", "sent"],
      ]);
      for (const chat of ["777", "888"]) {
        expect(telegram.sent.find((m) => String(m.chatId) === chat)?.text).toContain("db-1 is down");
      }
      // Not the channel's own chat, nor its own recipients: only the people named.
      expect(telegram.sent.some((m) => String(m.chatId) === "42")).toBe(false);
      expect(smtp.mail.map((m) => m.to)).toEqual([["ana@example.test"]]);
      expect(smtp.mail[0]?.raw).toContain("db-1 is down");
    } finally {
      delete process.env.DELIVERY_TG_TOKEN;
      await telegram.close();
      await smtp.close();
    }
  });
});
