// The work behind a callback request, as Overseer tasks. `call` is a durable handler: it rings
// the business's numbers in turn (primary, backup 1, backup 2), each ring a step that happens
// once, and waits for the ringing number to take the call (a signal from the answer route) up to
// the business's `answerWithin`, parked meanwhile. A round of the chain that nobody takes fails
// the attempt, so the next round starts after the retry schedule's delay (1m, 5m, 15m); once the
// last attempt fails the job is dead, and the platform queues `sms-fallback` with it, in the same
// transaction. `sms-fallback` reads only the dead call's payload and the error's code and message,
// so the calls queue's circuit breaker (service.mjs), which diverts new calls to it with
// CIRCUIT_OPEN while calls keep failing, is handled alike. Every SMS goes through `sms`; a
// code's has no rate limit (POST /callbacks caps the codes a phone gets a day), a fallback's has
// one of its own per phone.
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
 * The job of a verification code's SMS. No rate limit: POST /callbacks is the cap (a phone's
 * requests per UTC day, refused with 429 past it), because a platform rate limit counts each
 * attempt, so a code retried during an outage would use up places and push a later code to the
 * next day, when it is no use.
 * @param {{ to: string, callbackId: string, business: string }} code
 * @returns {JobSpec}
 */
export function codeSmsJob({ to, callbackId, business }) {
  return { task: "sms", payload: { to, code: { callbackId, business } } };
}

/**
 * The job of a fallback SMS to `to`: at most `smsPerPhonePerDay` attempts start per UTC day for
 * one phone (a key of its own, apart from the codes), and over that the SMS waits for the next
 * day (Overseer's rate limit throttles, it never refuses).
 * @param {CallbackConfig} config
 * @param {{ to: string, body: string }} payload
 * @param {string} [idempotencyKey]
 * @returns {JobSpec}
 */
export function fallbackSmsJob(config, payload, idempotencyKey) {
  return {
    task: "sms",
    payload,
    options: {
      rateLimit: { key: `fallback:${payload.to}`, limit: config.smsPerPhonePerDay, period: "1d" },
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

/** The error code of a round nobody took: a business not picking up, not a provider failing. */
export const NOT_ANSWERED = "NOT_ANSWERED";

/** A round of the chain in which nobody took the call: retried after the schedule's next delay. */
class NotAnswered extends Error {
  code = NOT_ANSWERED;

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
                answerWithinMs: business.answerWithinMs,
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
        // failed (and was retried), and goes on to the next round instead of failing again. No
        // ring is on from here to the next round, so a late answer to the last one is refused
        // (409 CALL_OVER) rather than told it took a call nobody waits for.
        let endedNow = false;
        await ctx.step(`round ${round} unanswered`, async () => {
          await requests.roundOver(call.callbackId);
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
      const status = dead.error.code === NOT_ANSWERED ? "unanswered" : "failed";
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
        fallbackSmsJob(config, { to: call.phone, body }, `sms-fallback:${ctx.job.id}`),
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
      // The days since the previous report as the tick saw them (the job may run late), in the
      // config's time zone: Monday's covers the weekend and Friday.
      const tick = Date.parse(ctx.job.runAt);
      const days = reportDays(tick, config.timezone);
      const covered = new Set(days);
      // Wide enough for the earliest day's start, whatever the zone's offset; the dates decide.
      const ended = (await requests.finishedBetween(tick - (days.length + 2) * DAY_MS, tick)).filter((r) =>
        covered.has(localDate(r.finishedAt, config.timezone)),
      );
      const counts = () => ({ answered: 0, unanswered: 0, failed: 0 });
      const total = counts();
      /** @type {Record<string, ReturnType<typeof counts>>} */
      const businesses = Object.fromEntries([...config.businesses.keys()].map((id) => [id, counts()]));
      for (const { business, status } of ended) {
        if (status !== "answered" && status !== "unanswered" && status !== "failed") continue;
        businesses[business] ??= counts();
        businesses[business][status]++;
        total[status]++;
      }
      const [from, to] = [days[0], days[days.length - 1]];
      await ctx.log(`calls from ${from} to ${to}`, { ...total });
      return { from, to, timezone: config.timezone, total, businesses };
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
 * The local dates (YYYY-MM-DD) a report made at `ms` covers: each day since the previous
 * report's, through yesterday. Reports come Monday to Friday, so Monday's covers Friday, Saturday
 * and Sunday, the others yesterday (and one run by hand on a Sunday, Friday and Saturday).
 * @param {number} ms
 * @param {string} timezone
 */
export function reportDays(ms, timezone) {
  const today = Date.parse(`${localDate(ms, timezone)}T00:00:00.000Z`);
  /** @type {string[]} */
  const days = [];
  for (let back = 1; back <= 7; back++) {
    // Calendar arithmetic on the date alone (as UTC), so a daylight-saving change moves nothing.
    const day = new Date(today - back * DAY_MS);
    days.unshift(day.toISOString().slice(0, 10));
    const weekday = day.getUTCDay();
    if (weekday >= 1 && weekday <= 5) break;
  }
  return days;
}

/**
 * The recurring tasks, as `overseer.scheduler({ schedules })` takes them. The report catches up
 * on the ticks of a week it missed (every node down at 09:00), each covering its own days, so no
 * day goes unreported; a missed clean-up is simply done at the next.
 * @param {CallbackConfig} config
 */
export function schedulesOf(config) {
  return {
    "nightly-cleanup": { cron: "0 2 * * *", task: "cleanup", timezone: config.timezone },
    "weekday-report": { cron: "0 9 * * 1-5", task: "daily-report", timezone: config.timezone, catchUp: 5 },
  };
}
