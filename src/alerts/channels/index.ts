/** Notification channels: the public surface of `src/alerts/channels`. */
export * from "./bundler.js";
export * from "./channel.js";
export { createConsoleChannel } from "./console.js";
export { createEmailChannel, type EmailTarget } from "./email.js";
export { type ChannelDeps, createChannel, createChannels } from "./factory.js";
export * from "./phone/index.js";
export * from "./telegram.js";
export * from "./webhook.js";
