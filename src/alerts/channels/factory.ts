/**
 * Builds channels from the resolved `alerts.channels` config (secrets already read from the
 * environment; see config/alert-channels.ts). The one place that knows every channel type.
 */
import type { ResolvedChannelConfig } from "../../config/alert-channels.js";
import type { Logger } from "../../core/logger.js";
import { type Channel, type Notification, reachesOnlyPeople } from "./channel.js";
import { createConsoleChannel } from "./console.js";
import { createEmailChannel } from "./email.js";
import { createSmsChannel, createVoiceChannel } from "./phone/phone-channel.js";
import { TwilioProvider } from "./phone/twilio-provider.js";
import { createTelegramChannel, type SentTelegramMessage, TelegramClient } from "./telegram.js";
import { createWebhookChannel, type FetchLike } from "./webhook.js";

export interface ChannelDeps {
  /** Where the console channel writes. */
  logger: Logger;
  /** For webhook, Telegram and phone provider calls (tests inject one; the global fetch otherwise). */
  fetch?: FetchLike;
  /** Milliseconds since the epoch, for webhook signatures. */
  now?: () => number;
  /** Told of every Telegram message sent, so its buttons can be removed once settled. */
  onTelegramSent?: (channel: string, n: Notification, message: SentTelegramMessage) => void;
}

export function createChannel(config: ResolvedChannelConfig, deps: ChannelDeps): Channel {
  switch (config.type) {
    case "webhook":
      return createWebhookChannel(
        config.name,
        { url: config.url, secret: config.secretValue, signature: config.signature },
        {
          timeoutMs: config.timeout,
          ...(deps.fetch ? { fetch: deps.fetch } : {}),
          ...(deps.now ? { now: deps.now } : {}),
        },
      );
    case "telegram": {
      const client = new TelegramClient({
        botToken: config.botTokenValue,
        apiBaseUrl: config.apiBaseUrl,
        timeoutMs: config.timeout,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      });
      const onSent = deps.onTelegramSent;
      return createTelegramChannel(config.name, {
        client,
        chatId: config.chatId,
        ...(onSent ? { onSent: (n: Notification, m: SentTelegramMessage) => onSent(config.name, n, m) } : {}),
      });
    }
    case "email":
      return createEmailChannel(config.name, {
        smtp: config.smtp,
        from: config.from,
        to: config.to,
        requireTls: config.requireTls,
        subjectPrefix: config.subjectPrefix,
        timeoutMs: config.timeout,
        ...(config.user === undefined ? {} : { user: config.user }),
        ...(config.passwordValue === undefined ? {} : { password: config.passwordValue }),
      });
    case "sms":
    case "voice": {
      // Without `to` a phone channel reaches only people: delivery opens one per person's number.
      if (config.to === undefined) {
        throw new Error(`channel ${config.name}: a ${config.type} channel without "to" pages no number of its own`);
      }
      const provider = new TwilioProvider({
        accountSid: config.provider.accountSid,
        authToken: config.authTokenValue,
        url: config.provider.url,
        timeoutMs: config.timeout,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      });
      const options = { provider, from: config.from, to: config.to, logger: deps.logger };
      return config.type === "sms" ? createSmsChannel(config.name, options) : createVoiceChannel(config.name, options);
    }
    case "console":
      return createConsoleChannel(config.name, deps.logger);
  }
}

/** Every configured channel that pages by itself, by name (an `sms`/`voice` channel without `to` reaches only people). */
export function createChannels(configs: readonly ResolvedChannelConfig[], deps: ChannelDeps): Map<string, Channel> {
  return new Map(configs.filter((c) => !reachesOnlyPeople(c)).map((c) => [c.name, createChannel(c, deps)]));
}
