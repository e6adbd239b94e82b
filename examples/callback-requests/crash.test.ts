// A node killed in the middle of a call's last attempt, on the test backend: the first three
// attempts fail here (on a clock an hour behind, so that the last one is due at once in real
// time), the last runs in app.mjs as a process of its own, placing its call through the Twilio
// provider to a fake Twilio that never answers, and the process is SIGKILLed there. Once its
// lease lapses another node finds the job dead, and the visitor gets exactly one SMS.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it, onTestFinished } from "vitest";
import { watchProcess } from "../../src/test-support/cli.js";
import { testDatabase } from "../../src/test-support/test-backend.js";
import { startFakeTwilio } from "./fake-twilio.js";
import { eventually, FAST, jobWhen, MINUTE, requestCallback, startService, TEST_CONFIG } from "./harness.js";

const APP = join(import.meta.dirname, "app.mjs");
const BAKERY = "+12025550110";

it("a node SIGKILLed during a call's last attempt: one SMS to the visitor once its lease lapses", async () => {
  const db = await testDatabase("callback-crash-");
  const dir = mkdtempSync(join(tmpdir(), "callback-crash-"));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const visitor = "+12025554001";

  // Attempts 1 to 3, here.
  const first = await startService(db.database, { at: Date.now() - 60 * MINUTE });
  first.telephony.neverAnswers(BAKERY);
  await first.service.startWorker(FAST);
  const { id, job } = await requestCallback(first, "corner-bakery", visitor);
  for (const attempt of [1, 2, 3]) {
    const failed = await jobWhen(first.service, job, `attempt ${attempt} to fail`, (j) => {
      return j.state === "scheduled" && j.attempts === attempt;
    });
    if (attempt < 3) first.clock.now = Date.parse(failed.runAt);
  }
  await first.service.close();

  // Attempt 4, in app.mjs, whose call hangs at the provider until the process is killed.
  const twilio = await startFakeTwilio();
  twilio.reply("Calls", "hang");
  const config = join(dir, "config.json");
  writeFileSync(config, JSON.stringify(TEST_CONFIG));
  const child = spawn(process.execPath, [APP], {
    env: {
      ...process.env,
      DATABASE: db.database,
      APP_PORT: "0",
      CALLBACK_CONFIG: config,
      TELEPHONY: "twilio",
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_FROM: "+12025550199",
      TWILIO_BASE_URL: twilio.url,
      LEASE: "1s",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const app = watchProcess(child, () => child.kill("SIGKILL"));
  onTestFinished(async () => {
    await app.stop();
  });
  await eventually(
    "app.mjs to start and place the last attempt's call",
    () => {
      if (child.exitCode !== null) throw new Error(`app.mjs exited: ${app.stderr()}`);
      return (
        app.stdout().includes("callbacks on http://127.0.0.1:") && twilio.requests.some((r) => r.resource === "Calls")
      );
    },
    { timeoutMs: 20_000 },
  );
  await app.stop(); // SIGKILL
  expect(twilio.requests.map((r) => [r.resource, r.authorized, r.form.To])).toEqual([["Calls", true, BAKERY]]);

  // Another node, on the real clock: the lease lapses, the job is dead, the fallback goes out once.
  const recovery = await startService(db.database, { at: "real" });
  await recovery.service.startWorker(FAST);
  const dead = await jobWhen(recovery.service, job, "the call to die", (j) => j.state === "dead", 20_000);
  expect(dead).toMatchObject({ attempts: 4, lastError: { code: "LEASE_EXPIRED" } });
  await eventually("the fallback's SMS", () => recovery.telephony.smsTo(visitor).length === 1, { timeoutMs: 10_000 });
  // Settled in the database: one fallback job, one fallback SMS job, both done.
  const done = await eventually("the fallback jobs to finish", async () => {
    const [fallbacks, sms] = await Promise.all([
      recovery.service.overseer.listJobs({ task: "sms-fallback" }),
      recovery.service.overseer.listJobs({ task: "sms" }),
    ]);
    return [...fallbacks, ...sms].every((j) => j.state === "succeeded") ? { fallbacks, sms } : null;
  });
  expect(done.fallbacks).toHaveLength(1);
  expect(done.sms).toHaveLength(2); // the code, then the fallback
  expect(recovery.telephony.smsTo(visitor).map((s) => s.body)).toEqual([
    "Sorry, nobody at Corner Bakery could call you back just now. You can reach them on +12025550110.",
  ]);
  expect(await recovery.service.requests.get(id)).toMatchObject({ status: "failed", error: { code: "LEASE_EXPIRED" } });
  const deadEvent = (await recovery.service.overseer.readEvents({ jobId: job })).find((e) => e.kind === "job.dead");
  expect(deadEvent?.data).toMatchObject({ reason: "lease_expired", followUp: done.fallbacks[0]?.id });
  expect(twilio.requests.filter((r) => r.resource === "Messages")).toEqual([]);
});
