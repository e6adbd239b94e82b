/**
 * The `sms` and `voice` channels: a text or a call per notification, to one number, through a
 * phone provider (phone-provider.ts). A text or a call cannot be changed once sent, so there is
 * no receipt; the provider's id for it goes to the debug log.
 */
import type { Logger } from "../../../core/logger.js";
import type { Channel } from "../channel.js";
import type { PhoneProvider } from "./phone-provider.js";
import { smsText, spokenText } from "./phone-text.js";

export interface PhoneChannelOptions {
  provider: PhoneProvider;
  /** The number texts and calls come from (one the provider lets this account use). */
  from: string;
  /** The number paged: a team phone, or a person's phone. */
  to: string;
  logger?: Logger;
}

export function createSmsChannel(name: string, options: PhoneChannelOptions): Channel {
  return {
    name,
    type: "sms",
    async send(n) {
      const id = await options.provider.sendSms(options.to, options.from, smsText(n));
      options.logger?.debug({ channel: name, notificationId: n.id, providerId: id }, "sms sent");
      return undefined;
    },
  };
}

export function createVoiceChannel(name: string, options: PhoneChannelOptions): Channel {
  return {
    name,
    type: "voice",
    async send(n) {
      const id = await options.provider.call(options.to, options.from, spokenText(n));
      options.logger?.debug({ channel: name, notificationId: n.id, providerId: id }, "call placed");
      return undefined;
    },
  };
}
