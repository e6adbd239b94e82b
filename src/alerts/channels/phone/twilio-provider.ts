/**
 * A phone provider over Twilio's REST API (2010-04-01), or anything that speaks it at another
 * base URL: `POST /Accounts/{sid}/Messages.json` to text, `POST /Accounts/{sid}/Calls.json` with
 * inline TwiML to call, form-encoded, HTTP basic auth `accountSid:authToken`. Twilio answers a
 * refusal with JSON (`{"code": 21211, "message": "...", "status": 400}`), which goes into the
 * error; the auth token never does (it is cut out of any text that would). 429, 408, 5xx,
 * network errors and timeouts may pass later; any other 4xx, and a redirect, will not.
 * Twilio has no idempotency key for these calls: a request that times out after Twilio took it
 * is retried and texts (or calls) twice, which paging prefers to not at all.
 */
import { clip } from "../../../core/text.js";
import { ChannelDeliveryError, isRetryableStatus } from "../channel.js";
import { type FetchLike, parseRetryAfter } from "../webhook.js";
import { MAX_SPOKEN_LENGTH, type PhoneProvider } from "./phone-provider.js";

export const DEFAULT_TWILIO_URL = "https://api.twilio.com";
export const DEFAULT_PHONE_TIMEOUT_MS = 10_000;

export interface TwilioProviderOptions {
  accountSid: string;
  /** The account's auth token, read from the environment (`env:NAME` in the config). */
  authToken: string;
  /** `https://api.twilio.com` unless a test, or a Twilio-compatible service, says otherwise. */
  url?: string;
  fetch?: FetchLike;
  /** Bound on each request; 10 s by default. */
  timeoutMs?: number;
}

export class TwilioProvider implements PhoneProvider {
  readonly label: string;
  readonly #accountSid: string;
  readonly #authToken: string;
  readonly #base: string;
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number;

  constructor(options: TwilioProviderOptions) {
    this.#accountSid = options.accountSid;
    this.#authToken = options.authToken;
    this.#base = (options.url ?? DEFAULT_TWILIO_URL).replace(/\/+$/, "");
    this.#fetch = options.fetch ?? fetch;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_PHONE_TIMEOUT_MS;
    this.label = `twilio at ${originOf(this.#base)}`;
  }

  sendSms(to: string, from: string, body: string): Promise<string> {
    return this.#create("Messages", { To: to, From: from, Body: body }, "sms");
  }

  call(to: string, from: string, spokenText: string): Promise<string> {
    return this.#create("Calls", { To: to, From: from, Twiml: twiml(spokenText) }, "call");
  }

  /** One create request; resolves with the new resource's `sid`. */
  async #create(resource: "Messages" | "Calls", params: Record<string, string>, what: string): Promise<string> {
    const url = `${this.#base}/2010-04-01/Accounts/${encodeURIComponent(this.#accountSid)}/${resource}.json`;
    const where = `${what} via ${this.label}`;
    const credentials = Buffer.from(`${this.#accountSid}:${this.#authToken}`, "utf8").toString("base64");
    let response: Response;
    try {
      response = await this.#fetch(url, {
        method: "POST",
        headers: {
          authorization: `Basic ${credentials}`,
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
          "user-agent": "overseer-phone/1",
        },
        body: new URLSearchParams(params).toString(),
        // Credentials go only where configured.
        redirect: "manual",
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      const timedOut = (err as Error).name === "TimeoutError" || (err as Error).name === "AbortError";
      throw new ChannelDeliveryError(
        timedOut
          ? `${where}: no response within ${this.#timeoutMs} ms`
          : `${where}: ${this.#redact(describeNetworkError(err))}`,
        { retryable: true, code: timedOut ? "TIMEOUT" : "NETWORK_ERROR", cause: err },
      );
    }
    const text = await response.text().catch(() => "");
    const body = parseJson(text);
    if (response.status >= 200 && response.status < 300) {
      const sid = body?.sid;
      if (typeof sid === "string" && sid !== "") return sid;
      // Taken, perhaps: trying again could page twice, so this fails for good (a fallback takes over).
      throw new ChannelDeliveryError(`${where}: HTTP ${response.status} without the ${what}'s sid`, {
        retryable: false,
        code: "BAD_RESPONSE",
        status: response.status,
      });
    }
    const status = response.status;
    const redirect = status >= 300 && status < 400;
    const code = typeof body?.code === "number" || typeof body?.code === "string" ? String(body.code) : null;
    const message =
      typeof body?.message === "string" ? body.message : body === null && text.trim() !== "" ? text.trim() : "";
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), Date.now());
    const detail = [
      `HTTP ${status}${redirect ? " (redirects are not followed)" : ""}`,
      ...(code === null ? [] : [`error ${code}`]),
      ...(message === "" ? [] : [clip(message.replace(/\s+/g, " "), 300)]),
    ].join(", ");
    throw new ChannelDeliveryError(`${where}: ${this.#redact(detail)}`, {
      retryable: !redirect && isRetryableStatus(status),
      code: code !== null && /^\d{1,10}$/.test(code) ? `TWILIO_${code}` : `HTTP_${status}`,
      status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }

  /**
   * The provider's words without the auth token, and with phone numbers masked to their last
   * four digits: errors are kept on the alert's timeline, which any viewer may read.
   */
  #redact(text: string): string {
    const masked = text.replace(/\+\d{4,11}(\d{4})\b/g, "+…$1");
    return this.#authToken === "" ? masked : masked.split(this.#authToken).join("<auth token>");
  }
}

/**
 * The TwiML of a call that says `spokenText` twice, a second apart (a person picking up misses
 * the start), escaped for XML and cut to `MAX_SPOKEN_LENGTH` first: twice over and escaped, it stays
 * within Twilio's 4,000 characters of TwiML.
 */
export function twiml(spokenText: string): string {
  const said = escapeXml(clip(spokenText.replace(/\s+/g, " ").trim(), MAX_SPOKEN_LENGTH));
  return `<Response><Say>${said}</Say><Pause length="1"/><Say>${said}</Say></Response>`;
}

/** Text as XML character data or an attribute value: the five entities, and no character XML 1.0 forbids. */
export function escapeXml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null; // not JSON: the caller quotes the text as it came
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(invalid url)";
  }
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
}
