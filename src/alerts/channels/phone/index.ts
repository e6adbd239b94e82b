/** Texts and calls: the `sms` and `voice` channels and the phone providers they send through. */
export * from "./phone-channel.js";
export * from "./phone-provider.js";
export * from "./phone-text.js";
export * from "./twilio-provider.js";
