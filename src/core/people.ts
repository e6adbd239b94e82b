/**
 * People a policy may page by name, and the notify targets that name them: `person:<name>`, or
 * one contact method of theirs, `person:<name>:telegram|email|sms|voice`. A person's contacts are
 * a Telegram user id, an e-mail address and a phone number; `sms` and `voice` both reach the
 * phone. Pure: the config (config/alert-people.ts) and delivery (alerts/delivery.ts) both read
 * targets through these.
 */

export const CONTACT_METHODS = ["telegram", "email", "sms", "voice"] as const;
export type ContactMethod = (typeof CONTACT_METHODS)[number];

/** How to reach one person; at least one contact. */
export interface PersonContacts {
  /** A Telegram user id (they must have started a chat with the bot). */
  telegram?: number;
  email?: string;
  /** A phone number in E.164 form (`+14155550100`), texted (`sms`) or called (`voice`). */
  phone?: string;
}

export type ContactField = keyof PersonContacts;

/** The contact each method reaches a person at. */
export const CONTACT_FIELD: Readonly<Record<ContactMethod, ContactField>> = {
  telegram: "telegram",
  email: "email",
  sms: "phone",
  voice: "phone",
};

/**
 * The methods a bare `person:<name>` pages, one per contact: a phone is texted, never called.
 * A call on every page of every alert would surprise; a policy that wants one says
 * `person:<name>:voice` in the step it belongs to.
 */
export const DEFAULT_METHODS: readonly ContactMethod[] = ["telegram", "email", "sms"];

/** `+` and 8 to 15 digits, the first not 0: an E.164 number, written without spaces. */
export const PHONE_NUMBER = /^\+[1-9]\d{7,14}$/;

/** What a phone number field must hold, for config messages. */
export const PHONE_NUMBER_RULE =
  'must be a phone number in E.164 form, "+" then 8 to 15 digits without spaces or dashes (such as "+14155550100")';

/** A notify target naming a person: `person:<name>`, or one contact of theirs, `person:<name>:<method>`. */
export function parsePersonTarget(target: string): { person: string; method: ContactMethod | null } | null {
  const m = /^person:([^:]+)(?::([^:]+))?$/.exec(target);
  if (m === null) return null;
  const method = m[2] ?? null;
  if (method !== null && !(CONTACT_METHODS as readonly string[]).includes(method)) return null;
  return { person: m[1] as string, method: method as ContactMethod | null };
}

/** Where `method` reaches this person (their user id, address or number); undefined if they lack that contact. */
export function contactOf(contacts: PersonContacts, method: ContactMethod): number | string | undefined {
  return contacts[CONTACT_FIELD[method]];
}

/** The targets `person:<name>` stands for: one per contact they have (see DEFAULT_METHODS), in a fixed order. */
export function contactTargets(name: string, contacts: PersonContacts): string[] {
  return DEFAULT_METHODS.filter((method) => contactOf(contacts, method) !== undefined).map(
    (method) => `person:${name}:${method}`,
  );
}
