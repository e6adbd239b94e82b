// The work behind a callback request, as Overseer tasks. `call` is a durable handler: it rings
// the business's numbers in turn (primary, backup 1, backup 2), each ring a step that happens
// once, and waits for the ringing number to take the call (a signal from the answer route) up to
// the business's `answerWithin`, parked meanwhile. A round of the chain that nobody takes fails
// the attempt, so the next round starts after the retry schedule's delay (1m, 5m, 15m); once the
// last attempt fails the job is dead, and the platform queues `sms-fallback` with it, in the same
// transaction. `sms-fallback` reads only the dead call's payload and the error's code and message,
// so the calls queue's circuit breaker (service.mjs), which diverts new calls to it with
// CIRCUIT_OPEN while calls keep failing, is handled alike. Every SMS goes through `sms`, which
// caps texts per phone per day.
import { defineTask, PermanentError } from "overseer";
import { codeFor } from "./secrets.mjs";

/** The signal the answer route sends when a ringing number takes the call. */
export const ANSWERED = "callback.answered";

const DAY_MS = 86_400_000;

/**
 * @typedef {import("./config.mjs").CallbackConfig} CallbackConfig
 * @typedef {import("./config.mjs").Business} Business
 * @typedef {import("./requests.mjs").CallbackRequests} CallbackRequests
 * @typedef {import("./requests.mjs").CallbackRequest} CallbackRequest
 * @typedef {import("./requests.mjs").JobSpec} JobSpec
 * @typedef {{ callbackId: string, business: string, phone: string, name: string | null }} CallPayload
 * @typedef {{ to: string, body: string } | { to: string, code: { callbackId: string, business: string } }} SmsPayload
 * @typedef {{
 *   config: CallbackConfig,
 *   telephony: import("./telephony.mjs").Telephony,
 *   requests: CallbackRequests,
 *   secret: string,
 *   answerUrl: (callbackId: string, ring: string) => string,
 *   now: () => Promise<number>,
 * }} TaskDeps
 */

/**
 * The job of an SMS to `to`: at most `smsPerPhonePerDay` start per UTC day for one phone, and
 * over that the SMS waits for the next day (Overseer's rate limit throttles, it never refuses).
 * @param {CallbackConfig} config
 * @param {SmsPayload} payload
 * @param {string} [idempotencyKey]
 * @returns {JobSpec}
 */
export function smsJob(config, payload, idempotencyKey) {
  return {
    task: "sms",
    payload,
    options: {
      rateLimit: { key: `sms:${payload.to}`, limit: config.smsPerPhonePerDay, period: "1d" },
      ...(idempotencyKey ? { idempotencyKey, idempotencyTtl: "30d" } : {}),
    },
  };
}

/**
 * The call job of a verified request: VIP numbers first; at most `concurrentCalls` of the
 * business's calls in progress (the rest wait their turn); at most `callsPerDay` started per UTC
 * day (the rest wait for the next day).
 * @param {Business} business
 * @param {CallbackRequest} request
 * @returns {JobSpec}
 */
export function callJob(business, request) {
  /** @type {CallPayload} */
  const payload = { callbackId: request.id, business: business.id, phone: request.phone, name: request.name };
  return {
    task: "call",
    payload,
    options: {
      priority: business.vip.has(request.phone) ? "high" : "default",
      concurrency: { key: `business:${business.id}`, limit: business.concurrentCalls, onLimit: "wait" },
      rateLimit: { key: `calls:${business.id}`, limit: business.callsPerDay, period: "1d" },
    },
  };
}

/** A round of the chain in which nobody took the call: retried after the schedule's next delay. */
class NotAnswered extends Error {
  code = "NOT_ANSWERED";

  /**
   * @param {Business} business
   * @param {string[]} tried
   */
  constructor(business, tried) {
    super(`nobody at ${business.name} took the call: ${tried.join(", ")}`);
    this.name = "NotAnswered";
  }
}

/**
 * The example's tasks, bound to their services.
 * @param {TaskDeps} deps
 */
export function callbackTasks({ config, telephony, requests, secret, answerUrl, now }) {
  /** @param {string} id */
  const businessOf = (id) => {
    const business = config.businesses.get(id);
    if (!business) throw new PermanentError(`no business "${id}" in the config any more`, { code: "UNKNOWN_BUSINESS" });
    return business;
  };

  const sms = defineTask(
    "sms",
    async (/** @type {SmsPayload} */ payload, ctx) => {
      // A code's text is made as it is sent, so the code is never stored (secrets.mjs).
      const body =
        "code" in payload
          ? `${codeFor(secret, payload.code.callbackId)} is your code to confirm the callback from ` +
            `${businessOf(payload.code.business).name}. It is valid for ${Math.round(config.codeValidForMs / 60_000)} minutes.`
          : payload.body;
      await telephony.sendSms(payload.to, body, ctx.signal);
      return { to: payload.to, sent: true };
    },
    { queue: "sms", maxAttempts: 5, backoff: { type: "exponential", base: "10s", cap: "10m" }, timeout: "1m" },
  );

  /**
   * @param {CallPayload} call
   * @param {string} label
   */
  const answered = async (call, label) => {
    await requests.finish(call.callbackId, { status: "answered", answeredBy: label, now: await now() });
    return { answeredBy: label };
  };

  const callTask = defineTask(
    "call",
    async (/** @type {CallPayload} */ call, ctx) => {
      const business = businessOf(call.business);
      // Every execution replays the rounds before it from their stored steps and waits, in the
      // same order (as a durable handler must), and goes on with the first one not finished.
      for (let round = 1; ; round++) {
        /** @type {string[]} */
        const tried = [];
        for (const [i, { label, number }] of business.chain.entries()) {
          const ring = `${round}.${i + 1}`;
          const placed = await ctx.step(`ring ${ring}`, async () => {
            await requests.ringing(call.callbackId, { job: ctx.job.id, ring, label });
            const outcome = await telephony.call(
              number,
              {
                callbackId: call.callbackId,
                business: { id: business.id, name: business.name },
                label,
                ring,
                visitor: { phone: call.phone, name: call.name },
                answerUrl: answerUrl(call.callbackId, ring),
              },
              ctx.signal,
            );
            return { label, outcome };
          });
          if (placed.outcome === "answered") return answered(call, label);
          if (placed.outcome === "ringing") {
            const taken = await ctx.waitForEvent(ANSWERED, {
              match: { callbackId: call.callbackId, ring },
              timeout: business.answerWithin,
            });
            if (taken !== null) return answered(call, label);
            tried.push(`${label} did not take it within ${business.answerWithin}`);
          } else {
            tried.push(`${label} ${placed.outcome}`);
          }
        }
        // The round's end is a step too: an execution that replays it knows its attempt already
        // failed (and was retried), and goes on to the next round instead of failing again.
        let endedNow = false;
        await ctx.step(`round ${round} unanswered`, () => {
          endedNow = true;
          return tried;
        });
        if (endedNow) throw new NotAnswered(business, tried);
      }
    },
    {
      queue: "calls",
      maxAttempts: 4,
      backoff: ["1m", "5m", "15m"],
      concurrency: { limit: 3, onLimit: "wait" },
      timeout: "2m",
      onDead: "sms-fallback",
    },
  );

  const smsFallback = defineTask(
    "sms-fallback",
    async (/** @type {{ payload: CallPayload, error: { code: string, message: string } }} */ dead, ctx) => {
      const call = dead.payload;
      const business = config.businesses.get(call.business);
      const status = dead.error.code === "NOT_ANSWERED" ? "unanswered" : "failed";
      const reach = `You can reach them on ${business?.chain[0]?.number}.`;
      const body = !business
        ? "Sorry, we could not call you back just now."
        : dead.error.code === "CIRCUIT_OPEN" // SMS-only mode: the call was never placed (service.mjs)
          ? `Sorry, ${business.name} cannot call you back just now. ${reach}`
          : `Sorry, nobody at ${business.name} could call you back just now. ${reach}`;
      // This job's own id as the SMS's key: running this job again sends no second SMS, while
      // another death of the call (after a retry by hand) gets a job, and an SMS, of its own.
      const job = await requests.finish(
        call.callbackId,
        { status, error: { code: dead.error.code, message: dead.error.message }, now: await now() },
        smsJob(config, { to: call.phone, body }, `sms-fallback:${ctx.job.id}`),
      );
      return { status, sms: job?.id ?? null };
    },
    { queue: "sms", maxAttempts: 5, backoff: { type: "exponential", base: "10s", cap: "10m" } },
  );

  const cleanup = defineTask(
    "cleanup",
    async (_payload, ctx) => {
      const before = (await now()) - DAY_MS;
      const removed = await requests.removeUnverified(before);
      await ctx.log("removed unverified callback requests", { removed, before: new Date(before).toISOString() });
      return { removed, before: new Date(before).toISOString() };
    },
    { queue: "maintenance", maxAttempts: 3 },
  );

  const dailyReport = defineTask(
    "daily-report",
    async (_payload, ctx) => {
      // Yesterday as the tick saw it (the job may run late), in the config's time zone.
      const tick = Date.parse(ctx.job.runAt);
      const day = localDate(tick - DAY_MS, config.timezone);
      const ended = (await requests.finishedBetween(tick - 3 * DAY_MS, tick)).filter(
        (r) => localDate(r.finishedAt, config.timezone) === day,
      );
      const total = { answered: 0, unanswered: 0, failed: 0 };
      /** @type {Record<string, typeof total>} */
      const businesses = {};
      for (const { business, status } of ended) {
        if (status !== "answered" && status !== "unanswered" && status !== "failed") continue;
        businesses[business] ??= { answered: 0, unanswered: 0, failed: 0 };
        businesses[business][status]++;
        total[status]++;
      }
      await ctx.log(`calls on ${day}`, { ...total });
      return { day, timezone: config.timezone, total, businesses };
    },
    { queue: "maintenance", maxAttempts: 3 },
  );

  return [sms, callTask, smsFallback, cleanup, dailyReport];
}

/**
 * The date (YYYY-MM-DD) at `ms` in `timezone`.
 * @param {number} ms
 * @param {string} timezone
 */
export function localDate(ms, timezone) {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone: timezone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(ms);
}

/**
 * The recurring tasks, as `overseer.scheduler({ schedules })` takes them.
 * @param {CallbackConfig} config
 */
export function schedulesOf(config) {
  return {
    "nightly-cleanup": { cron: "0 2 * * *", task: "cleanup", timezone: config.timezone },
    "weekday-report": { cron: "0 9 * * 1-5", task: "daily-report", timezone: config.timezone },
  };
}
