// The service's HTTP routes (Fastify): a visitor asks for a callback and confirms it with the
// code texted to them; the business's phone (or the provider, for it) says a ringing call was
// taken. Bodies are checked at the edge and refused with 400 and one message naming each field;
// every error has the shape {"error": {"code", "message"}}, and nothing on the wire is a stack.
// The one exception is Twilio's Gather posting to the answer route: it is answered in TwiML.
import { parse as parseForm } from "node:querystring";
import Fastify from "fastify";
import { z } from "zod";
import { describeIssues, E164 } from "./config.mjs";
import { FixedWindowLimiter } from "./fixed-window-limiter.mjs";
import { answerKey, codeFor, sameSecret } from "./secrets.mjs";
import { ANSWERED, callJob, codeSmsJob } from "./tasks.mjs";
import { sayTwiml, spokenNumber } from "./twilio-telephony.mjs";

/** Wrong codes a request takes before it is locked (the visitor asks for a new callback). */
export const MAX_TRIES = 5;

const ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const FORM = "application/x-www-form-urlencoded";

const newRequest = z.strictObject({
  business: z.string({ error: "required: the id of the business that calls you back" }).min(1),
  phone: z
    .string({ error: "required: the number to call back, in E.164 form such as +12025550123" })
    .regex(E164, "must be a phone number in E.164 form, such as +12025550123"),
  name: z
    .string({ error: "must be text" })
    .trim()
    .min(1, "must not be empty")
    .max(80, "must be at most 80 characters")
    .regex(/^[^\p{Cc}]*$/u, "must not contain control characters")
    .optional(),
});

const verification = z.strictObject({
  code: z
    .string({ error: "required: the 6-digit code texted to you" })
    .regex(/^\d{6}$/, "must be the 6 digits texted to you"),
});

/** Fastify's own errors for bodies it cannot read, as codes of this API. */
const BODY_ERRORS = /** @type {Record<string, string>} */ ({
  FST_ERR_CTP_INVALID_JSON_BODY: "INVALID_JSON",
  FST_ERR_CTP_EMPTY_JSON_BODY: "INVALID_JSON",
  FST_ERR_CTP_BODY_TOO_LARGE: "BODY_TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
});

/**
 * @typedef {{
 *   overseer: import("overseer").Overseer,
 *   requests: import("./requests.mjs").CallbackRequests,
 *   config: import("./config.mjs").CallbackConfig,
 *   secret: string,
 *   now: () => Promise<number>,
 *   localNow: () => number,
 *   logger: import("overseer").Logger,
 *   trustProxy?: import("fastify").FastifyServerOptions["trustProxy"],
 * }} RouteDeps `now`: Overseer's clock (the database's); `localNow`: this process's, for what
 *   it keeps in memory (the per-address limit, checked before a flood costs a query);
 *   `trustProxy`: whose X-Forwarded-For gives the client's address (Fastify's option); the
 *   loopback unless told, since the routes listen on 127.0.0.1 behind a proxy
 */

/**
 * The routes, on a Fastify instance of their own (not listening yet).
 * @param {RouteDeps} deps
 */
export function callbackRoutes({ overseer, requests, config, secret, now, localNow, logger, trustProxy = "loopback" }) {
  const app = Fastify({ bodyLimit: 16 * 1024, logger: false, trustProxy });
  // Each request may text a code: an address gets `requestsPerIpPerHour`, however many phones.
  const perAddress = new FixedWindowLimiter({ limit: config.requestsPerIpPerHour, windowMs: HOUR_MS });

  app.setErrorHandler((/** @type {import("fastify").FastifyError} */ err, req, reply) => {
    const status = typeof err.statusCode === "number" ? err.statusCode : 500;
    if (status < 500) {
      const code = BODY_ERRORS[err.code ?? ""] ?? "BAD_REQUEST";
      const message = code === "INVALID_JSON" ? "the body must be a JSON object" : err.message;
      return reply.code(status).send(error(code, message));
    }
    logger.error({ err, method: req.method, url: req.url.split("?")[0] }, "a callback route failed");
    return reply.code(500).send(error("INTERNAL_ERROR", "something went wrong; the server's log says what"));
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send(error("NOT_FOUND", `no route ${req.method} ${req.url.split("?")[0]}`)),
  );

  /**
   * Counts every POST /callbacks of the client's address, before its body is read: past the
   * hour's, 429 with Retry-After (the end of the hour).
   * @type {import("fastify").onRequestAsyncHookHandler}
   */
  async function limitPerAddress(req, reply) {
    const taken = perAddress.take(req.ip, localNow());
    if (taken.allowed) return;
    const retryAfter = Math.ceil(taken.retryAfterMs / 1_000);
    const minutes = Math.ceil(retryAfter / 60);
    return tooMany(reply, retryAfter, `too many callback requests from your address; try again in ${minutes} minutes`);
  }

  /** POST /callbacks {business, phone, name?}: stores the request and texts its code. */
  app.post("/callbacks", { onRequest: limitPerAddress }, async (req, reply) => {
    const parsed = newRequest.safeParse(req.body);
    if (!parsed.success) {
      const hint = "send a JSON object with business, phone and an optional name";
      return reply.code(400).send(error("INVALID_REQUEST", problems(parsed.error.issues, hint)));
    }
    const { business: id, phone, name } = parsed.data;
    const business = config.businesses.get(id);
    if (!business) return reply.code(400).send(error("INVALID_REQUEST", `business: no business "${id}"`));
    const at = await now();
    // The cap on a phone's codes: its requests this UTC day (each texts one code, however often
    // that SMS is retried). A code that arrived tomorrow would be no use: past it, refuse now.
    const dayStart = Math.floor(at / DAY_MS) * DAY_MS;
    if ((await requests.countSince(phone, dayStart)) >= config.smsPerPhonePerDay) {
      const retryAfter = Math.ceil((dayStart + DAY_MS - at) / 1_000);
      return tooMany(
        reply,
        retryAfter,
        `${phone} has asked for ${config.smsPerPhonePerDay} callbacks today; try tomorrow`,
      );
    }
    const { request } = await requests.create({ business: id, phone, name: name ?? null, now: at }, (callbackId) =>
      codeSmsJob({ to: phone, callbackId, business: id }),
    );
    return reply.code(201).send({ ...view(request), verify: `/callbacks/${request.id}/verify` });
  });

  /** GET /callbacks/:id: where the request is. */
  app.get("/callbacks/:id", async (req, reply) => {
    const id = idOf(req.params);
    const request = id ? await requests.get(id) : null;
    if (!request) return reply.code(404).send(error("NOT_FOUND", "no such callback request"));
    return view(request);
  });

  /** POST /callbacks/:id/verify {code}: the right code queues the call. */
  app.post("/callbacks/:id/verify", async (req, reply) => {
    const id = idOf(req.params);
    if (!id) return reply.code(404).send(error("NOT_FOUND", "no such callback request"));
    const parsed = verification.safeParse(req.body);
    if (!parsed.success) {
      return reply.code(400).send(error("INVALID_REQUEST", problems(parsed.error.issues, 'send {"code": "123456"}')));
    }
    const correct = sameSecret(parsed.data.code, codeFor(secret, id));
    const result = await requests.verify(
      id,
      { correct, now: await now(), validForMs: config.codeValidForMs, maxTries: MAX_TRIES },
      (request) => {
        const business = config.businesses.get(request.business);
        if (!business) throw new Error(`business "${request.business}" of request ${request.id} is not in the config`);
        return callJob(business, request);
      },
    );
    switch (result.outcome) {
      case "verified":
        return { ...view(result.request), job: result.job.id };
      case "not_found":
        return reply.code(404).send(error("NOT_FOUND", "no such callback request"));
      case "wrong_code":
        return reply
          .code(400)
          .send(
            error(
              "WRONG_CODE",
              `that is not the code; ${result.triesLeft} ${result.triesLeft === 1 ? "try" : "tries"} left`,
            ),
          );
      case "too_many_tries":
        return reply.code(409).send(error("TOO_MANY_TRIES", "too many wrong codes: ask for a new callback"));
      case "expired":
        return reply.code(409).send(error("CODE_EXPIRED", "the code has expired: ask for a new callback"));
      case "already_verified":
        return reply.code(409).send(error("ALREADY_VERIFIED", "this callback request is confirmed already"));
    }
  });

  /**
   * POST /callbacks/:id/answered?ring=&key=: the ringing number took the call (its answer URL,
   * which the call carries). Only the ring now on counts: a late answer to an earlier one, or to
   * a round that ended, is 409. Twilio's Gather posts here form-encoded (the digit pressed), so
   * this route alone reads forms, and answers a form in TwiML for the caller to hear: always 200,
   * since Twilio meets any other status with its "application error" message.
   */
  app.register(async (scope) => {
    scope.addContentTypeParser(FORM, { parseAs: "string" }, (_req, body, done) => {
      done(null, parseForm(/** @type {string} */ (body)));
    });
    scope.post("/callbacks/:id/answered", async (req, reply) => {
      const answer = await take(req);
      if (isForm(req)) return reply.code(200).type("text/xml; charset=utf-8").send(sayTwiml(answer.say));
      if ("error" in answer) return reply.code(answer.status).send(error(answer.error, answer.message));
      return answer.taken;
    });
  });

  /**
   * What an answer comes to: taken, or why not; `say` is what the caller hears.
   * @param {import("fastify").FastifyRequest} req
   * @returns {Promise<
   *   | { taken: { id: string, ring: string, taken: true }, say: string }
   *   | { error: string, status: number, message: string, say: string }
   * >}
   */
  async function take(req) {
    const noSuchCall = {
      error: "NOT_FOUND",
      status: 404,
      message: "no such call",
      say: "Sorry, there is no such callback. Goodbye.",
    };
    const id = idOf(req.params);
    const { ring, key } = /** @type {{ ring?: unknown, key?: unknown }} */ (req.query ?? {});
    if (!id || typeof ring !== "string" || typeof key !== "string" || !sameSecret(key, answerKey(secret, id, ring))) {
      return noSuchCall;
    }
    const digits = /** @type {{ Digits?: unknown } | undefined} */ (req.body)?.Digits;
    if (digits !== undefined && digits !== "1") {
      return {
        error: "NOT_TAKEN",
        status: 400,
        message: "press 1 to take the callback",
        say: "You did not press 1, so the callback is not yours. Goodbye.",
      };
    }
    const request = await requests.get(id);
    if (!request) return noSuchCall;
    if (request.status !== "ringing" || request.ring !== ring) {
      return {
        error: "CALL_OVER",
        status: 409,
        message: "this call is not ringing any more",
        say: "Sorry, this callback is not waiting for you any more. Goodbye.",
      };
    }
    // Addressed to the call's job: a signal it never takes (it gave up on this ring a moment
    // ago) goes when the job is pruned, instead of waiting forever for a wait that will not come.
    await overseer.signal(ANSWERED, { callbackId: id, ring }, request.callJob ? { jobId: request.callJob } : {});
    const who = request.name ?? "the visitor";
    return {
      taken: { id, ring, taken: true },
      say: `Thank you: the callback is yours. Please call ${who} back on ${spokenNumber(request.phone)}.`,
    };
  }

  return app;
}

/**
 * What a visitor may see of a request (not the phone: whoever has the id sees this).
 * @param {import("./requests.mjs").CallbackRequest} r
 */
function view(r) {
  const iso = (/** @type {number | null} */ ms) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: r.id,
    business: r.business,
    status: r.status,
    ringing: r.status === "ringing" ? r.ringLabel : null,
    answeredBy: r.answeredBy,
    // The code alone: a provider's message can name a business's backup numbers.
    error: r.error ? { code: r.error.code } : null,
    createdAt: iso(r.createdAt),
    verifiedAt: iso(r.verifiedAt),
    finishedAt: iso(r.finishedAt),
  };
}

/** @param {import("fastify").FastifyRequest} req */
function isForm(req) {
  return (req.headers["content-type"] ?? "").toLowerCase().startsWith(FORM);
}

/** @param {unknown} params */
function idOf(params) {
  const id = /** @type {{ id?: unknown }} */ (params)?.id;
  return typeof id === "string" && ID.test(id) ? id : null;
}

/**
 * One message naming each field at fault, or `hint` when the body is no object at all.
 * @param {Parameters<typeof describeIssues>[0]} issues
 * @param {string} hint
 */
function problems(issues, hint) {
  return issues.some((i) => i.path.length === 0 && i.code === "invalid_type") ? hint : describeIssues(issues);
}

/**
 * 429 TOO_MANY_REQUESTS, with Retry-After in seconds.
 * @param {import("fastify").FastifyReply} reply
 * @param {number} retryAfter
 * @param {string} message
 */
function tooMany(reply, retryAfter, message) {
  return reply.code(429).header("retry-after", String(retryAfter)).send(error("TOO_MANY_REQUESTS", message));
}

/**
 * @param {string} code
 * @param {string} message
 */
function error(code, message) {
  return { error: { code, message } };
}
