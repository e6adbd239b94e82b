// An in-memory telephony provider: what the app runs with by default, and what the tests script.
// It records every SMS and call with the time on the app's clock, counts the calls in progress
// per business (so a test can check the concurrency limit from the phone's side), can hold each
// call in progress until a test releases it, and can be told how a number behaves: never
// answers, is busy, is refused, or that the whole provider is down.
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
  /** @type {Array<{ business: string, release: () => void }>} calls held in progress, oldest first */
  #held = [];
  #clock;
  #outcome;
  #holdCalls;
  #onSms;
  #onCall;

  /**
   * @param {{
   *   clock?: () => number,
   *   outcome?: CallOutcome,
   *   holdCalls?: boolean,
   *   onSms?: (sms: SentSms) => void,
   *   onCall?: (call: PlacedCall) => void,
   * }} [options] `outcome`: how numbers without a behaviour of their own answer (default
   *   `answered`); `holdCalls`: each call stays in progress until `release()` (or its signal aborts)
   */
  constructor({ clock = Date.now, outcome = "answered", holdCalls = false, onSms, onCall } = {}) {
    this.#clock = clock;
    this.#outcome = outcome;
    this.#holdCalls = holdCalls;
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

  /**
   * How many of this business's calls are held in progress now (with `holdCalls`).
   * @param {string} business
   */
  heldCalls(business) {
    return this.#held.filter((h) => h.business === business).length;
  }

  /** Lets the oldest held call finish; false if none is held. */
  release() {
    const held = this.#held.shift();
    held?.release();
    return held !== undefined;
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
      if (this.#holdCalls) await this.#hold(business, signal);
    } finally {
      this.#inProgress.set(business, (this.#inProgress.get(business) ?? 1) - 1);
    }
    call.outcome = behaviour;
    this.#onCall?.(call);
    return behaviour;
  }

  /**
   * @param {string} business
   * @param {AbortSignal} [signal]
   * @returns {Promise<void>}
   */
  #hold(business, signal) {
    return new Promise((resolve, reject) => {
      const held = {
        business,
        release: () => {
          signal?.removeEventListener("abort", abort);
          resolve();
        },
      };
      const abort = () => {
        this.#held = this.#held.filter((h) => h !== held);
        reject(signal?.reason);
      };
      if (signal?.aborted) return abort();
      signal?.addEventListener("abort", abort, { once: true });
      this.#held.push(held);
    });
  }

  #checkUp() {
    if (this.outage) throw new TelephonyError("the telephony provider is down", { code: "TELEPHONY_UNAVAILABLE" });
  }
}
