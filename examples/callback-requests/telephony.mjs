// Telephony as the rest of the app sees it: two methods, and one rule for failures. A provider
// returns how a call went (the business may not answer: that is an outcome, not an error) and
// throws only when it could not do its job: a `TelephonyError` (retryable: the provider is down,
// slow or unreachable, or refuses our credentials until an operator fixes them) or the SDK's
// `PermanentError` (it refused the request itself: trying again cannot help), so that Overseer
// retries the first (and the calls queue's breaker counts it) and sends the second straight to
// `dead`.

/**
 * How a call went, as far as the provider knows when `call` returns:
 * - `answered`: someone picked up;
 * - `ringing`: placed; whether someone takes it comes later, to the ring's answer URL;
 * - `no-answer`, `busy`, `failed`: nobody will take this one.
 * @typedef {"answered" | "ringing" | "no-answer" | "busy" | "failed"} CallOutcome
 */
export const CALL_OUTCOMES = /** @type {const} */ (["answered", "ringing", "no-answer", "busy", "failed"]);

/**
 * What a call is about, for the provider to say to whoever picks up, and where to report that
 * they took it.
 * @typedef {{
 *   callbackId: string,
 *   business: { id: string, name: string },
 *   label: string,
 *   ring: string,
 *   visitor: { phone: string, name: string | null },
 *   answerUrl: string,
 *   answerWithinMs: number,
 * }} CallContext `answerWithinMs`: how long the ring has to be taken (the business's
 *   `answerWithin`); a provider that rings for a set time rings this long
 */

/**
 * @typedef {{
 *   sendSms(to: string, body: string, signal?: AbortSignal): Promise<void>,
 *   call(to: string, context: CallContext, signal?: AbortSignal): Promise<CallOutcome>,
 * }} Telephony
 */

/**
 * A failure worth retrying: the provider is down, slow or unreachable, asked us to slow down, or
 * refused our credentials (`TELEPHONY_AUTH`: an operator fixes them, and meanwhile the calls
 * queue's breaker turns the service SMS-only rather than every job dying).
 */
export class TelephonyError extends Error {
  /** Overseer retries errors unless they say `retryable: false`; this one says so explicitly. */
  retryable = true;

  /**
   * @param {string} message
   * @param {{ code: string, status?: number, cause?: unknown }} options
   */
  constructor(message, { code, status, cause }) {
    super(message, { cause });
    this.name = "TelephonyError";
    this.code = code;
    this.status = status ?? null;
  }
}
