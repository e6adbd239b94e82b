// An in-memory telephony provider: what the app runs with by default, and what the tests script.
// It records every SMS and call with the time on the app's clock, counts the calls in progress
// per business (so a test can check the concurrency limit from the phone's side), and can be
// told how a number behaves: never answers, is busy, is refused, or that the whole provider is
// down.
import { setTimeout as sleep } from "node:timers/promises";
import { PermanentError } from "overseer";
import { TelephonyError } from "./telephony.mjs";

/**
 * @typedef {import("./telephony.mjs").CallOutcome} CallOutcome
 * @typedef {import("./telephony.mjs").CallContext} CallContext
 * @typedef {import("./telephony.mjs").Telephony} Telephony
 * @typedef {CallOutcome | "reject"} Behaviour what a number does when called; `reject`: the provider refuses it
 * @typedef {{ to: string, body: string, at: number }} SentSms
 * @typedef {{ to: string, context: CallContext, at: number, outcome: CallOutcome | null }} PlacedCall
 */

/** @implements {Telephony} */
export class FakeTelephony {
  /** @type {SentSms[]} every SMS, in the order sent */
  sms = [];
  /** @type {PlacedCall[]} every call, in the order placed; `outcome` is null while it is in progress */
  calls = [];
  /** While true the provider is down: every SMS and call throws a retryable TelephonyError. */
  outage = false;
  /** While true only its voice calls are down (SMS still go out): every call throws a retryable TelephonyError. */
  callsDown = false;
  /** @type {Map<string, Behaviour>} */
  #behaviours = new Map();
  /** @type {Map<string, number>} business id → calls in progress */
  #inProgress = new Map();
  /** @type {Map<string, number>} business id → most calls ever in progress at once */
  #peak = new Map();
  #clock;
  #outcome;
  #callMs;
  #onSms;
  #onCall;

  /**
   * @param {{
   *   clock?: () => number,
   *   outcome?: CallOutcome,
   *   callMs?: number,
   *   onSms?: (sms: SentSms) => void,
   *   onCall?: (call: PlacedCall) => void,
   * }} [options] `outcome`: how numbers without a behaviour of their own answer (default
   *   `answered`); `callMs`: how long each call takes (default 0)
   */
  constructor({ clock = Date.now, outcome = "answered", callMs = 0, onSms, onCall } = {}) {
    this.#clock = clock;
    this.#outcome = outcome;
    this.#callMs = callMs;
    this.#onSms = onSms;
    this.#onCall = onCall;
  }

  /**
   * How `number` behaves from now on.
   * @param {string} number
   * @param {Behaviour} behaviour
   */
  script(number, behaviour) {
    this.#behaviours.set(number, behaviour);
    return this;
  }

  /** @param {string} number */
  neverAnswers(number) {
    return this.script(number, "no-answer");
  }

  /**
   * The most calls for this business that were ever in progress at once.
   * @param {string} business
   */
  peakConcurrentCalls(business) {
    return this.#peak.get(business) ?? 0;
  }

  /** @param {string} number */
  smsTo(number) {
    return this.sms.filter((s) => s.to === number);
  }

  /** @param {string} number */
  callsTo(number) {
    return this.calls.filter((c) => c.to === number);
  }

  /**
   * @param {string} to
   * @param {string} body
   */
  async sendSms(to, body) {
    this.#checkUp();
    const sms = { to, body, at: this.#clock() };
    this.sms.push(sms);
    this.#onSms?.(sms);
  }

  /**
   * @param {string} to
   * @param {CallContext} context
   * @param {AbortSignal} [signal]
   * @returns {Promise<CallOutcome>}
   */
  async call(to, context, signal) {
    this.#checkUp();
    if (this.callsDown) throw new TelephonyError("the provider's calls are down", { code: "TELEPHONY_UNAVAILABLE" });
    const behaviour = this.#behaviours.get(to) ?? this.#outcome;
    if (behaviour === "reject") {
      throw new PermanentError(`the provider refused to call ${to}: not a number it can reach`, {
        code: "TELEPHONY_REJECTED",
      });
    }
    /** @type {PlacedCall} */
    const call = { to, context, at: this.#clock(), outcome: null };
    this.calls.push(call);
    const business = context.business.id;
    const now = (this.#inProgress.get(business) ?? 0) + 1;
    this.#inProgress.set(business, now);
    this.#peak.set(business, Math.max(now, this.#peak.get(business) ?? 0));
    try {
      if (this.#callMs > 0) await sleep(this.#callMs, undefined, { signal });
    } finally {
      this.#inProgress.set(business, (this.#inProgress.get(business) ?? 1) - 1);
    }
    call.outcome = behaviour;
    this.#onCall?.(call);
    return behaviour;
  }

  #checkUp() {
    if (this.outage) throw new TelephonyError("the telephony provider is down", { code: "TELEPHONY_UNAVAILABLE" });
  }
}
