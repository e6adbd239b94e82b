/**
 * What the `sms` and `voice` channels send through: a phone provider that texts and calls. The
 * channels decide what to say (phone-text.ts) and to whom; a provider only carries it. Each
 * method resolves with the provider's id for what it sent (a message or call SID), and rejects
 * with a `ChannelDeliveryError` that says whether trying again can help, never carrying a secret.
 */

/** What one call says, at most; a provider cuts longer text. */
export const MAX_SPOKEN_LENGTH = 300;

export interface PhoneProvider {
  /** How errors name it: `twilio at https://api.twilio.com`. */
  readonly label: string;
  /** Texts `body` to `to` from `from` (E.164 numbers); resolves with the message's id. */
  sendSms(to: string, from: string, body: string): Promise<string>;
  /** Calls `to` from `from` and says `spokenText` (plain text, no markup); resolves with the call's id. */
  call(to: string, from: string, spokenText: string): Promise<string>;
}
