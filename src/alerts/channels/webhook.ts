/**
 * Webhook channel: a JSON POST signed so a receiver can tell a real delivery from a forged or
 * replayed one, in one of two schemes (the channel's `signature` in the config):
 *
 * - `standard` (the default): Standard Webhooks (standardwebhooks.com), which receivers verify
 *   with the libraries that project publishes for most languages:
 *     webhook-id: <notification id>
 *     webhook-timestamp: <unix seconds>
 *     webhook-signature: v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + raw body)>
 *   The key is the base64 after `whsec_` when the secret is written that way, else the secret's
 *   own bytes (a receiver's library then takes it with `{ format: "raw" }`).
 * - `legacy`: the scheme Overseer had first, the way Stripe signs its events:
 *     Overseer-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>
 *   A header may carry several `v1=` entries (while a secret is being rotated); one matching is
 *   enough. `verifyWebhook` below checks it.
 *
 * Either way the timestamp is inside the signed text, so it cannot be changed without the secret,
 * and a receiver refuses timestamps outside its tolerance (replays). Retries sign again with a
 * fresh timestamp; the notification's id (`webhook-id`, and `Overseer-Notification-Id` in both
 * schemes) stays the same, so receivers can drop duplicates. `Overseer-Alert-Id` names the alert.
 */
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { type Channel, ChannelDeliveryError, isRetryableStatus, type Notification } from "./channel.js";

export const SIGNATURE_HEADER = "overseer-signature";
export const NOTIFICATION_ID_HEADER = "overseer-notification-id";
export const ALERT_ID_HEADER = "overseer-alert-id";
/** The Standard Webhooks headers. */
export const STANDARD_ID_HEADER = "webhook-id";
export const STANDARD_TIMESTAMP_HEADER = "webhook-timestamp";
export const STANDARD_SIGNATURE_HEADER = "webhook-signature";
/** How a Standard Webhooks secret is written: `whsec_` and the key in base64. */
export const STANDARD_SECRET_PREFIX = "whsec_";
export const DEFAULT_TOLERANCE_SECONDS = 300;
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

export const SIGNATURE_SCHEMES = ["standard", "legacy"] as const;
export type SignatureScheme = (typeof SIGNATURE_SCHEMES)[number];

export interface WebhookTarget {
  url: string;
  secret: string;
  /** `standard` (Standard Webhooks) unless said otherwise. */
  signature?: SignatureScheme;
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface SendWebhookOptions {
  fetch?: FetchLike;
  /** Milliseconds since the epoch; the signature's timestamp. */
  now?: () => number;
  timeoutMs?: number;
  /**
   * The delivery's id, unchanged across retries: `webhook-id` and `Overseer-Notification-Id`.
   * A delivery without one (a direct call) gets a random id. Must not contain a ".".
   */
  notificationId?: string;
  /** Sent as `Overseer-Alert-Id`. */
  alertId?: string;
}

/** `t=<timestamp>,v1=<hex>` for this body at this time (`timestamp` in unix seconds): the legacy scheme. */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${hmacHex(secret, timestamp, body)}`;
}

function hmacHex(secret: string, timestamp: number, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}

/**
 * The HMAC key of a Standard Webhooks secret: the base64 after `whsec_`, else the secret's UTF-8
 * bytes. A `whsec_` secret that is not base64 of 24 to 64 bytes is refused when the config's
 * secrets are read (config/channel-secrets.ts), so this never guesses.
 */
export function standardWebhookKey(secret: string): Buffer {
  return secret.startsWith(STANDARD_SECRET_PREFIX)
    ? Buffer.from(secret.slice(STANDARD_SECRET_PREFIX.length), "base64")
    : Buffer.from(secret, "utf8");
}

/** What is wrong with a secret for the standard scheme, or null when it is usable. */
export function standardSecretProblem(secret: string): string | null {
  if (!secret.startsWith(STANDARD_SECRET_PREFIX)) return null; // raw bytes: any non-empty value
  const encoded = secret.slice(STANDARD_SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
    return "a whsec_ secret must be followed by base64 (A-Z, a-z, 0-9, +, /, = padding)";
  }
  const bytes = Buffer.from(encoded, "base64").length;
  if (bytes < 24 || bytes > 64) {
    return `a whsec_ secret must hold 24 to 64 bytes (Standard Webhooks); this one holds ${bytes}`;
  }
  return null;
}

/** `v1,<base64>`: the Standard Webhooks signature of this body with this id at this time (unix seconds). */
export function signStandardWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const mac = createHmac("sha256", standardWebhookKey(secret)).update(`${id}.${timestamp}.${body}`).digest("base64");
  return `v1,${mac}`;
}

/** The signature headers of one delivery in the chosen scheme. */
export function signatureHeaders(
  scheme: SignatureScheme,
  secret: string,
  id: string,
  timestamp: number,
  body: string,
): Record<string, string> {
  if (scheme === "legacy") return { [SIGNATURE_HEADER]: signWebhook(secret, body, timestamp) };
  return {
    [STANDARD_ID_HEADER]: id,
    [STANDARD_TIMESTAMP_HEADER]: String(timestamp),
    [STANDARD_SIGNATURE_HEADER]: signStandardWebhook(secret, id, timestamp, body),
  };
}

export type WebhookVerification =
  | { ok: true; timestamp: number }
  | { ok: false; reason: "malformed_header" | "bad_signature" | "timestamp_out_of_tolerance"; message: string };

export interface VerifyWebhookOptions {
  /** How far the timestamp may be from `now`, either way; 300 s by default. */
  toleranceSeconds?: number;
  /** Milliseconds since the epoch; `Date.now()` by default. */
  now?: number;
}

/**
 * Receiver side of the legacy scheme: checks a delivery against the raw body exactly as received (before any JSON
 * parsing, which would change whitespace). The comparison is constant-time.
 */
export function verifyWebhook(
  secret: string,
  rawBody: string | Buffer,
  header: string | null | undefined,
  options: VerifyWebhookOptions = {},
): WebhookVerification {
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = options.now ?? Date.now();
  const parsed = parseSignatureHeader(header);
  if (parsed === null) {
    return { ok: false, reason: "malformed_header", message: "expected Overseer-Signature: t=<seconds>,v1=<hex>" };
  }
  const body = typeof rawBody === "string" ? rawBody : rawBody.toString("utf8");
  const expected = Buffer.from(hmacHex(secret, parsed.timestamp, body), "hex");
  // Every candidate is compared in full, so timing does not reveal which one (if any) matched.
  let matched = false;
  for (const candidate of parsed.signatures) {
    const given = Buffer.from(candidate, "hex");
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  if (!matched) return { ok: false, reason: "bad_signature", message: "no v1 signature matches the body" };
  // Checked after the signature so that an attacker learns nothing about the secret from it.
  if (Math.abs(now / 1000 - parsed.timestamp) > tolerance) {
    return {
      ok: false,
      reason: "timestamp_out_of_tolerance",
      message: `timestamp ${parsed.timestamp} is more than ${tolerance} s from now (a replay or a skewed clock)`,
    };
  }
  return { ok: true, timestamp: parsed.timestamp };
}

function parseSignatureHeader(header: string | null | undefined): { timestamp: number; signatures: string[] } | null {
  if (typeof header !== "string" || header.length > 4096) return null;
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) return null;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t") {
      if (!/^\d{1,12}$/.test(value) || timestamp !== null) return null;
      timestamp = Number(value);
    } else if (key === "v1") {
      if (!/^[0-9a-f]{64}$/i.test(value)) return null;
      signatures.push(value.toLowerCase());
    }
    // Other keys (a future v2) are ignored, so receivers keep working when one is added.
  }
  if (timestamp === null || signatures.length === 0) return null;
  return { timestamp, signatures };
}

/**
 * Posts `payload` as JSON, signed in the target's scheme. Resolves on any 2xx; otherwise rejects with a
 * ChannelDeliveryError: retryable for 5xx, 408, 429, network errors and timeouts; not for
 * other 4xx or a redirect (redirects are not followed: a signed body goes only where configured).
 */
export async function sendWebhook(
  target: WebhookTarget,
  payload: unknown,
  options: SendWebhookOptions = {},
): Promise<void> {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const body = JSON.stringify(payload);
  const id = options.notificationId ?? `msg_${randomUUID()}`;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "overseer-webhook/1",
    [NOTIFICATION_ID_HEADER]: id,
    ...(options.alertId === undefined ? {} : { [ALERT_ID_HEADER]: options.alertId }),
    ...signatureHeaders(target.signature ?? "standard", target.secret, id, Math.floor(now() / 1000), body),
  };
  const where = describeUrl(target.url);
  let response: Response;
  try {
    response = await doFetch(target.url, {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const timedOut = (err as Error).name === "TimeoutError" || (err as Error).name === "AbortError";
    throw new ChannelDeliveryError(
      timedOut
        ? `webhook ${where}: no response within ${timeoutMs} ms`
        : `webhook ${where}: ${describeNetworkError(err)}`,
      { retryable: true, code: timedOut ? "TIMEOUT" : "NETWORK_ERROR", cause: err },
    );
  }
  // Drain the body either way so the connection can be reused; its text only goes into errors.
  const text = await response.text().catch(() => "");
  if (response.status >= 200 && response.status < 300) return;
  const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), now());
  const redirect = response.status >= 300 && response.status < 400;
  throw new ChannelDeliveryError(
    `webhook ${where}: HTTP ${response.status}${redirect ? " (redirects are not followed)" : ""}${text ? `: ${text.slice(0, 200)}` : ""}`,
    {
      retryable: !redirect && isRetryableStatus(response.status),
      code: `HTTP_${response.status}`,
      status: response.status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    },
  );
}

/** Retry-After as seconds or an HTTP date, in milliseconds from now. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Origin and path only: a query string may hold a token. */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return "(invalid url)";
  }
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
}

/** The JSON a webhook receiver gets. Versioned so receivers can tell shapes apart later. */
export interface WebhookPayload {
  version: 1;
  channel: string;
  notification: Notification;
}

export function createWebhookChannel(
  name: string,
  target: WebhookTarget,
  options: Omit<SendWebhookOptions, "notificationId" | "alertId"> = {},
): Channel {
  return {
    name,
    type: "webhook",
    async send(notification) {
      const payload: WebhookPayload = { version: 1, channel: name, notification };
      await sendWebhook(target, payload, {
        ...options,
        notificationId: notification.id,
        ...(notification.alertId === undefined ? {} : { alertId: notification.alertId }),
      });
      return undefined; // a delivered POST cannot be changed: no receipt
    },
  };
}
