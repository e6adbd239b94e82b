// The phone-callback service as one process: the HTTP routes on 127.0.0.1, a worker for the
// SMS, calls and maintenance, and the scheduler of the nightly clean-up and the weekday report.
// Start several on one database (PostgreSQL, or one SQLite file) and they share the work.
//
//   DATABASE         a SQLite file (default ./callback-requests.db) or a postgres:// URL
//   APP_PORT         the routes' port (default 7080; 0 picks a free port)
//   PUBLIC_URL       where the telephony provider reaches this service (default: the address it listens on)
//   TRUST_PROXY      more proxies (besides the loopback) whose X-Forwarded-For names the client, for the per-address limit
//                    (comma-separated addresses or CIDRs; default loopback)
//   CALLBACK_CONFIG  the businesses and limits (default: config.json next to this file)
//   TELEPHONY        fake (default: SMS and calls printed here) or twilio
//   FAKE_OUTCOME     how the fake's calls go: ringing (default), answered, no-answer, busy or failed
//   TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM, TWILIO_BASE_URL (https://api.twilio.com)
//   LEASE            how long a crashed node's job stays claimed before another node takes it (30s)
import { join } from "node:path";
import { loadConfig } from "./config.mjs";
import { FakeTelephony } from "./fake-telephony.mjs";
import { createCallbackService } from "./service.mjs";
import { CALL_OUTCOMES } from "./telephony.mjs";
import { TwilioTelephony } from "./twilio-telephony.mjs";

const env = process.env;

/** Errors and warnings on the terminal; the routine is quiet. */
const logger = {
  debug() {
    // quiet
  },
  info() {
    // quiet
  },
  warn(/** @type {any} */ fields, /** @type {string} */ message) {
    console.warn(`warning: ${message}`, fields?.err?.message ?? "");
  },
  error(/** @type {any} */ fields, /** @type {string} */ message) {
    console.error(`error: ${message}`, fields?.err ?? "");
  },
};

/** @returns {import("./telephony.mjs").Telephony} */
function telephonyFromEnv() {
  const kind = env.TELEPHONY ?? "fake";
  if (kind === "twilio") {
    const missing = ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM"].filter((name) => !env[name]);
    if (missing.length > 0) fail(`TELEPHONY=twilio needs ${missing.join(", ")}`);
    return new TwilioTelephony({
      accountSid: /** @type {string} */ (env.TWILIO_ACCOUNT_SID),
      authToken: /** @type {string} */ (env.TWILIO_AUTH_TOKEN),
      from: /** @type {string} */ (env.TWILIO_FROM),
      ...(env.TWILIO_BASE_URL ? { baseUrl: env.TWILIO_BASE_URL } : {}),
    });
  }
  if (kind !== "fake") fail(`TELEPHONY must be fake or twilio, not "${kind}"`);
  const outcome = /** @type {import("./telephony.mjs").CallOutcome} */ (env.FAKE_OUTCOME ?? "ringing");
  if (!CALL_OUTCOMES.includes(outcome)) fail(`FAKE_OUTCOME must be one of ${CALL_OUTCOMES.join(", ")}`);
  return new FakeTelephony({
    outcome,
    onSms: ({ to, body }) => console.log(`sms to ${to}: ${body}`),
    onCall: ({ to, context, outcome }) => {
      console.log(
        `call to ${to} (${context.business.name}, ${context.label}) for callback ${context.callbackId}: ${outcome}`,
      );
      if (outcome === "ringing") console.log(`  to take it: curl -s -X POST '${context.answerUrl}'`);
    },
  });
}

/** @param {string} message @returns {never} */
function fail(message) {
  console.error(`callback-requests: ${message}`);
  process.exit(2);
}

/** @param {string | undefined} value */
function leaseMs(value) {
  if (value === undefined) return 30_000;
  const match = /^(\d+)(ms|s|m)$/.exec(value);
  if (!match) fail(`LEASE must be a duration such as 30s, not "${value}"`);
  return Number(match[1]) * { ms: 1, s: 1_000, m: 60_000 }[/** @type {"ms" | "s" | "m"} */ (match[2])];
}

let config;
try {
  config = await loadConfig(env.CALLBACK_CONFIG ?? join(import.meta.dirname, "config.json"));
} catch (err) {
  fail(/** @type {Error} */ (err).message);
}
const lease = leaseMs(env.LEASE);
const service = await createCallbackService({
  database: env.DATABASE ?? "./callback-requests.db",
  config,
  telephony: telephonyFromEnv(),
  logger,
  ...(env.PUBLIC_URL ? { publicUrl: env.PUBLIC_URL } : {}),
  // The loopback stays trusted: the routes listen on it, for a proxy there.
  ...(env.TRUST_PROXY ? { trustProxy: `loopback,${env.TRUST_PROXY}` } : {}),
});
const url = await service.listen({ port: Number(env.APP_PORT ?? 7080) });
await service.startWorker({ leaseMs: lease, heartbeatMs: Math.min(5_000, Math.floor(lease / 3)) });
await service.startScheduler();
console.log(`callbacks on ${url}/callbacks`);

const stop = async () => {
  await service.close();
  console.log("stopped");
};
process.once("SIGINT", stop).once("SIGTERM", stop);
