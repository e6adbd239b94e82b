/**
 * The `alerts.channels` section of the config file: named notification channels (webhook,
 * Telegram, e-mail, SMS, voice calls, console), each with its rate limit and bundling. Secrets
 * are never written in the file: they are `env:NAME` references, checked for shape when the file
 * is parsed and read from the environment only by `resolveAlertChannels`, which names the
 * missing variable. Not yet part of config.ts: it joins `alerts.policies` there next.
 */
import { z } from "zod";
import { type BundlerSettings, DEFAULT_BUNDLER_SETTINGS } from "../alerts/channels/bundler.js";
import { reachesOnlyPeople } from "../alerts/channels/channel.js";
import { DEFAULT_TWILIO_URL } from "../alerts/channels/phone/twilio-provider.js";
import { SIGNATURE_SCHEMES } from "../alerts/channels/webhook.js";
import { formatDuration, parseDuration } from "../core/duration.js";
import { OverseerError } from "../core/errors.js";
import { ENV_REF } from "./channel-secrets.js";
import { durationField } from "./duration-field.js";
import { phoneNumberField as phoneNumber } from "./phone-number-field.js";

export { resolveAlertChannels } from "./channel-secrets.js";

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** `env:NAME`; a literal is refused so that no secret sits in a config file. */
const secretRef = z.string().superRefine((value, ctx) => {
  if (ENV_REF.test(value)) return;
  ctx.addIssue({
    code: "custom",
    message: value.startsWith("env:")
      ? `must name an environment variable as env:NAME (letters, digits and _), got ${JSON.stringify(value)}`
      : 'must be a reference to an environment variable such as "env:HOOK_SECRET"; secrets are never written in the config file',
  });
});

/** A duration field with a default, written as the docs write it (`"10s"`). */
const duration = (fallback: string) => durationField.default(parseDuration(fallback, "default"));

/** An http(s) URL with no user:password in it (that would be a secret in the file). */
export const httpUrl = (schemes: readonly string[]) =>
  z.string().superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({
        code: "custom",
        message: `must be a URL (${schemes.join(" or ")}), got ${JSON.stringify(value)}`,
      });
      return;
    }
    if (!schemes.includes(url.protocol.slice(0, -1))) {
      ctx.addIssue({ code: "custom", message: `must start with ${schemes.map((s) => `${s}://`).join(" or ")}` });
    } else if (url.username !== "" || url.password !== "") {
      ctx.addIssue({
        code: "custom",
        message: "must not carry a user or password; give them as separate fields (password as env:NAME)",
      });
    }
  });

/** Whether a URL names this machine: 127.0.0.0/8, ::1 or localhost. */
function isLoopback(url: URL): boolean {
  return (
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(url.hostname) || url.hostname === "[::1]" || url.hostname === "localhost"
  );
}

const rateLimitSchema = z
  .strictObject({
    max: z.int({ error: "must be a whole number" }).min(1, { error: "must be at least 1" }),
    per: duration("1m").refine((ms) => ms > 0, { error: "must be longer than 0" }),
  })
  .default({ max: DEFAULT_BUNDLER_SETTINGS.maxMessages, per: DEFAULT_BUNDLER_SETTINGS.rateWindowMs });

const bundleSchema = z
  .strictObject({
    /** 0 sends every notification on its own (still rate-limited). */
    window: duration(formatDuration(DEFAULT_BUNDLER_SETTINGS.bundleWindowMs)),
    list: z.int({ error: "must be a whole number" }).min(0).max(50, { error: "must be at most 50" }).default(5),
  })
  .default({ window: DEFAULT_BUNDLER_SETTINGS.bundleWindowMs, list: DEFAULT_BUNDLER_SETTINGS.listed });

const common = {
  rateLimit: rateLimitSchema,
  bundle: bundleSchema,
  /** Another channel that gets a notification at once when a send through this one fails for good. */
  fallback: z.string().optional(),
};

const webhookSchema = z.strictObject({
  type: z.literal("webhook"),
  url: httpUrl(["http", "https"]),
  secret: secretRef,
  /** How deliveries are signed: Standard Webhooks, or the Stripe-like scheme Overseer had first. */
  signature: z
    .enum(SIGNATURE_SCHEMES, {
      error: (issue) =>
        `must be "standard" (Standard Webhooks) or "legacy" (Overseer-Signature); got ${JSON.stringify(issue.input)}`,
    })
    .default("standard"),
  timeout: duration("10s"),
  ...common,
});

const telegramSchema = z.strictObject({
  type: z.literal("telegram"),
  /** A chat id (negative for groups) or `@channelname`. */
  chatId: z.union([
    z.int(),
    z.string().regex(/^(-?\d+|@[A-Za-z0-9_]{5,32})$/, { error: "must be a chat id or @channelname" }),
  ]),
  botToken: secretRef,
  /** Telegram user ids allowed to press Approve / Deny / Acknowledge; none by default. */
  approvers: z.array(z.int({ error: "must be a Telegram user id (a whole number)" })).default([]),
  apiBaseUrl: httpUrl(["http", "https"]).default("https://api.telegram.org"),
  timeout: duration("10s"),
  ...common,
});

const emailSchema = z.strictObject({
  type: z.literal("email"),
  smtp: httpUrl(["smtp", "smtps"]),
  from: z.string().min(3, { error: "must be an e-mail address" }),
  to: z.array(z.string().regex(/^[^\s@]+@[^\s@]+$/, { error: "must be an e-mail address" })).min(1, {
    error: "must list at least one address",
  }),
  user: z.string().min(1).optional(),
  password: secretRef.optional(),
  requireTls: z.boolean().default(false),
  subjectPrefix: z.string().max(40).default("[Overseer]"),
  timeout: duration("10s"),
  ...common,
});

/**
 * The phone provider an `sms` or `voice` channel sends through: Twilio's REST API, or any
 * service that speaks it (`url`). The account SID is the user part of HTTP basic auth and a
 * path segment, so it holds no ':' or '/'.
 */
const phoneProviderSchema = z.strictObject({
  // The auth token goes in every request's Authorization header: plain http only on loopback.
  url: httpUrl(["http", "https"])
    .refine((value) => !URL.canParse(value) || new URL(value).protocol === "https:" || isLoopback(new URL(value)), {
      error: "must start with https:// (plain http only on this machine: 127.0.0.1, ::1 or localhost)",
    })
    .default(DEFAULT_TWILIO_URL),
  accountSid: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, {
    error: "must be an account SID: 1-64 letters, digits, '_' and '-' (such as AC0123…)",
  }),
  authToken: secretRef,
});

/**
 * `sms` and `voice`: texts and calls through a phone provider. With `to` the channel pages that
 * number (a team phone); without it, it reaches only people (`person:<name>:sms|voice`).
 */
const phoneFields = {
  provider: phoneProviderSchema,
  from: phoneNumber,
  to: phoneNumber.optional(),
  timeout: duration("10s"),
  ...common,
};
const smsSchema = z.strictObject({ type: z.literal("sms"), ...phoneFields });
const voiceSchema = z.strictObject({ type: z.literal("voice"), ...phoneFields });

const consoleSchema = z.strictObject({ type: z.literal("console"), ...common });

const CHANNEL_TYPES = ["webhook", "telegram", "email", "sms", "voice", "console"] as const;

const channelSchema = z.discriminatedUnion(
  "type",
  [webhookSchema, telegramSchema, emailSchema, smsSchema, voiceSchema, consoleSchema],
  {
    error: (issue) =>
      issue.code === "invalid_union" && issue.note === "No matching discriminator"
        ? `must be one of ${CHANNEL_TYPES.join(", ")}`
        : undefined,
  },
);

export const alertChannelsSchema = z.record(z.string(), channelSchema).superRefine((record, ctx) => {
  for (const key of Object.keys(record)) {
    if (!NAME_PATTERN.test(key)) {
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: "channel names must be 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
      });
    }
  }
  for (const [key, channel] of Object.entries(record)) {
    if (channel.type === "email" && channel.password !== undefined && channel.user === undefined) {
      ctx.addIssue({ code: "custom", path: [key, "user"], message: "is required when a password is given" });
    }
    const problem = fallbackProblem(record, key);
    if (problem !== null) ctx.addIssue({ code: "custom", path: [key, "fallback"], message: problem });
  }
});

/** What is wrong with channel `name`'s fallback: none, another channel, no loop back to it; null if nothing. */
function fallbackProblem(
  record: Readonly<Record<string, { type: string; fallback?: string | undefined }>>,
  name: string,
): string | null {
  const first = record[name]?.fallback;
  if (first === undefined) return null;
  if (first === name) return "must name another channel, not this one";
  if (!Object.hasOwn(record, first)) {
    return `names no channel (${JSON.stringify(first)}); the channels are ${Object.keys(record).join(", ")}`;
  }
  const target = record[first] as { type: string; to?: unknown };
  if (reachesOnlyPeople(target)) {
    return `names ${JSON.stringify(first)}, ${target.type === "sms" ? "an sms" : "a voice"} channel without "to", which reaches only people`;
  }
  const path = [name, first];
  for (let next = record[first]?.fallback; next !== undefined; next = record[next]?.fallback) {
    path.push(next);
    if (next === name) return `makes a loop: ${path.join(" → ")}`;
    if (path.length > Object.keys(record).length + 1) return null; // a loop further on: its own channel says so
  }
  return null;
}

export type AlertChannelsInput = z.input<typeof alertChannelsSchema>;
type Parsed = z.output<typeof alertChannelsSchema>;
type ParsedChannel = Parsed[string];

/** A channel as parsed: secrets still `env:NAME` references. */
export type ChannelConfig = ParsedChannel & { name: string; limits: BundlerSettings };

/** Secrets read from the environment: what the channel factory takes. */
export type ResolvedChannelConfig =
  | (Extract<ChannelConfig, { type: "webhook" }> & { secretValue: string })
  | (Extract<ChannelConfig, { type: "telegram" }> & { botTokenValue: string })
  | (Extract<ChannelConfig, { type: "email" }> & { passwordValue?: string })
  | (Extract<ChannelConfig, { type: "sms" | "voice" }> & { authTokenValue: string })
  | Extract<ChannelConfig, { type: "console" }>;

/**
 * Validates `alerts.channels`. Throws INVALID_CONFIG naming the field
 * (`alerts.channels.ops-hook.secret: ...`).
 */
export function parseAlertChannels(data: unknown, source = "config"): ChannelConfig[] {
  const result = alertChannelsSchema.safeParse(data ?? {}, { reportInput: true });
  if (!result.success) throw invalid(source, describeIssue(result.error.issues));
  return Object.entries(result.data).map(([name, c]) => ({
    ...c,
    name,
    limits: {
      maxMessages: c.rateLimit.max,
      rateWindowMs: c.rateLimit.per,
      bundleWindowMs: c.bundle.window,
      listed: c.bundle.list,
    },
  }));
}

function invalid(source: string, message: string): OverseerError {
  return new OverseerError("INVALID_CONFIG", `${source}: ${message}`, { source });
}

function describeIssue(issues: readonly z.core.$ZodIssue[]): string {
  const issue = issues[0];
  if (issue === undefined) return "invalid alerts.channels";
  const path = ["alerts", "channels", ...issue.path.map(String)];
  let field = path.join(".");
  let message: string;
  if (issue.code === "unrecognized_keys") {
    field = [...path, issue.keys[0] ?? ""].join(".");
    message = "unknown field";
  } else if (issue.code === "invalid_type") {
    // A message the schema wrote itself is kept; zod's own ("Invalid input: ...") is reworded.
    message =
      issue.input === undefined
        ? `is required (${issue.expected})`
        : issue.message.startsWith("Invalid input")
          ? `must be ${issue.expected === "int" ? "a whole number" : issue.expected}`
          : issue.message;
  } else if (issue.code === "invalid_value" && path.at(-1) === "type") {
    message = `must be one of ${CHANNEL_TYPES.join(", ")}`;
  } else {
    message = issue.message;
  }
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : "";
  return `${field}: ${message}${more}`;
}
