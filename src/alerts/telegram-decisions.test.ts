import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../config/config.js";
import { pendingApproval } from "../test-support/approvals.js";
import { type FakeTelegram, startFakeTelegram } from "../test-support/fake-telegram.js";
import { tempDatabase } from "../test-support/temp-database.js";
import { waitFor } from "../test-support/wait.js";
import { startTelegramDecisions, type TelegramDecisions } from "./telegram-decisions.js";

let telegram: FakeTelegram | null = null;
let decisions: TelegramDecisions | null = null;

afterEach(async () => {
  await decisions?.stop();
  await telegram?.close();
  decisions = telegram = null;
  delete process.env.TD_TG_TOKEN;
});

async function setup() {
  telegram = await startFakeTelegram({ maxPollSeconds: 1 });
  process.env.TD_TG_TOKEN = telegram.token;
  const { alerts, runs } = parseConfig(
    {
      runs: {
        profiles: {
          gated: { command: "true", approvals: { beforeFirstTurn: "Start it?" }, completion: { exitCode: 0 } },
        },
      },
      alerts: {
        channels: {
          tg: { type: "telegram", chatId: 42, botToken: "env:TD_TG_TOKEN", approvers: [7], apiBaseUrl: telegram.url },
        },
      },
    },
    "test",
  );
  const overseer = await tempDatabase().open({ alerts, runs });
  decisions = startTelegramDecisions(overseer, { pollTimeoutSeconds: 1, backoffMs: 100 });
  return { overseer, tg: telegram };
}

describe("Telegram decisions", () => {
  it("is off without a Telegram channel", async () => {
    const overseer = await tempDatabase().open();
    expect(startTelegramDecisions(overseer)).toBeNull();
  });

  it("Acknowledge by a listed approver acknowledges the alert as telegram:<id>; a stranger's is refused and audited", async () => {
    const { overseer, tg } = await setup();
    const { alert } = await overseer.raiseAlert({ summary: "disk full" });
    tg.press({ fromId: 8, data: `ack:${alert.id}` });
    const refused = await waitFor("the audit event", async () =>
      (await overseer.readEvents()).find((e) => e.kind === "alert.refused"),
    );
    expect(refused.data).toMatchObject({ alertId: alert.id, userId: 8, action: "ack", channel: "tg" });
    tg.press({ fromId: 7, data: `ack:${alert.id}` });
    await waitFor("the ack", async () => (await overseer.getAlert(alert.id))?.status === "acknowledged");
    expect((await overseer.getAlert(alert.id))?.acknowledgedBy).toBe("telegram:7");
    await waitFor("the answer", () => tg.answers.find((a) => a.text === "Acknowledged"));
  });

  it("a press on a request decided elsewhere says so; Deny denies", async () => {
    const { overseer, tg } = await setup();
    const first = await pendingApproval(overseer);
    await overseer.decideApproval(first.id, { decision: "approve" }, { name: "ana", scope: "operator" });
    tg.press({ fromId: 7, data: `approve:${first.id}` });
    await waitFor("the answer", () => tg.answers.find((a) => a.text === "Already settled"));
    const second = await pendingApproval(overseer);
    tg.press({ fromId: 7, data: `deny:${second.id}` });
    await waitFor("the denial", async () => (await overseer.getApproval(second.id))?.state === "denied");
    expect((await overseer.getApproval(second.id))?.outcome).toMatchObject({
      approved: false,
      channel: "telegram",
      decidedBy: "telegram:7",
    });
  });

  it("Approve on a run's request decides it like a job's, and the run starts", async () => {
    const { overseer, tg } = await setup();
    const run = await overseer.startRun({ profile: "gated" });
    const [asked] = await overseer.listApprovals({ runId: run.id });
    tg.press({ fromId: 7, data: `approve:${asked?.id}` });
    await waitFor("the run to be queued", async () =>
      (await overseer.getRun(run.id))?.state === "queued" ? true : null,
    );
    expect((await overseer.getApproval(asked?.id ?? ""))?.outcome).toMatchObject({
      approved: true,
      channel: "telegram",
      decidedBy: "telegram:7",
    });
  });
});
