// The businesses a callback can be for, and the service's limits: a JSON file checked when the
// app starts, so that a typo stops it with one line naming the field rather than surfacing as a
// call that fails at night. Everything else reads the parsed form, never the raw file.
import { readFile } from "node:fs/promises";
import { z } from "zod";

/** A phone number in E.164 form: a plus, a country code, at most 15 digits in all. */
export const E164 = /^\+[1-9]\d{6,14}$/;

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

const phone = z.string().regex(E164, "must be a phone number in E.164 form, such as +12025550123");
const duration = z.string().regex(DURATION, "must be a duration such as 30s, 10m, 2h or 1d");

const businessSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be a lower-case name such as acme-plumbing"),
  name: z.string().min(1).max(100),
  primary: phone,
  backups: z.array(phone).max(5, "at most 5 backup numbers").default([]),
  vip: z.array(phone).default([]),
  /** Calls started per UTC day; over it, a call waits for the next day. */
  callsPerDay: z.number().int().min(1).max(100_000).default(50),
  /** Calls in progress at once. */
  concurrentCalls: z.number().int().min(1).max(100).default(3),
  /** How long a ringing number has to take the call before the next one in the chain rings. */
  answerWithin: duration.default("10m"),
});

/**
 * When calls keep failing (the provider's voice side is down), new calls become SMS: see
 * service.mjs. A call the provider placed and nobody took is no failure of the provider's: it
 * does not count.
 */
const smsOnlySchema = z.strictObject({
  /** Trips when at least this share of a worker's recent calls failed at the provider... */
  failureRate: z.number().gt(0).max(1).default(0.5),
  /** ...and at least this many of its calls in the window were taken or failed at the provider. */
  minCalls: z.number().int().min(1).max(10_000).default(5),
  window: duration.default("5m"),
  /** How long SMS-only mode lasts before one call tries the provider again. */
  cooldown: duration.default("2m"),
});

const configSchema = z.strictObject({
  /** The time zone the clean-up and the report run in, and the report's days are counted in. */
  timezone: z.string().refine(isTimeZone, "must be an IANA time zone such as Europe/Berlin").default("UTC"),
  /**
   * Callback requests, so codes, a phone may ask for per UTC day (past it, POST /callbacks answers
   * 429), and the fallback SMS a phone gets per UTC day (past it, one waits for the next day).
   */
  smsPerPhonePerDay: z.number().int().min(1).max(100).default(5),
  /** Callback requests one client address may make per hour (on each node); past it, 429. */
  requestsPerIpPerHour: z.number().int().min(1).max(100_000).default(10),
  /** How long a verification code is accepted. */
  codeValidFor: duration.default("15m"),
  smsOnlyMode: smsOnlySchema.default(smsOnlySchema.parse({})),
  businesses: z
    .array(businessSchema)
    .min(1, "list at least one business")
    .refine((list) => new Set(list.map((b) => b.id)).size === list.length, "two businesses have the same id"),
});

/**
 * @typedef {{ label: string, number: string }} ChainLink
 * @typedef {{
 *   id: string, name: string, chain: ChainLink[], vip: Set<string>, callsPerDay: number,
 *   concurrentCalls: number, answerWithin: string, answerWithinMs: number
 * }} Business
 * @typedef {{
 *   timezone: string, smsPerPhonePerDay: number, requestsPerIpPerHour: number, codeValidForMs: number,
 *   smsOnlyMode: { failureRate: number, minCalls: number, window: string, cooldown: string },
 *   businesses: Map<string, Business>
 * }} CallbackConfig
 */

/**
 * The config as the app uses it; throws one Error naming the source and every field at fault.
 * @param {unknown} value
 * @param {string} [source]
 * @returns {CallbackConfig}
 */
export function parseConfig(value, source = "config") {
  const parsed = configSchema.safeParse(value);
  if (!parsed.success) throw new Error(`${source}: ${describeIssues(parsed.error.issues)}`);
  const { timezone, smsPerPhonePerDay, requestsPerIpPerHour, codeValidFor, smsOnlyMode, businesses } = parsed.data;
  return {
    timezone,
    smsPerPhonePerDay,
    requestsPerIpPerHour,
    codeValidForMs: durationMs(codeValidFor),
    smsOnlyMode,
    businesses: new Map(
      businesses.map((b) => [
        b.id,
        {
          id: b.id,
          name: b.name,
          // The order numbers ring in: the primary, then each backup.
          chain: [
            { label: "primary", number: b.primary },
            ...b.backups.map((number, i) => ({ label: `backup ${i + 1}`, number })),
          ],
          vip: new Set(b.vip),
          callsPerDay: b.callsPerDay,
          concurrentCalls: b.concurrentCalls,
          answerWithin: b.answerWithin,
          answerWithinMs: durationMs(b.answerWithin),
        },
      ]),
    ),
  };
}

/**
 * @param {string} path
 * @returns {Promise<CallbackConfig>}
 */
export async function loadConfig(path) {
  let text;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new Error(`${path}: cannot read the config: ${/** @type {Error} */ (err).message}`);
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON: ${/** @type {Error} */ (err).message}`);
  }
  return parseConfig(value, path);
}

/**
 * Zod's issues as one line a person can act on: `field: what is wrong; ...`.
 * @param {ReadonlyArray<{ path: PropertyKey[], message: string, code: string, keys?: string[] }>} issues
 */
export function describeIssues(issues) {
  return issues
    .map((issue) => {
      const field = issue.path.map(String).join(".");
      if (issue.code === "unrecognized_keys") {
        const keys = (issue.keys ?? []).map((k) => `"${k}"`).join(", ");
        return `${field ? `${field}: ` : ""}unknown field ${keys}`;
      }
      return field ? `${field}: ${issue.message}` : issue.message;
    })
    .join("; ");
}

/** @param {string} value a duration the schema accepted */
function durationMs(value) {
  const [, amount, unit] = /** @type {RegExpExecArray} */ (DURATION.exec(value));
  return Number(amount) * UNIT_MS[/** @type {keyof typeof UNIT_MS} */ (unit)];
}

/** @param {string} zone */
function isTimeZone(zone) {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    // A RangeError is Intl's way of saying the zone does not exist: the answer, not a failure.
    return false;
  }
}
