/**
 * People a policy may page by name, and the notify targets that name them: `person:<name>`, or
 * one contact of theirs, `person:<name>:telegram` / `person:<name>:email`. Pure: the config
 * (config/alert-people.ts) and delivery (alerts/delivery.ts) both read targets through these.
 */

export const CONTACT_METHODS = ["telegram", "email"] as const;
export type ContactMethod = (typeof CONTACT_METHODS)[number];

/** How to reach one person; at least one method. */
export interface PersonContacts {
  /** A Telegram user id (they must have started a chat with the bot). */
  telegram?: number;
  email?: string;
}

/** A notify target naming a person: `person:<name>`, or one contact of theirs, `person:<name>:<method>`. */
export function parsePersonTarget(target: string): { person: string; method: ContactMethod | null } | null {
  const m = /^person:([^:]+)(?::([^:]+))?$/.exec(target);
  if (m === null) return null;
  const method = m[2] ?? null;
  if (method !== null && !(CONTACT_METHODS as readonly string[]).includes(method)) return null;
  return { person: m[1] as string, method: method as ContactMethod | null };
}

/** The targets `person:<name>` stands for: one per contact method they have, in a fixed order. */
export function contactTargets(name: string, contacts: PersonContacts): string[] {
  return CONTACT_METHODS.filter((method) => contacts[method] !== undefined).map((method) => `person:${name}:${method}`);
}
