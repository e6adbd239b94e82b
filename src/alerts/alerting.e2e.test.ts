/**
 * Issue 8's end-to-end test, in-process on loopback: a job asks for approval of a command → the
 * Telegram chat (a fake Bot API) gets the request, the command shown, with buttons → nobody
 * answers → after the step delay the webhook receiver (verifying every signature) is notified,
 * the request's details in the payload → an unlisted user's press and reply are refused and
 * audited → a listed user presses Approve → the job continues, the alert closes, the buttons go,
 * and escalation stops. A listed user's reply `deny <id> <reason>` denies with that reason.
 * Then, on SQLite and PostgreSQL: an alert escalating through steps and a repeat reaches a webhook
 * receiver (verifying with the standardwebhooks library) and an SMTP sink with one id per
 * notification, the same id on a retried delivery, and links to the configured dashboard.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../config/config.js";
import type { ApprovalOutcome } from "../core/approval.js";
import { defineTask } from "../core/task.js";
import { type FakeTelegram, startFakeTelegram, visibleText } from "../test-support/fake-telegram.js";
import { type SmtpSink, startSmtpSink } from "../test-support/smtp-sink.js";
import { tempDatabase } from "../test-support/temp-database.js";
import { TEST_BACKEND, testDatabase } from "../test-support/test-backend.js";
import { sleep, waitFor } from "../test-support/wait.js";
import { startWebhookReceiver, type WebhookReceiver } from "../test-support/webhook-receiver.js";
import { startTelegramDecisions, type TelegramDecisions } from "./telegram-decisions.js";

const APPROVER = 111;
const REQUEST = { command: ["kubectl", "rollout", "restart", "deploy/api", "--namespace", "prod"], cluster: "eu-1" };
const STRANGER = 999;
const HOOK_SECRET = "e2e-hook-secret";

/** The Telegram channel of these tests' configs: the group chat, at the fake Bot API, APPROVER listed. */
const telegramChannel = (fake: FakeTelegram) => ({
  type: "telegram",
  chatId: "-100200300",
  botToken: "env:E2E_TG_TOKEN",
  approvers: [APPROVER],
  apiBaseUrl: fake.url,
  timeout: "2s",
});

/** The webhook channel of these tests' configs, at the receiver. */
const hookChannel = (r: WebhookReceiver) => ({
  type: "webhook",
  url: r.url,
  secret: "env:E2E_HOOK_SECRET",
  timeout: "2s",
});

/** Starts the fake Bot API and the webhook receiver the tests page (closed after each), their secrets in the environment. */
async function startTelegramAndHook(): Promise<{ telegram: FakeTelegram; receiver: WebhookReceiver }> {
  const tg = await startFakeTelegram({ maxPollSeconds: 1 });
  telegram = tg;
  const hook = await startWebhookReceiver(HOOK_SECRET);
  receiver = hook;
  process.env.E2E_TG_TOKEN = tg.token;
  process.env.E2E_HOOK_SECRET = HOOK_SECRET;
  return { telegram: tg, receiver: hook };
}

let telegram: FakeTelegram | null = null;
let receiver: WebhookReceiver | null = null;
let decisions: TelegramDecisions | null = null;
let sink: SmtpSink | null = null;

afterEach(async () => {
  await decisions?.stop();
  await telegram?.close();
  await receiver?.close();
  await sink?.close();
  decisions = telegram = receiver = sink = null;
  delete process.env.E2E_TG_TOKEN;
  delete process.env.E2E_HOOK_SECRET;
});

describe("alerting end to end", () => {
  it("approval → Telegram → webhook after the step delay → refused stranger → Approve: job continues, escalation stops", async () => {
    ({ telegram, receiver } = await startTelegramAndHook());
    const { alerts } = parseConfig(
      {
        alerts: {
          channels: {
            tg: telegramChannel(telegram),
            hook: hookChannel(receiver),
          },
          policies: {
            approvers: {
              steps: [
                { delay: "0s", notify: ["tg"] },
                { delay: "2s", notify: ["hook"] },
              ],
              // Unanswered, it would page Telegram again 2 s after the webhook: closing must stop that.
              repeat: 1,
              repeatDelay: "2s",
            },
          },
          rules: [{ when: "approval.pending", policy: "approvers" }],
        },
      },
      "e2e",
    );
    const overseer = await tempDatabase().open({ alerts });
    const outcomes: ApprovalOutcome[] = [];
    overseer.register(
      defineTask("deploy", async (_payload, ctx) => {
        const outcome = await ctx.requestApproval({
          title: "Deploy api to production",
          details: REQUEST,
          timeout: "5m",
        });
        outcomes.push(outcome);
        return { deployed: outcome.approved };
      }),
    );
    await overseer.worker({ maintenanceMs: 100, pollMs: 50 }).start();
    decisions = startTelegramDecisions(overseer, { pollTimeoutSeconds: 1, backoffMs: 100 });
    expect(decisions).not.toBeNull();
    const tg = telegram;
    const hook = receiver;

    const job = await overseer.enqueue("deploy", {});
    // The Telegram chat gets the request, with Approve / Deny buttons.
    const message = await waitFor("the Telegram message", () => tg.sent[0], { timeoutMs: 10_000 });
    const sentAt = Date.now();
    const [approval] = await overseer.listApprovals({ jobId: job.id });
    expect(approval?.state).toBe("pending");
    const id = approval?.id as string;
    expect(message.chatId).toBe("-100200300");
    // What is being approved: the command as a code block, the rest as a list.
    expect(message.text).toContain(
      '<pre><code class="language-shell">kubectl rollout restart deploy/api --namespace prod</code></pre>',
    );
    expect(visibleText(message)).toContain("cluster: eu-1");
    expect(message.text).toContain("Deploy api to production");
    // Links to the dashboard (its default address: the config names none), the approval first.
    expect(message.parseMode).toBe("HTML");
    expect(message.text).toContain(`Approval: http://127.0.0.1:7070/approvals/${id}`);
    expect(message.text).toContain(`Job: http://127.0.0.1:7070/jobs/${job.id}`);
    expect(message.keyboard.flat().map((b) => b.callback_data)).toEqual([`approve:${id}`, `deny:${id}`]);
    expect(hook.accepted).toHaveLength(0);

    // Nobody answers: after the 2 s step the webhook target is notified, signed.
    await waitFor("the webhook delivery", () => hook.accepted.length === 1, { timeoutMs: 10_000 });
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1_500);
    expect(hook.rejected).toEqual([]);
    const [alertOfApproval] = await overseer.listAlerts({ source: "approval" });
    const alertId = alertOfApproval?.id as string;
    expect(hook.accepted[0]).toMatchObject({
      version: 1,
      channel: "hook",
      notification: {
        kind: "approval",
        alertId,
        approvalId: id,
        jobId: job.id,
        title: "Approval needed: Deploy api to production",
        request: { details: REQUEST },
        links: [
          { label: "Approval", url: `http://127.0.0.1:7070/approvals/${id}` },
          { label: "Alert", url: `http://127.0.0.1:7070/alerts/${alertId}` },
          { label: "Job", url: `http://127.0.0.1:7070/jobs/${job.id}` },
        ],
      },
    });
    // The webhook's notification is not the Telegram one: each has an id of its own.
    expect(hook.accepted[0]?.notification.id).toMatch(new RegExp(`^${alertId}-\\d+$`));
    expect(hook.deliveries.map((d) => d.id)).toEqual([hook.accepted[0]?.notification.id]);

    // Someone not listed presses Approve: refused, audited, nothing decided.
    telegram.press({ fromId: STRANGER, data: `approve:${id}`, messageId: message.messageId });
    await waitFor("the refusal", () => tg.answers.find((a) => a.text?.startsWith("Not allowed")), { timeoutMs: 5_000 });
    const refused = await waitFor("the audit event", async () =>
      (await overseer.readEvents()).find((e) => e.kind === "approval.refused"),
    );
    expect(refused.data).toMatchObject({ approvalId: id, userId: STRANGER, action: "approve", via: "button" });
    // ...and by a reply: refused in a reply, audited, nothing decided.
    const said = telegram.say({ fromId: STRANGER, replyTo: message.messageId, text: "approve" });
    await waitFor("the answer", () => tg.sent.find((m) => m.replyTo === said), { timeoutMs: 5_000 });
    expect(tg.sent.find((m) => m.replyTo === said)?.text).toBe("Not allowed: you are not an approver here.");
    const refusals = await waitFor("the second audit event", async () => {
      const found = (await overseer.readEvents()).filter((e) => e.kind === "approval.refused");
      return found.length === 2 ? found : undefined;
    });
    expect(refusals[1]?.data).toMatchObject({ approvalId: id, userId: STRANGER, action: "approve", via: "reply" });
    expect((await overseer.getApproval(id))?.state).toBe("pending");

    // A listed approver presses Approve: the job continues, decided by telegram:<id> over Telegram.
    telegram.press({ fromId: APPROVER, data: `approve:${id}`, messageId: message.messageId });
    await waitFor("the job to finish", async () => (await overseer.getJob(job.id))?.state === "succeeded", {
      timeoutMs: 10_000,
    });
    expect(outcomes).toEqual([
      expect.objectContaining({ approved: true, channel: "telegram", decidedBy: `telegram:${APPROVER}` }),
    ]);
    expect(tg.answers.some((a) => a.text === "Approved")).toBe(true);
    await waitFor("the buttons to go", () =>
      tg.markupEdits.find((e) => e.messageId === message.messageId && e.keyboard.length === 0),
    );

    // The alert closes, and escalation stops: no further notifications anywhere.
    const [alert] = await overseer.listAlerts({ source: "approval" });
    await waitFor("the alert to close", async () => (await overseer.getAlert(alert?.id ?? ""))?.status === "closed");
    expect(await overseer.getAlert(alert?.id ?? "")).toMatchObject({
      closedBy: `telegram:${APPROVER}`,
      nextEscalationAt: null,
    });
    await sleep(3_000);
    expect(tg.sent.filter((m) => m.replyTo === undefined)).toHaveLength(1);
    expect(hook.accepted).toHaveLength(1);
    const timeline = await overseer.listAlertNotifications(alert?.id ?? "");
    expect(timeline.map((n) => [n.target, n.status])).toEqual([
      ["tg", "sent"],
      ["hook", "sent"],
    ]);
  }, 40_000);
});

/** A Standard Webhooks secret: `whsec_` and 32 bytes in base64. */
const WHSEC = `whsec_${Buffer.alloc(32, 42).toString("base64")}`;

describe(`deciding by reply (${TEST_BACKEND})`, () => {
  it("a listed approver's `deny <id> <reason>` denies with that reason; the e-mail shows the command too", async () => {
    telegram = await startFakeTelegram({ maxPollSeconds: 1 });
    sink = await startSmtpSink();
    process.env.E2E_TG_TOKEN = telegram.token;
    const { alerts } = parseConfig(
      {
        alerts: {
          channels: {
            tg: telegramChannel(telegram),
            mail: {
              type: "email",
              smtp: sink.url,
              from: "overseer@example.test",
              to: ["ops@example.test"],
              timeout: "2s",
            },
          },
          policies: { approvers: { steps: [{ delay: "0s", notify: ["tg", "mail"] }] } },
          rules: [{ when: "approval.pending", policy: "approvers" }],
        },
      },
      "e2e",
    );
    const overseer = await (await testDatabase("overseer-reply-")).open({ alerts });
    const outcomes: ApprovalOutcome[] = [];
    overseer.register(
      defineTask("deploy", async (_payload, ctx) => {
        outcomes.push(await ctx.requestApproval({ title: "Restart api", details: REQUEST, timeout: "5m" }));
        return null;
      }),
    );
    await overseer.worker({ maintenanceMs: 100, pollMs: 50 }).start();
    decisions = startTelegramDecisions(overseer, { pollTimeoutSeconds: 1, backoffMs: 100 });
    const tg = telegram;
    const smtp = sink;

    const job = await overseer.enqueue("deploy", {});
    await waitFor("the Telegram message", () => tg.sent[0], { timeoutMs: 10_000 });
    const mail = await waitFor("the e-mail", () => smtp.mail[0], { timeoutMs: 10_000 });
    expect(mail.raw).toContain("Command:\r\n    kubectl rollout restart deploy/api --namespace prod");
    expect(mail.raw).toContain("cluster: eu-1");
    const [approval] = await overseer.listApprovals({ jobId: job.id });
    const said = tg.say({ fromId: APPROVER, chatId: "-100200300", text: `deny ${approval?.id} not during the freeze` });

    await waitFor("the job to finish", async () => (await overseer.getJob(job.id))?.state === "succeeded", {
      timeoutMs: 10_000,
    });
    expect(outcomes).toEqual([
      expect.objectContaining({
        approved: false,
        channel: "telegram",
        decidedBy: `telegram:${APPROVER}`,
        reason: "not during the freeze",
      }),
    ]);
    await waitFor("the answer", () => tg.sent.find((m) => m.replyTo === said && m.text === "Denied"), {
      timeoutMs: 5_000,
    });
    // The request's message is edited like any settled copy: its buttons gone, the reason under it.
    await waitFor("the settled copy", () =>
      tg.textEdits.find(
        (e) =>
          e.messageId === tg.sent[0]?.messageId &&
          e.keyboard.length === 0 &&
          e.text.endsWith(`❌ Denied by telegram:${APPROVER}: not during the freeze`),
      ),
    );
  }, 30_000);
});

describe(`a channel's fallback (${TEST_BACKEND})`, () => {
  it("a Telegram send that fails for good goes to the fallback channel at once, and the timeline says so", async () => {
    ({ telegram, receiver } = await startTelegramAndHook());
    const { alerts } = parseConfig(
      {
        alerts: {
          channels: {
            tg: { ...telegramChannel(telegram), fallback: "hook" },
            hook: hookChannel(receiver),
          },
          // The webhook's own step is an hour away: only the fallback can reach it sooner.
          policies: {
            approvers: {
              steps: [
                { delay: "0s", notify: ["tg"] },
                { delay: "1h", notify: ["hook"] },
              ],
            },
          },
          rules: [{ when: "approval.pending", policy: "approvers" }],
        },
      },
      "e2e",
    );
    const overseer = await (await testDatabase("overseer-fallback-")).open({ alerts });
    overseer.register(
      defineTask("deploy", async (_payload, ctx) => {
        await ctx.requestApproval({ title: "Restart api", details: REQUEST, timeout: "5m" });
        return null;
      }),
    );
    // The bot was removed from the group: Telegram refuses every send.
    telegram.failNext("sendMessage", 403, "Forbidden: bot was kicked from the group chat");
    await overseer.worker({ maintenanceMs: 100, pollMs: 50 }).start();
    const hook = receiver;

    const job = await overseer.enqueue("deploy", {});
    const delivered = await waitFor("the fallback's delivery", () => hook.accepted[0], { timeoutMs: 10_000 });
    const [approval] = await overseer.listApprovals({ jobId: job.id });
    expect(delivered.notification).toMatchObject({
      kind: "approval",
      approvalId: approval?.id,
      request: { details: REQUEST },
      actions: ["approve", "deny"],
    });
    const [alert] = await overseer.listAlerts({ source: "approval" });
    const timeline = await waitFor("the timeline", async () => {
      const all = await overseer.listAlertNotifications(alert?.id ?? "");
      return all.length === 2 && all[1]?.status === "sent" ? all : undefined;
    });
    expect(timeline.map((n) => [n.step, n.target, n.status, n.fallbackFor])).toEqual([
      [0, "tg", "failed", null],
      [0, "hook", "sent", timeline[0]?.id],
    ]);
    expect(timeline[0]?.error).toContain("403 Forbidden: bot was kicked from the group chat");
    const event = (await overseer.readEvents()).find((e) => e.kind === "alert.fallback");
    expect(event?.data).toEqual({
      alertId: alert?.id,
      notificationId: timeline[0]?.id,
      target: "tg",
      fallback: "hook",
      fallbackId: timeline[1]?.id,
    });
    expect((await overseer.getAlert(alert?.id ?? ""))?.status).toBe("triggered");
  }, 30_000);
});

describe(`notification ids and links (${TEST_BACKEND})`, () => {
  it("every step and round is a notification of its own; a retried delivery keeps its id", async () => {
    receiver = await startWebhookReceiver(WHSEC);
    sink = await startSmtpSink();
    process.env.E2E_HOOK_SECRET = WHSEC;
    const { alerts } = parseConfig(
      {
        alerts: {
          dashboardUrl: "https://ops.example.com/overseer/",
          channels: {
            hook: {
              type: "webhook",
              url: receiver.url,
              secret: "env:E2E_HOOK_SECRET",
              timeout: "2s",
              bundle: { window: "0s" },
            },
            mail: {
              type: "email",
              smtp: sink.url,
              from: "overseer@example.test",
              to: ["ops@example.test"],
              timeout: "2s",
              bundle: { window: "0s" },
            },
          },
          policies: {
            twice: {
              steps: [
                { delay: "0s", notify: ["hook", "mail"] },
                { delay: "1s", notify: ["hook"] },
              ],
              repeat: 1,
              repeatDelay: "1s",
            },
          },
        },
      },
      "e2e",
    );
    const open = (await testDatabase("overseer-alerting-")).open;
    const overseer = await open({ alerts });
    overseer.defineTask("noop", async () => null);
    const hook = receiver;
    const smtp = sink;
    // The first delivery through each channel fails once (503, SMTP 451) and is retried.
    hook.failNext = 1;
    smtp.failNext = 1;
    await overseer.worker({ maintenanceMs: 50, pollMs: 50 }).start();

    const { alert } = await overseer.raiseAlert({
      summary: "Disk full on db-1",
      dedupKey: "disk:db-1",
      policy: "twice",
    });
    // Round 1: hook + mail, then hook; round 2: the same. Nobody acknowledges.
    const timeline = await waitFor(
      "six notifications sent",
      async () => {
        const all = await overseer.listAlertNotifications(alert.id);
        return all.length === 6 && all.every((n) => n.status === "sent") ? all : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const idOf = (n: { id: number }) => `${alert.id}-${n.id}`;
    const hookNotes = timeline.filter((n) => n.target === "hook");
    const mailNotes = timeline.filter((n) => n.target === "mail");
    expect(hookNotes.map((n) => [n.step, n.round])).toEqual([
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    expect(mailNotes.map((n) => [n.step, n.round])).toEqual([
      [0, 0],
      [0, 1],
    ]);

    // Webhook: every delivery verified by the library; four notifications, four ids, one retried.
    expect(hook.rejected).toEqual([]);
    // (The retry may come after the next step's delivery: both wait about a second.)
    expect(hook.deliveries.map((d) => d.status).sort()).toEqual([200, 200, 200, 200, 503]);
    const failed = hook.deliveries[0] as (typeof hook.deliveries)[0];
    expect(failed.status).toBe(503);
    expect(failed.id).toBe(idOf(hookNotes[0] as { id: number }));
    const retried = hook.deliveries.filter((d) => d.id === failed.id);
    expect(retried.map((d) => d.status)).toEqual([503, 200]);
    expect(retried[1]?.payload).toEqual(failed.payload);
    const accepted = hook.deliveries.filter((d) => d.status === 200);
    expect(accepted.map((d) => d.id).sort()).toEqual(hookNotes.map(idOf).sort());
    expect(new Set(accepted.map((d) => d.id)).size).toBe(4);
    for (const d of accepted) {
      const note = hookNotes.find((n) => idOf(n) === d.id) as (typeof hookNotes)[0];
      expect(d.alertId).toBe(alert.id);
      expect(d.payload.notification).toEqual({
        kind: "alert",
        id: idOf(note),
        alertId: alert.id,
        title: "Disk full on db-1",
        links: [{ label: "Alert", url: `https://ops.example.com/overseer/alerts/${alert.id}` }],
        actions: ["ack"],
        at: note.at,
        raisedAt: alert.createdAt,
      });
    }

    // E-mail: one Message-ID per notification, the same on the retried message.
    const messageId = (raw: string) => /^Message-ID: (.*?)\r?$/im.exec(raw)?.[1];
    expect(smtp.refused).toHaveLength(1);
    expect(smtp.mail).toHaveLength(2);
    expect(smtp.mail.map((m) => messageId(m.raw)).sort()).toEqual(
      mailNotes.map((n) => `<${idOf(n)}@example.test>`).sort(),
    );
    expect(messageId(smtp.refused[0]?.raw ?? "")).toBe(`<${idOf(mailNotes[0] as { id: number })}@example.test>`);
    for (const m of smtp.mail) {
      expect(m.raw).toMatch(new RegExp(`^X-Overseer-Alert-Id: ${alert.id}\r?$`, "im"));
      expect(m.raw).toContain(`Alert: https://ops.example.com/overseer/alerts/${alert.id}`);
    }
  }, 60_000);
});
