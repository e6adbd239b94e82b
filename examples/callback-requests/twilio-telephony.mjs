// Telephony over Twilio's REST API (or anything that speaks it: the base URL is configurable):
// form-encoded POSTs to Messages.json and Calls.json with HTTP basic auth. Failures become the
// two kinds the app knows (telephony.mjs): a 4xx is Twilio refusing the request, permanent
// (PermanentError), except 429, which asks us to slow down, and 401/403, which refuse our
// credentials (an operator fixes them: retried, and counted by the calls queue's breaker, so the
// service goes SMS-only instead of every call dying); a 5xx, a timeout or a network error is
// retryable too (TelephonyError). The auth token lives in a private field and never appears in a
// message, a log line or an inspected object. The TwiML the answer route says back to Twilio is
// made here too (`sayTwiml`).
import { PermanentError } from "overseer";
import { TelephonyError } from "./telephony.mjs";

/**
 * @typedef {import("./telephony.mjs").CallOutcome} CallOutcome
 * @typedef {import("./telephony.mjs").CallContext} CallContext
 * @typedef {import("./telephony.mjs").Telephony} Telephony
 */

/** Twilio's most a call may ring unanswered (its `Timeout`, in seconds). */
const MAX_RING_SECONDS = 600;

/** Call statuses Twilio reports that end the call; any other (queued, ringing...) means it rings. */
const FINAL = /** @type {Record<string, CallOutcome>} */ ({
  busy: "busy",
  "no-answer": "no-answer",
  failed: "failed",
  canceled: "failed",
});

/** @implements {Telephony} */
export class TwilioTelephony {
  #authorization;
  #messagesUrl;
  #callsUrl;
  #from;
  #timeoutMs;

  /**
   * @param {{ accountSid: string, authToken: string, from: string, baseUrl?: string, timeoutMs?: number }} options
   *   `from`: the Twilio number SMS and calls come from; `baseUrl`: https://api.twilio.com unless
   *   told; `timeoutMs`: how long one request may take (10 s)
   */
  constructor({ accountSid, authToken, from, baseUrl = "https://api.twilio.com", timeoutMs = 10_000 }) {
    for (const [name, value] of Object.entries({ accountSid, authToken, from })) {
      if (typeof value !== "string" || value === "") throw new Error(`TwilioTelephony needs ${name}`);
    }
    const base = baseUrl.replace(/\/+$/, "");
    const account = `${base}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}`;
    this.#authorization = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`;
    this.#messagesUrl = `${account}/Messages.json`;
    this.#callsUrl = `${account}/Calls.json`;
    this.#from = from;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * @param {string} to
   * @param {string} body
   * @param {AbortSignal} [signal]
   */
  async sendSms(to, body, signal) {
    await this.#post(this.#messagesUrl, { To: to, From: this.#from, Body: body }, `the SMS to ${to}`, signal);
  }

  /**
   * Places the call; what Twilio says of it then is its outcome (at first, nearly always that it
   * rings: whoever picks up presses 1, and Twilio posts that to the ring's answer URL). It rings
   * for the business's `answerWithin` (Twilio's `Timeout`, at most 10 minutes) rather than
   * Twilio's default minute, so that the phone still rings while the job waits for the answer.
   * @param {string} to
   * @param {CallContext} context
   * @param {AbortSignal} [signal]
   * @returns {Promise<CallOutcome>}
   */
  async call(to, context, signal) {
    const reply = await this.#post(
      this.#callsUrl,
      { To: to, From: this.#from, Twiml: twiml(context), Timeout: String(ringSeconds(context.answerWithinMs)) },
      `the call to ${to}`,
      signal,
    );
    const status = typeof reply?.status === "string" ? reply.status : "";
    return FINAL[status] ?? "ringing";
  }

  /**
   * @param {string} url
   * @param {Record<string, string>} fields
   * @param {string} what for messages: "the SMS to +1..."
   * @param {AbortSignal} [signal]
   * @returns {Promise<any>} the reply's JSON
   */
  async #post(url, fields, what, signal) {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    let res;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: {
          authorization: this.#authorization,
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
        },
        body: new URLSearchParams(fields).toString(),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      if (timeout.aborted) {
        throw new TelephonyError(`Twilio did not answer ${what} within ${this.#timeoutMs} ms`, {
          code: "TELEPHONY_TIMEOUT",
          cause: err,
        });
      }
      if (signal?.aborted) {
        throw new TelephonyError(`${what} was abandoned: ${String(signal.reason)}`, {
          code: "TELEPHONY_ABORTED",
          cause: err,
        });
      }
      const reason = /** @type {{ cause?: { code?: string } }} */ (err).cause?.code ?? String(err);
      throw new TelephonyError(`could not reach Twilio for ${what}: ${reason}`, {
        code: "TELEPHONY_UNREACHABLE",
        cause: err,
      });
    }
    const text = await res.text();
    const reply = parseJson(text);
    if (res.ok) return reply;
    const detail = twilioError(reply, res.status);
    if (res.status === 429) {
      throw new TelephonyError(`Twilio asked us to slow down (${detail}) for ${what}`, {
        code: "TELEPHONY_THROTTLED",
        status: 429,
      });
    }
    if (res.status === 401 || res.status === 403) {
      throw new TelephonyError(
        `Twilio refused our credentials (${detail}) for ${what}: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN`,
        { code: "TELEPHONY_AUTH", status: res.status },
      );
    }
    if (res.status >= 400 && res.status < 500) {
      const error = new PermanentError(`Twilio refused ${what}: ${detail}`, { code: "TELEPHONY_REJECTED" });
      throw Object.assign(error, { status: res.status });
    }
    throw new TelephonyError(`Twilio failed ${what}: ${detail}`, { code: "TELEPHONY_UNAVAILABLE", status: res.status });
  }
}

/**
 * What Twilio's error reply says, or the status alone: "HTTP 400, error 21211: The 'To' number...".
 * @param {any} reply
 * @param {number} status
 */
function twilioError(reply, status) {
  const code = typeof reply?.code === "number" || typeof reply?.code === "string" ? `, error ${reply.code}` : "";
  const message = typeof reply?.message === "string" ? `: ${reply.message.slice(0, 300)}` : "";
  return `HTTP ${status}${code}${message}`;
}

/** @param {string} text */
function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    // Not JSON (a proxy's HTML error page): the status alone says what happened.
    return null;
  }
}

/**
 * `Timeout` for a ring of `ms`: whole seconds, at least 1, at most Twilio's 600.
 * @param {number} ms
 */
export function ringSeconds(ms) {
  return Math.min(MAX_RING_SECONDS, Math.max(1, Math.ceil(ms / 1_000)));
}

/**
 * A phone number as a voice reads it out: digit by digit.
 * @param {string} phone
 */
export function spokenNumber(phone) {
  return phone.replace(/\D/g, "").split("").join(" ");
}

/**
 * The call's script: say who asks for a callback, and let whoever picks up take it by pressing 1,
 * which posts to the ring's answer URL.
 * @param {CallContext} context
 */
export function twiml(context) {
  const who = context.visitor.name ?? "a visitor";
  const say = `Callback request for ${context.business.name}: ${who}, at ${spokenNumber(context.visitor.phone)}. Press 1 to take it.`;
  return (
    "<Response>" +
    `<Gather numDigits="1" method="POST" action="${xml(context.answerUrl)}"><Say>${xml(say)}</Say></Gather>` +
    "<Say>Nobody took the callback. Goodbye.</Say>" +
    "</Response>"
  );
}

/**
 * TwiML that says `text` and hangs up: what the answer route replies to Twilio's Gather.
 * @param {string} text
 */
export function sayTwiml(text) {
  return `<Response><Say>${xml(text)}</Say></Response>`;
}

const XML_ESCAPES = /** @type {Record<string, string>} */ ({
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
});

/** @param {string} text */
function xml(text) {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c);
}
