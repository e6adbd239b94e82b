/**
 * Alerts reaching phones through the queue, on the test backend (SQLite, and PostgreSQL in the
 * second run): a policy texting a person at its first step and calling them at its next, a
 * refused text falling back to the `sms` channel's fallback, and rate limits and bundling
 * holding for `sms` channels (a team phone's, and each person's). Every text and call goes over
 * HTTP to a fake Twilio API on loopback.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../config/config.js";
import { type FakeTwilio, startFakeTwilio } from "../test-support/fake-twilio.js";
import { TEST_BACKEND, testDatabase } from "../test-support/test-backend.js";
import { waitFor } from "../test-support/wait.js";

const ALICE = "+4915112345678";
const FROM = "+14155550100";
const DESK = "+14155550199";

let twilio: FakeTwilio | null = null;

afterEach(async () => {
  await twilio?.close();
  twilio = null;
  delete process.env.PHONE_TEST_TOKEN;
});

/** An Overseer on the test backend whose `sms` and `voice` channels send to a fake Twilio. */
async function phoneOverseer(channels: Record<string, object>, policy: object) {
  const fake = await startFakeTwilio();
  twilio = fake;
  process.env.PHONE_TEST_TOKEN = fake.authToken;
  const provider = { url: fake.url, accountSid: fake.accountSid, authToken: "env:PHONE_TEST_TOKEN" };
  const { alerts } = parseConfig(
    {
      alerts: {
        dashboardUrl: "https://ops.example.com",
        channels: Object.fromEntries(
          Object.entries(channels).map(([name, c]) => [name, { provider, from: FROM, timeout: "2s", ...c }]),
        ),
        people: { alice: { phone: ALICE } },
        policies: { p: policy },
      },
    },
    "test",
  );
  const overseer = await (await testDatabase("overseer-phone-")).open({ alerts });
  await overseer.worker({ maintenanceMs: 50, pollMs: 20 }).start();
  return { overseer, fake };
}

describe(`alert delivery to phones (${TEST_BACKEND})`, () => {
  it("texts alice at the first step and calls her at the next, each a notification of its own", async () => {
    const { overseer, fake } = await phoneOverseer(
      { texts: { type: "sms", bundle: { window: "0s" } }, calls: { type: "voice" } },
      {
        steps: [
          { delay: "0s", notify: ["person:alice:sms"] },
          { delay: "1s", notify: ["person:alice:voice"] },
        ],
      },
    );
    // The first text is refused once with a 500, and retried.
    fake.failNext({ status: 500, code: 20500, message: "Internal Server Error" });
    const { alert } = await overseer.raiseAlert({ summary: "Disk full on db-1", policy: "p" });
    const timeline = await waitFor(
      "the text and the call sent",
      async () => {
        const all = await overseer.listAlertNotifications(alert.id);
        return all.length === 2 && all.every((n) => n.status === "sent") ? all : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(timeline.map((n) => [n.step, n.target, n.status])).toEqual([
      [0, "person:alice:sms", "sent"],
      [1, "person:alice:voice", "sent"],
    ]);
    expect(fake.messages.map((m) => [m.from, m.to, m.body])).toEqual([
      [FROM, ALICE, `[Overseer] Disk full on db-1\nhttps://ops.example.com/alerts/${alert.id}`],
    ]);
    const sent = "This is Overseer. An alert: Disk full on db-1. Acknowledge it on the dashboard.";
    expect(fake.calls.map((c) => [c.from, c.to, c.said])).toEqual([[FROM, ALICE, [sent, sent]]]);
    // Two attempts at the text (500, then 201), one at the call (the retry may come after the call).
    const attempts = (resource: string) =>
      fake.requests.filter((r) => r.path.endsWith(`/${resource}.json`)).map((r) => r.status);
    expect(attempts("Messages")).toEqual([500, 201]);
    expect(attempts("Calls")).toEqual([201]);
    // Nothing went to a channel's own number: these channels have none.
    expect([...fake.messages, ...fake.calls].every((m) => m.to === ALICE)).toBe(true);
  }, 30_000);

  it("a text refused for good (an invalid number) falls back at once to the sms channel's fallback", async () => {
    const { overseer, fake } = await phoneOverseer(
      { texts: { type: "sms", fallback: "desk-phone" }, "desk-phone": { type: "voice", to: DESK } },
      { steps: [{ delay: "0s", notify: ["person:alice:sms"] }] },
    );
    fake.failNext({ status: 400, code: 21211, message: `The 'To' number ${ALICE} is not a valid phone number.` });
    const { alert } = await overseer.raiseAlert({ summary: "Queue backed up", policy: "p" });
    const timeline = await waitFor("the fallback sent", async () => {
      const all = await overseer.listAlertNotifications(alert.id);
      return all.length === 2 && all[1]?.status === "sent" ? all : undefined;
    });
    expect(timeline.map((n) => [n.step, n.target, n.status, n.fallbackFor])).toEqual([
      [0, "person:alice:sms", "failed", null],
      [0, "desk-phone", "sent", timeline[0]?.id],
    ]);
    expect(timeline[0]?.error).toBe(
      // The number is masked to its last four digits: viewers read the timeline.
      `sms via twilio at ${fake.url}: HTTP 400, error 21211, The 'To' number +…5678 is not a valid phone number.`,
    );
    expect(fake.messages).toEqual([]);
    expect(fake.calls.map((c) => c.to)).toEqual([DESK]);
    // Refused for good: one attempt, no retry.
    expect(fake.requests.filter((r) => r.path.endsWith("/Messages.json"))).toHaveLength(1);
  });

  it("bundles a burst to a person's phone: 5 alerts, 2 texts, every notification sent", async () => {
    const { overseer, fake } = await phoneOverseer(
      { texts: { type: "sms", bundle: { window: "500ms" } } },
      { steps: [{ delay: "0s", notify: ["person:alice:sms"] }] },
    );
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await overseer.raiseAlert({ summary: `burst ${i}`, policy: "p" })).alert.id);
    for (const id of ids) {
      await waitFor("every send", async () => (await overseer.listAlertNotifications(id))[0]?.status === "sent");
    }
    expect(fake.messages).toHaveLength(2);
    expect(fake.messages[0]?.body).toBe(`[Overseer] burst 0\nhttps://ops.example.com/alerts/${ids[0]}`);
    expect(fake.messages[1]?.body).toBe("[Overseer] 4 alerts: burst 1\n- burst 1\n- burst 2\n- burst 3\n- burst 4");
    expect(fake.messages.every((m) => m.to === ALICE)).toBe(true);
  });

  it("holds a team phone's texts to its rate limit: what is over it waits and goes as one", async () => {
    const { overseer, fake } = await phoneOverseer(
      { "team-sms": { type: "sms", to: DESK, rateLimit: { max: 1, per: "3s" }, bundle: { window: "0s" } } },
      { steps: [{ delay: "0s", notify: ["team-sms"] }] },
    );
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await overseer.raiseAlert({ summary: `flood ${i}`, policy: "p" })).alert.id);
    for (const id of ids) {
      await waitFor("every send", async () => (await overseer.listAlertNotifications(id))[0]?.status === "sent", {
        timeoutMs: 15_000,
      });
    }
    expect(fake.messages.map((m) => [m.to, m.body])).toEqual([
      [DESK, `[Overseer] flood 0\nhttps://ops.example.com/alerts/${ids[0]}`],
      [DESK, "[Overseer] 2 alerts: flood 1\n- flood 1\n- flood 2"],
    ]);
  }, 30_000);
});
