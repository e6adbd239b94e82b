import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isOverseerError } from "../core/errors.js";
import { parseAlertChannels, resolveAlertChannels } from "./alert-channels.js";

const sample = {
  "ops-hook": { type: "webhook", url: "https://hooks.example.com/overseer", secret: "env:HOOK_SECRET" },
  "ops-tg": { type: "telegram", chatId: "-1001234", botToken: "env:TG_TOKEN", approvers: [12345] },
  mail: { type: "email", smtp: "smtp://127.0.0.1:2525", from: "overseer@example.com", to: ["ops@example.com"] },
  log: { type: "console" },
};

function errorOf(data: unknown): string {
  try {
    parseAlertChannels(data, "overseer.config.json");
  } catch (err) {
    expect(isOverseerError(err, "INVALID_CONFIG")).toBe(true);
    return (err as Error).message;
  }
  throw new Error("expected INVALID_CONFIG");
}

describe("parseAlertChannels", () => {
  it("parses the sketch from the issue with defaults filled in", () => {
    const channels = parseAlertChannels(sample);
    expect(channels.map((c) => [c.name, c.type])).toEqual([
      ["ops-hook", "webhook"],
      ["ops-tg", "telegram"],
      ["mail", "email"],
      ["log", "console"],
    ]);
    expect(channels[0]).toMatchObject({
      url: "https://hooks.example.com/overseer",
      secret: "env:HOOK_SECRET",
      signature: "standard",
      timeout: 10_000,
      rateLimit: { max: 20, per: 60_000 },
      bundle: { window: 15_000, list: 5 },
      limits: { maxMessages: 20, rateWindowMs: 60_000, bundleWindowMs: 15_000, listed: 5 },
    });
    expect(channels[1]).toMatchObject({ apiBaseUrl: "https://api.telegram.org", approvers: [12345] });
    expect(channels[2]).toMatchObject({ requireTls: false, subjectPrefix: "[Overseer]" });
  });

  it("parses the example in docs/channels.md as documented", () => {
    const doc = readFileSync(new URL("../../docs/channels.md", import.meta.url), "utf8");
    const block = /## Configuration[\s\S]*?```json\n([\s\S]*?)```/.exec(doc)?.[1];
    if (block === undefined) throw new Error("no JSON example under ## Configuration in docs/channels.md");
    const channels = parseAlertChannels(JSON.parse(block).alerts.channels, "docs/channels.md");
    expect(channels.map((c) => [c.name, c.type])).toEqual([
      ["ops-hook", "webhook"],
      ["ops-tg", "telegram"],
      ["mail", "email"],
      ["team-sms", "sms"],
      ["calls", "voice"],
      ["log", "console"],
    ]);
    expect(channels[3]).toMatchObject({ to: "+14155550123", provider: { url: "https://api.twilio.com" } });
    expect(channels[4]?.limits).toMatchObject({ maxMessages: 5, rateWindowMs: 600_000 });
  });

  it("reads per-channel rate limits, bundling and durations", () => {
    const [c] = parseAlertChannels({
      log: { type: "console", rateLimit: { max: 5, per: "10m" }, bundle: { window: "0s", list: 0 } },
    });
    expect(c?.limits).toEqual({ maxMessages: 5, rateWindowMs: 600_000, bundleWindowMs: 0, listed: 0 });
  });

  it("accepts an empty section and a telegram apiBaseUrl for a local Bot API", () => {
    expect(parseAlertChannels(undefined)).toEqual([]);
    const [tg] = parseAlertChannels({
      t: { type: "telegram", chatId: 42, botToken: "env:T", apiBaseUrl: "http://127.0.0.1:8081" },
    });
    expect(tg).toMatchObject({ chatId: 42, apiBaseUrl: "http://127.0.0.1:8081", approvers: [] });
  });

  it("takes a fallback naming another channel, chains included", () => {
    const channels = parseAlertChannels({
      tg: { type: "telegram", chatId: "1", botToken: "env:TG", fallback: "hook" },
      hook: { type: "webhook", url: "https://x.test", secret: "env:S", fallback: "desk" },
      desk: { type: "console" },
    });
    expect(channels.map((c) => [c.name, c.fallback])).toEqual([
      ["tg", "hook"],
      ["hook", "desk"],
      ["desk", undefined],
    ]);
  });

  it.each([
    [
      "a fallback to no channel",
      { tg: { type: "console", fallback: "ops-consol" }, ops: { type: "console" } },
      'alerts.channels.tg.fallback: names no channel ("ops-consol"); the channels are tg, ops',
    ],
    [
      "a fallback to itself",
      { tg: { type: "console", fallback: "tg" } },
      "alerts.channels.tg.fallback: must name another channel, not this one",
    ],
    [
      "fallbacks in a loop",
      {
        a: { type: "console", fallback: "b" },
        b: { type: "console", fallback: "c" },
        c: { type: "console", fallback: "a" },
      },
      "alerts.channels.a.fallback: makes a loop: a → b → c → a",
    ],
    [
      "a literal webhook secret",
      { h: { type: "webhook", url: "https://x.test", secret: "hunter2" } },
      'alerts.channels.h.secret: must be a reference to an environment variable such as "env:HOOK_SECRET"; secrets are never written in the config file',
    ],
    [
      "a literal bot token",
      { t: { type: "telegram", chatId: "1", botToken: "123:ABC" } },
      "alerts.channels.t.botToken: must be a reference to an environment variable",
    ],
    [
      "a malformed env reference",
      { h: { type: "webhook", url: "https://x.test", secret: "env:1BAD" } },
      "alerts.channels.h.secret: must name an environment variable as env:NAME",
    ],
    [
      "a password in the SMTP URL",
      { m: { type: "email", smtp: "smtp://u:pw@mail.test", from: "a@b.c", to: ["a@b.c"] } },
      "alerts.channels.m.smtp: must not carry a user or password",
    ],
    [
      "a literal SMTP password",
      { m: { type: "email", smtp: "smtp://mail.test", from: "a@b.c", to: ["a@b.c"], user: "u", password: "pw" } },
      "alerts.channels.m.password: must be a reference to an environment variable",
    ],
    [
      "a password without a user",
      { m: { type: "email", smtp: "smtp://mail.test", from: "a@b.c", to: ["a@b.c"], password: "env:PW" } },
      "alerts.channels.m.user: is required when a password is given",
    ],
    [
      "an unknown type",
      { x: { type: "pager" } },
      "alerts.channels.x.type: must be one of webhook, telegram, email, sms, voice, console",
    ],
    [
      "a missing type",
      { x: {} },
      "alerts.channels.x.type: must be one of webhook, telegram, email, sms, voice, console",
    ],
    [
      "a literal auth token",
      { t: { type: "sms", provider: { accountSid: "AC1", authToken: "tok-3f9a" }, from: "+14155550100" } },
      "alerts.channels.t.provider.authToken: must be a reference to an environment variable",
    ],
    [
      "a phone channel without a provider",
      { t: { type: "voice", from: "+14155550100" } },
      "alerts.channels.t.provider: is required (object)",
    ],
    [
      "a provider without an account SID",
      { t: { type: "sms", provider: { authToken: "env:T" }, from: "+14155550100" } },
      "alerts.channels.t.provider.accountSid: is required (string)",
    ],
    [
      "an account SID that would break the URL or basic auth",
      { t: { type: "sms", provider: { accountSid: "AC1:x", authToken: "env:T" }, from: "+14155550100" } },
      "alerts.channels.t.provider.accountSid: must be an account SID: 1-64 letters, digits, '_' and '-'",
    ],
    [
      "a provider URL with credentials in it",
      {
        t: {
          type: "sms",
          provider: { url: "https://AC1:tok@api.twilio.com", accountSid: "AC1", authToken: "env:T" },
          from: "+14155550100",
        },
      },
      "alerts.channels.t.provider.url: must not carry a user or password",
    ],
    [
      "a provider URL in plain http off this machine (the auth token would travel in clear)",
      {
        t: {
          type: "sms",
          provider: { url: "http://sms-gateway.example.com", accountSid: "AC1", authToken: "env:T" },
          from: "+14155550100",
        },
      },
      "alerts.channels.t.provider.url: must start with https:// (plain http only on this machine",
    ],
    [
      "an unknown provider field",
      { t: { type: "sms", provider: { accountSid: "AC1", authToken: "env:T", region: "ie1" }, from: "+14155550100" } },
      "alerts.channels.t.provider.region: unknown field",
    ],
    [
      "a missing from number",
      { t: { type: "sms", provider: { accountSid: "AC1", authToken: "env:T" } } },
      "alerts.channels.t.from: is required (string)",
    ],
    [
      "a from number with spaces",
      { t: { type: "sms", provider: { accountSid: "AC1", authToken: "env:T" }, from: "+1 415 555 0100" } },
      'alerts.channels.t.from: must be a phone number in E.164 form, "+" then 8 to 15 digits without spaces or dashes (such as "+14155550100"), got "+1 415 555 0100"',
    ],
    [
      "a to number without its +",
      {
        t: {
          type: "voice",
          provider: { accountSid: "AC1", authToken: "env:T" },
          from: "+14155550100",
          to: "004915112345678",
        },
      },
      'alerts.channels.t.to: must be a phone number in E.164 form, "+" then 8 to 15 digits without spaces or dashes (such as "+14155550100"), got "004915112345678"',
    ],
    [
      "a fallback to a phone channel that reaches only people",
      {
        tg: { type: "telegram", chatId: "1", botToken: "env:TG", fallback: "texts" },
        texts: { type: "sms", provider: { accountSid: "AC1", authToken: "env:T" }, from: "+14155550100" },
      },
      'alerts.channels.tg.fallback: names "texts", an sms channel without "to", which reaches only people',
    ],
    ["an unknown field", { log: { type: "console", colour: "red" } }, "alerts.channels.log.colour: unknown field"],
    [
      "a non-http webhook url",
      { h: { type: "webhook", url: "ftp://x.test", secret: "env:S" } },
      "alerts.channels.h.url: must start with http:// or https://",
    ],
    [
      "a webhook url that is not a URL",
      { h: { type: "webhook", url: "nope", secret: "env:S" } },
      "alerts.channels.h.url: must be a URL",
    ],
    [
      "a missing webhook secret",
      { h: { type: "webhook", url: "https://x.test" } },
      "alerts.channels.h.secret: is required",
    ],
    [
      "a non-integer approver",
      { t: { type: "telegram", chatId: "1", botToken: "env:T", approvers: ["alice"] } },
      "alerts.channels.t.approvers.0: must be a Telegram user id",
    ],
    ["a bad chat id", { t: { type: "telegram", chatId: "my chat", botToken: "env:T" } }, "alerts.channels.t.chatId"],
    [
      "no e-mail recipients",
      { m: { type: "email", smtp: "smtp://mail.test", from: "a@b.c", to: [] } },
      "alerts.channels.m.to: must list at least one address",
    ],
    [
      "a zero rate limit",
      { log: { type: "console", rateLimit: { max: 0, per: "1m" } } },
      "alerts.channels.log.rateLimit.max: must be at least 1",
    ],
    [
      "a bad duration",
      { log: { type: "console", bundle: { window: "soon" } } },
      "alerts.channels.log.bundle.window: must be a duration",
    ],
    ["a bad channel name", { "bad name": { type: "console" } }, "alerts.channels.bad name: channel names must be"],
    [
      "an unknown signature scheme",
      { h: { type: "webhook", url: "https://x.test", secret: "env:S", signature: "stripe" } },
      'alerts.channels.h.signature: must be "standard" (Standard Webhooks) or "legacy" (Overseer-Signature); got "stripe"',
    ],
  ])("refuses %s with a clear INVALID_CONFIG", (_label, data, expected) => {
    const message = errorOf(data);
    expect(message.startsWith("overseer.config.json: ")).toBe(true);
    expect(message).toContain(expected);
  });

  it("never echoes a literal secret in its message", () => {
    expect(errorOf({ h: { type: "webhook", url: "https://x.test", secret: "hunter2-very-secret" } })).not.toContain(
      "hunter2",
    );
    expect(
      errorOf({
        t: { type: "sms", provider: { accountSid: "AC1", authToken: "hunter2-token" }, from: "+14155550100" },
      }),
    ).not.toContain("hunter2");
  });

  it("parses sms and voice channels: the provider defaulting to Twilio, a team phone's number, limits", () => {
    const channels = parseAlertChannels({
      texts: {
        type: "sms",
        provider: { accountSid: "AC0123456789abcdef0123456789abcdef", authToken: "env:TWILIO_TOKEN" },
        from: "+14155550100",
        fallback: "desk-phone",
      },
      "desk-phone": {
        type: "voice",
        provider: { url: "http://127.0.0.1:8089/", accountSid: "AC1", authToken: "env:T2" },
        from: "+14155550100",
        to: "+4915112345678",
        timeout: "5s",
        rateLimit: { max: 3, per: "10m" },
        bundle: { window: "1m", list: 2 },
      },
    });
    expect(channels[0]).toMatchObject({
      type: "sms",
      provider: {
        url: "https://api.twilio.com",
        accountSid: "AC0123456789abcdef0123456789abcdef",
        authToken: "env:TWILIO_TOKEN",
      },
      from: "+14155550100",
      timeout: 10_000,
      fallback: "desk-phone",
      limits: { maxMessages: 20, rateWindowMs: 60_000, bundleWindowMs: 15_000, listed: 5 },
    });
    expect(channels[0]).not.toHaveProperty("to");
    expect(channels[1]).toMatchObject({
      type: "voice",
      provider: { url: "http://127.0.0.1:8089/" },
      to: "+4915112345678",
      timeout: 5_000,
      limits: { maxMessages: 3, rateWindowMs: 600_000, bundleWindowMs: 60_000, listed: 2 },
    });
  });
});

describe("resolveAlertChannels", () => {
  it("reads secrets from the environment", () => {
    const resolved = resolveAlertChannels(parseAlertChannels(sample), { HOOK_SECRET: "s1", TG_TOKEN: "123:abc" });
    expect(resolved[0]).toMatchObject({ type: "webhook", secretValue: "s1" });
    expect(resolved[1]).toMatchObject({ type: "telegram", botTokenValue: "123:abc" });
  });

  it("names a missing or empty variable", () => {
    const channels = parseAlertChannels(sample);
    expect(() => resolveAlertChannels(channels, { TG_TOKEN: "x" }, "overseer.config.json")).toThrow(
      "overseer.config.json: alerts.channels.ops-hook.secret: environment variable HOOK_SECRET is not set (referenced as env:HOOK_SECRET)",
    );
    expect(() => resolveAlertChannels(channels, { HOOK_SECRET: "x", TG_TOKEN: "" })).toThrow(
      /alerts\.channels\.ops-tg\.botToken: environment variable TG_TOKEN is not set/,
    );
  });

  it("takes the legacy signature scheme when asked", () => {
    const [h] = parseAlertChannels({
      h: { type: "webhook", url: "https://x.test", secret: "env:S", signature: "legacy" },
    });
    expect(h).toMatchObject({ signature: "legacy" });
  });

  it("refuses a whsec_ secret that is not Standard Webhooks' base64 of 24 to 64 bytes, naming the variable, not the value", () => {
    const standard = parseAlertChannels({ h: { type: "webhook", url: "https://x.test", secret: "env:S" } });
    const good = `whsec_${Buffer.alloc(32, 9).toString("base64")}`;
    expect(resolveAlertChannels(standard, { S: good })[0]).toMatchObject({ secretValue: good });
    expect(resolveAlertChannels(standard, { S: "any raw secret" })[0]).toMatchObject({ secretValue: "any raw secret" });
    const short = `whsec_${Buffer.alloc(8, 9).toString("base64")}`;
    const error = (() => {
      try {
        resolveAlertChannels(standard, { S: short }, "overseer.config.json");
      } catch (err) {
        return err as Error;
      }
      throw new Error("expected INVALID_CONFIG");
    })();
    expect(isOverseerError(error, "INVALID_CONFIG")).toBe(true);
    expect(error.message).toBe(
      "overseer.config.json: alerts.channels.h.secret: a whsec_ secret must hold 24 to 64 bytes (Standard Webhooks); this one holds 8 (read from env:S)",
    );
    expect(error.message).not.toContain(short.slice(6));
    // The legacy scheme keys its HMAC with the whole string, whatever it looks like.
    const legacy = parseAlertChannels({
      h: { type: "webhook", url: "https://x.test", secret: "env:S", signature: "legacy" },
    });
    expect(resolveAlertChannels(legacy, { S: short })[0]).toMatchObject({ secretValue: short });
  });

  it("reads a phone provider's auth token, naming its field when the variable is missing", () => {
    const channels = parseAlertChannels({
      pager: { type: "voice", provider: { accountSid: "AC1", authToken: "env:PAGER_TOKEN" }, from: "+14155550100" },
    });
    expect(resolveAlertChannels(channels, { PAGER_TOKEN: "tok" })[0]).toMatchObject({
      authTokenValue: "tok",
      provider: { authToken: "env:PAGER_TOKEN" },
    });
    expect(() => resolveAlertChannels(channels, {}, "overseer.config.json")).toThrow(
      "overseer.config.json: alerts.channels.pager.provider.authToken: environment variable PAGER_TOKEN is not set (referenced as env:PAGER_TOKEN)",
    );
  });

  it("reads an SMTP password only when one is referenced", () => {
    const channels = parseAlertChannels({
      m: { type: "email", smtp: "smtp://mail.test", from: "a@b.c", to: ["a@b.c"], user: "u", password: "env:PW" },
    });
    expect(resolveAlertChannels(channels, { PW: "pw" })[0]).toMatchObject({ passwordValue: "pw" });
    expect(() => resolveAlertChannels(channels, {})).toThrow(/environment variable PW is not set/);
  });
});
