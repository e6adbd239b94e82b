/**
 * Issue 8's end-to-end test, in-process on loopback: a job asks for approval → the Telegram chat
 * (a fake Bot API) gets the request with buttons → nobody answers → after the step delay the
 * webhook receiver (verifying every signature) is notified → an unlisted user's press is refused
 * and audited → a listed user presses Approve → the job continues, the alert closes, the buttons
 * go, and escalation stops.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../config/config.js";
import type { ApprovalOutcome } from "../core/approval.js";
import { defineTask } from "../core/task.js";
import { type FakeTelegram, startFakeTelegram } from "../test-support/fake-telegram.js";
import { tempDatabase } from "../test-support/temp-database.js";
import { sleep, waitFor } from "../test-support/wait.js";
import { startWebhookReceiver, type WebhookReceiver } from "../test-support/webhook-receiver.js";
import { startTelegramDecisions, type TelegramDecisions } from "./telegram-decisions.js";

const APPROVER = 111;
const STRANGER = 999;
const HOOK_SECRET = "e2e-hook-secret";

let telegram: FakeTelegram | null = null;
let receiver: WebhookReceiver | null = null;
let decisions: TelegramDecisions | null = null;

afterEach(async () => {
  await decisions?.stop();
  await telegram?.close();
  await receiver?.close();
  decisions = telegram = receiver = null;
  delete process.env.E2E_TG_TOKEN;
  delete process.env.E2E_HOOK_SECRET;
});

describe("alerting end to end", () => {
  it("approval → Telegram → webhook after the step delay → refused stranger → Approve: job continues, escalation stops", async () => {
    telegram = await startFakeTelegram({ maxPollSeconds: 1 });
    receiver = await startWebhookReceiver(HOOK_SECRET);
    process.env.E2E_TG_TOKEN = telegram.token;
    process.env.E2E_HOOK_SECRET = HOOK_SECRET;
    const { alerts } = parseConfig(
      {
        alerts: {
          channels: {
            tg: {
              type: "telegram",
              chatId: "-100200300",
              botToken: "env:E2E_TG_TOKEN",
              approvers: [APPROVER],
              apiBaseUrl: telegram.url,
              timeout: "2s",
            },
            hook: { type: "webhook", url: receiver.url, secret: "env:E2E_HOOK_SECRET", timeout: "2s" },
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
        const outcome = await ctx.requestApproval({ title: "Deploy api to production", timeout: "5m" });
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
    expect(message.text).toContain("Deploy api to production");
    expect(message.keyboard.flat().map((b) => b.callback_data)).toEqual([`approve:${id}`, `deny:${id}`]);
    expect(hook.accepted).toHaveLength(0);

    // Nobody answers: after the 2 s step the webhook target is notified, signed.
    await waitFor("the webhook delivery", () => hook.accepted.length === 1, { timeoutMs: 10_000 });
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1_500);
    expect(hook.rejected).toEqual([]);
    expect(hook.accepted[0]).toMatchObject({
      version: 1,
      channel: "hook",
      notification: { kind: "approval", id, title: "Approval needed: Deploy api to production" },
    });

    // Someone not listed presses Approve: refused, audited, nothing decided.
    telegram.press({ fromId: STRANGER, data: `approve:${id}`, messageId: message.messageId });
    await waitFor("the refusal", () => tg.answers.find((a) => a.text?.startsWith("Not allowed")), { timeoutMs: 5_000 });
    const refused = await waitFor("the audit event", async () =>
      (await overseer.readEvents()).find((e) => e.kind === "approval.refused"),
    );
    expect(refused.data).toMatchObject({ approvalId: id, userId: STRANGER, action: "approve" });
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
    expect(tg.sent).toHaveLength(1);
    expect(hook.accepted).toHaveLength(1);
    const timeline = await overseer.listAlertNotifications(alert?.id ?? "");
    expect(timeline.map((n) => [n.target, n.status])).toEqual([
      ["tg", "sent"],
      ["hook", "sent"],
    ]);
  }, 40_000);
});
