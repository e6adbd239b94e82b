/**
 * On call end to end, on the test backend (SQLite, and PostgreSQL in the second run), with the
 * store's clock injected and moved across a handoff: jobs die for real in a worker, the config's
 * rules route them by business hours, and the pages go over HTTP to a fake Twilio API.
 *
 * Tuesday 8 January 2030, Europe/Berlin: alice is on call until the 09:00 handoff to bob.
 * - 08:55, after hours: a job dies; the after-hours policy texts whoever is on call: alice.
 * - 09:01: the handoff has made bob on call; an override puts carol in his place.
 * - 09:06: the policy's next step calls whoever is on call by voice: carol.
 * - 09:06, business hours: another job dies; the daytime policy texts the desk's phone.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../config/config.js";
import { PermanentError } from "../core/errors.js";
import { defineTask } from "../core/task.js";
import { type FakeTwilio, startFakeTwilio } from "../test-support/fake-twilio.js";
import { TEST_BACKEND, testDatabase } from "../test-support/test-backend.js";
import { waitFor } from "../test-support/wait.js";

const FROM = "+14155550100";
const DESK = "+14155550199";
const PHONES = { alice: "+4915100000001", bob: "+4915100000002", carol: "+4915100000003" };

let twilio: FakeTwilio | null = null;

afterEach(async () => {
  await twilio?.close();
  twilio = null;
  delete process.env.ONCALL_TEST_TOKEN;
});

function config(fake: FakeTwilio) {
  const provider = { url: fake.url, accountSid: fake.accountSid, authToken: "env:ONCALL_TEST_TOKEN" };
  return parseConfig(
    {
      alerts: {
        dashboardUrl: "https://ops.example.com",
        channels: {
          texts: { type: "sms", provider, from: FROM, bundle: { window: "0s" } },
          calls: { type: "voice", provider, from: FROM },
          desk: { type: "sms", provider, from: FROM, to: DESK, bundle: { window: "0s" } },
        },
        people: {
          alice: { phone: PHONES.alice },
          bob: { phone: PHONES.bob },
          carol: { phone: PHONES.carol },
        },
        timeWindows: {
          "business-hours": { timezone: "Europe/Berlin", days: "mon-fri", from: "09:00", to: "17:00" },
        },
        rotations: {
          primary: { people: ["alice", "bob"], shift: "1d", start: "2030-01-07T09:00", timezone: "Europe/Berlin" },
        },
        policies: {
          daytime: { steps: [{ delay: "0m", notify: ["desk"] }] },
          "after-hours": {
            steps: [
              { delay: "0m", notify: ["rotation:primary:sms"] },
              { delay: "10m", notify: ["rotation:primary:voice"] },
            ],
          },
        },
        rules: [
          { when: "job.dead", during: "business-hours", policy: "daytime" },
          { when: "job.dead", policy: "after-hours" },
        ],
      },
    },
    "test",
  ).alerts;
}

describe(`on call across a handoff (${TEST_BACKEND})`, () => {
  it("pages the rotation's person by text after hours, an override takes over, the next step calls them; business hours go to the daytime policy", async () => {
    const fake = await startFakeTwilio();
    twilio = fake;
    process.env.ONCALL_TEST_TOKEN = fake.authToken;
    let now = Date.parse("2030-01-08T07:55:00Z"); // 08:55 in Berlin
    const overseer = await (await testDatabase("overseer-oncall-")).open({ alerts: config(fake), clock: () => now });
    const failing = (name: string) =>
      defineTask(name, () => Promise.reject(new PermanentError(`${name} failed`)), { maxAttempts: 1 });
    overseer.register(failing("nightly-export"), failing("daily-report"));
    // The rules read the event log from where they first look: before the first job dies.
    await overseer.alertSources()?.pass();
    await overseer.worker({ maintenanceMs: 50, pollMs: 20 }).start();
    const sendsDone = () =>
      waitFor(
        "every send job finished",
        async () =>
          (await overseer.listJobs({ task: "overseer.notify", states: ["scheduled", "queued", "running"] })).length ===
          0,
        { timeoutMs: 30_000 },
      );

    // 08:55, after hours: alice is on call.
    expect((await overseer.oncall())[0]).toMatchObject({ now: { person: "alice" }, next: { person: "bob" } });
    await overseer.enqueue("nightly-export", {});
    await waitFor("the text to alice", () => fake.messages.length === 1, { timeoutMs: 30_000 });
    const [night] = await overseer.listAlerts({ source: "job.dead" });
    expect(night?.policy?.name).toBe("after-hours");
    expect(fake.messages[0]).toMatchObject({ to: PHONES.alice, from: FROM });
    expect(fake.messages[0]?.body).toContain("Jobs dead-lettered: task nightly-export");

    // The clock jumps minutes at once: a send still running then would outlive its lease and run again.
    await sendsDone();
    // 09:01: the handoff made bob on call; carol takes over from him.
    now = Date.parse("2030-01-08T08:01:00Z");
    expect((await overseer.oncall())[0]?.now.person).toBe("bob");
    const swap = await overseer.overrideOncall({
      rotation: "primary",
      person: "carol",
      for: "2h",
      reason: "bob is on a train",
      by: "bob",
    });
    expect((await overseer.oncall())[0]).toMatchObject({
      now: { person: "carol", override: { id: swap.id } },
      next: { person: "bob", at: "2030-01-08T10:01:00.000Z" },
    });

    // 09:06: the second step (10 minutes after the first) is due: it calls carol.
    await sendsDone();
    now = Date.parse("2030-01-08T08:06:00Z");
    await waitFor("the call to carol", () => fake.calls.length === 1, { timeoutMs: 30_000 });
    expect(fake.calls[0]).toMatchObject({ to: PHONES.carol, from: FROM });
    const timeline = await waitFor("both sends recorded", async () => {
      const all = await overseer.listAlertNotifications(night?.id as string);
      return all.length === 2 && all.every((n) => n.status === "sent") ? all : undefined;
    });
    expect(timeline.map((n) => [n.step, n.target, n.at])).toEqual([
      [0, "person:alice:sms", "2030-01-08T07:55:00.000Z"],
      [1, "person:carol:voice", "2030-01-08T08:06:00.000Z"],
    ]);
    const escalated = (await overseer.readEvents()).filter((e) => e.kind === "alert.escalated").map((e) => e.data);
    expect(escalated.map((d) => d.onCall)).toEqual([
      [{ rotation: "primary", person: "alice", overrideId: null }],
      [{ rotation: "primary", person: "carol", overrideId: swap.id }],
    ]);

    // Business hours: the daytime policy texts the desk, and nobody on call is paged.
    await overseer.enqueue("daily-report", {});
    await waitFor("the text to the desk", () => fake.messages.length === 2, { timeoutMs: 30_000 });
    expect(fake.messages[1]).toMatchObject({ to: DESK });
    expect(fake.messages[1]?.body).toContain("Jobs dead-lettered: task daily-report");
    const day = (await overseer.listAlerts({ source: "job.dead" })).find((a) => a.id !== night?.id);
    expect(day?.policy?.name).toBe("daytime");
    expect(fake.calls).toHaveLength(1);
    expect(fake.messages.map((m) => m.to)).toEqual([PHONES.alice, DESK]);
  }, 120_000);
});
