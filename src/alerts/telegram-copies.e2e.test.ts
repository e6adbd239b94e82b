/**
 * Every Telegram copy of a request follows it once it is settled, whichever path settled it: an
 * approval request sent to two chats and approved through the HTTP API, an alert acknowledged
 * through the API and closed through the SDK, and a press in one chat all leave every copy
 * without buttons, saying what happened and by whom. In-process on loopback (a fake Bot API,
 * a real HTTP server), on SQLite and PostgreSQL.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createToken } from "../auth/tokens.js";
import { OverseerClient } from "../client/index.js";
import { parseConfig } from "../config/config.js";
import { defineTask } from "../core/task.js";
import { startHttpServer } from "../http/server.js";
import type { Overseer, OverseerOptions } from "../sdk/overseer.js";
import { type FakeTelegram, type SentMessage, startFakeTelegram, visibleText } from "../test-support/fake-telegram.js";
import { TEST_BACKEND, testDatabase } from "../test-support/test-backend.js";
import { waitFor } from "../test-support/wait.js";
import { SOURCES_CURSOR } from "./sources.js";
import { startTelegramDecisions, type TelegramDecisions } from "./telegram-decisions.js";

const APPROVER = 111;
const GROUP = "-100200300";
const DIRECT = 555;
const ANA = 777;

type Open = (options?: Omit<OverseerOptions, "database">) => Promise<Overseer>;

let telegram: FakeTelegram | null = null;
let decisions: TelegramDecisions | null = null;

afterEach(async () => {
  await decisions?.stop();
  await telegram?.close();
  decisions = telegram = null;
  delete process.env.COPIES_TG_TOKEN;
});

async function setup(open: Open, options: { bundle?: string } = {}) {
  telegram = await startFakeTelegram({ maxPollSeconds: 1 });
  process.env.COPIES_TG_TOKEN = telegram.token;
  const { alerts } = parseConfig(
    {
      alerts: {
        channels: {
          tg: {
            type: "telegram",
            chatId: GROUP,
            botToken: "env:COPIES_TG_TOKEN",
            approvers: [APPROVER],
            apiBaseUrl: telegram.url,
            timeout: "2s",
            bundle: { window: options.bundle ?? "0s" },
          },
        },
        people: { ana: { telegram: ANA } },
        policies: {
          // The group chat and a Telegram user directly: two copies of each request.
          approvers: { steps: [{ delay: "0s", notify: ["tg", `telegram:${DIRECT}`] }] },
          // The group chat and a person's Telegram contact.
          oncall: { steps: [{ delay: "0s", notify: ["tg", "person:ana:telegram"] }] },
        },
        rules: [{ when: "approval.pending", policy: "approvers" }],
      },
    },
    "copies",
  );
  const overseer = await open({ alerts });
  overseer.register(
    defineTask("deploy", async (_payload, ctx) => {
      const outcome = await ctx.requestApproval({ title: "Deploy api to production", timeout: "5m" });
      return { deployed: outcome.approved };
    }),
  );
  await overseer.worker({ maintenanceMs: 50, pollMs: 50 }).start();
  const server = await startHttpServer({ overseer, port: 0 });
  // Ana and Bo act through the API, each with a token of their own.
  const client = async (name: string) =>
    new OverseerClient({ url: server.url, token: (await createToken(overseer.store, name, "operator")).secret });
  const as = { ana: await client("ana"), bo: await client("bo") };
  return { overseer, tg: telegram, server, as };
}

/** The two copies, the group's first; each as sent. */
async function twoCopies(tg: FakeTelegram): Promise<[SentMessage, SentMessage]> {
  await waitFor("two Telegram copies", () => tg.sent.length === 2, { timeoutMs: 10_000 });
  const group = tg.sent.find((m) => String(m.chatId) === GROUP);
  const other = tg.sent.find((m) => String(m.chatId) !== GROUP);
  expect(group).toBeDefined();
  expect(other).toBeDefined();
  return [group as SentMessage, other as SentMessage];
}

/** Waits until the copy has no buttons and its last line is `line`; returns it as it stands. */
async function settledAs(tg: FakeTelegram, sent: SentMessage, line: string): Promise<SentMessage> {
  const now = await waitFor(
    `message ${sent.messageId} to say "${line}"`,
    () => {
      const m = tg.current(sent.messageId);
      return m && m.keyboard.length === 0 && m.text.endsWith(`\n\n${line}`) ? m : undefined;
    },
    { timeoutMs: 10_000 },
  );
  // The text as sent is kept; the line comes once, after it.
  expect(now.text).toBe(`${sent.text}\n\n${line}`);
  return now;
}

describe(`Telegram copies of a settled request (${TEST_BACKEND})`, () => {
  it("an approval sent to two chats and approved through the HTTP API: both copies lose their buttons and say who", async () => {
    const { overseer, tg, server, as } = await setup((await testDatabase("overseer-copies-")).open);
    try {
      const job = await overseer.enqueue("deploy", {});
      const [group, direct] = await twoCopies(tg);
      expect(String(direct.chatId)).toBe(String(DIRECT));
      const [approval] = await overseer.listApprovals({ jobId: job.id });
      const id = approval?.id as string;
      for (const m of [group, direct]) {
        expect(m.keyboard.flat().map((b) => b.callback_data)).toEqual([`approve:${id}`, `deny:${id}`]);
      }
      // Where each went is on the timeline.
      const [alert] = await overseer.listAlerts({ source: "approval" });
      await waitFor("both receipts", async () =>
        (await overseer.listAlertNotifications(alert?.id ?? "")).every((n) => n.receipt !== null),
      );
      expect(
        (await overseer.listAlertNotifications(alert?.id ?? "")).map((n) => [n.target, n.status, n.receipt]),
      ).toEqual([
        ["tg", "sent", { chatId: GROUP, messageId: group.messageId }],
        [`telegram:${DIRECT}`, "sent", { chatId: String(DIRECT), messageId: direct.messageId }],
      ]);

      await as.ana.approvals.decide(id, { decision: "approve" });
      await settledAs(tg, group, "✅ Approved by ana");
      await settledAs(tg, direct, "✅ Approved by ana");
      await waitFor("the job", async () => (await overseer.getJob(job.id))?.state === "succeeded");
      await waitFor("the alert to close", async () => (await overseer.getAlert(alert?.id ?? ""))?.status === "closed");
      await overseer.alertDelivery()?.copiesSettled();
      // One edit per copy: the alert's close that followed changed nothing more.
      expect(tg.textEdits.map((e) => e.messageId).sort()).toEqual([group.messageId, direct.messageId].sort());
      expect(overseer.alertDelivery()?.copies.failed).toBe(0);
      expect(tg.sent).toHaveLength(2);
    } finally {
      await server.close();
    }
  }, 40_000);

  it("an alert acknowledged through the API loses its Acknowledge button everywhere; its close says so after", async () => {
    const { overseer, tg, server, as } = await setup((await testDatabase("overseer-copies-")).open);
    try {
      const { alert } = await overseer.raiseAlert({ summary: "disk full on db-1", policy: "oncall" });
      const [group, ana] = await twoCopies(tg);
      expect(String(ana.chatId)).toBe(String(ANA));
      for (const m of [group, ana]) expect(m.keyboard.flat().map((b) => b.callback_data)).toEqual([`ack:${alert.id}`]);

      await as.bo.alerts.acknowledge(alert.id);
      await settledAs(tg, group, "👀 Acknowledged by bo");
      await settledAs(tg, ana, "👀 Acknowledged by bo");

      // The close replaces the line; it is not added under the first.
      await overseer.closeAlert(alert.id, "ana", { reason: "disk cleaned" });
      await settledAs(tg, group, "✔️ Closed by ana: disk cleaned");
      await settledAs(tg, ana, "✔️ Closed by ana: disk cleaned");

      // A copy Telegram no longer has (deleted, too old): logged and counted, the rest still edited.
      const again = await overseer.raiseAlert({ summary: "disk full on db-2", policy: "oncall" });
      await waitFor("two more copies", () => tg.sent.length === 4, { timeoutMs: 10_000 });
      const [lost, kept] = tg.sent.slice(2) as [SentMessage, SentMessage];
      // Both receipts stored first: a copy whose receipt is not yet written when the alert is
      // acknowledged is not among those edited.
      await waitFor("both receipts of the second alert", async () => {
        const sent = await overseer.listAlertNotifications(again.alert.id);
        return sent.length === 2 && sent.every((n) => n.receipt !== null);
      });
      tg.forget(lost.messageId);
      await as.bo.alerts.acknowledge(again.alert.id);
      await settledAs(tg, kept, "👀 Acknowledged by bo");
      await waitFor("the failure to be counted", () => overseer.alertDelivery()?.copies.failed === 1);
    } finally {
      await server.close();
    }
  }, 40_000);

  it("a press in one chat updates the other copy too, and the pressed one is settled once", async () => {
    const { overseer, tg, server } = await setup((await testDatabase("overseer-copies-")).open);
    try {
      decisions = startTelegramDecisions(overseer, { pollTimeoutSeconds: 1, backoffMs: 100 });
      const job = await overseer.enqueue("deploy", {});
      const [group, direct] = await twoCopies(tg);
      const [approval] = await overseer.listApprovals({ jobId: job.id });
      tg.press({ fromId: APPROVER, data: `approve:${approval?.id}`, messageId: group.messageId });
      await settledAs(tg, direct, `✅ Approved by telegram:${APPROVER}`);
      await settledAs(tg, group, `✅ Approved by telegram:${APPROVER}`);
      await waitFor("the answer", () => tg.answers.find((a) => a.text === "Approved"));
      await waitFor("the job", async () => (await overseer.getJob(job.id))?.state === "succeeded");
      await overseer.alertDelivery()?.copiesSettled();
      expect(overseer.alertDelivery()?.copies.failed).toBe(0);
    } finally {
      await server.close();
    }
  }, 40_000);

  it("an approval alert closed by hand keeps Approve / Deny while the request is pending; the SDK's denial settles them", async () => {
    const { overseer, tg, server, as } = await setup((await testDatabase("overseer-copies-")).open);
    try {
      const job = await overseer.enqueue("deploy", {});
      const [group, direct] = await twoCopies(tg);
      const [alert] = await overseer.listAlerts({ source: "approval" });
      await as.bo.alerts.close(alert?.id ?? "", { reason: "seen" });
      // A few passes later the close has been read, and the request can still be decided from Telegram.
      const seq = (await overseer.readEvents()).at(-1)?.seq ?? 0;
      await waitFor("the close to be read", async () => ((await overseer.store.getCursor(SOURCES_CURSOR)) ?? 0) >= seq);
      await overseer.alertDelivery()?.copiesSettled();
      for (const m of [group, direct]) expect(tg.current(m.messageId)).toEqual(m);

      const [approval] = await overseer.listApprovals({ jobId: job.id });
      await overseer.decideApproval(
        approval?.id as string,
        { decision: "deny", reason: "not on a Friday" },
        { name: "ana", scope: "operator" },
      );
      await settledAs(tg, group, "❌ Denied by ana: not on a Friday");
      await settledAs(tg, direct, "❌ Denied by ana: not on a Friday");
      await waitFor("the job", async () => (await overseer.getJob(job.id))?.state === "succeeded");
    } finally {
      await server.close();
    }
  }, 40_000);

  it("a bundle (several alerts in one message) has no buttons and no receipt; a lone message has both", async () => {
    // The second and third notifications must reach the channel within one window of the first
    // (leading-edge bundling, see bundler.ts); 5 s leaves room for a loaded machine, where 1 s did not.
    const { overseer, tg, server } = await setup((await testDatabase("overseer-copies-")).open, { bundle: "5s" });
    try {
      const first = await overseer.raiseAlert({ summary: "first", policy: "oncall" });
      const second = await overseer.raiseAlert({ summary: "second", policy: "oncall" });
      const third = await overseer.raiseAlert({ summary: "third", policy: "oncall" });
      const ids = [first, second, third].map((r) => r.alert.id);
      const sentAll = async () =>
        (await Promise.all(ids.map((id) => overseer.listAlertNotifications(id))))
          .flat()
          .filter((n) => n.target === "tg");
      await waitFor("every group notification sent", async () => (await sentAll()).every((n) => n.status === "sent"), {
        timeoutMs: 10_000,
      });
      const bundle = tg.sent.find((m) => String(m.chatId) === GROUP && visibleText(m).startsWith("2 alerts"));
      expect(bundle?.keyboard).toEqual([]);
      const receipts = new Map((await sentAll()).map((n) => [n.alertId, n.receipt]));
      const lone = tg.sent.find((m) => String(m.chatId) === GROUP && visibleText(m).split("\n")[0] === "first");
      expect(receipts.get(ids[0] as string)).toEqual({ chatId: GROUP, messageId: lone?.messageId });
      expect(receipts.get(ids[1] as string)).toBeNull();
      expect(receipts.get(ids[2] as string)).toBeNull();
    } finally {
      await server.close();
    }
  }, 40_000);
});
