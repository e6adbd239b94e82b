/**
 * The `people` part of the config file's `alerts` section: who a policy may page by name, and
 * how to reach them (GoAlert's contact methods). A person has a Telegram user id, written to by
 * the first Telegram channel's bot, an e-mail address, written to through the first e-mail
 * channel's SMTP server, and a phone number, texted through the first `sms` channel and called
 * through the first `voice` channel. A policy step naming `person:<name>` pages each of their
 * contacts as a notification of its own (`person:<name>:telegram`, `person:<name>:email`,
 * `person:<name>:sms`; never a call, which a step asks for as `person:<name>:voice`), so each
 * retries, fails and shows on the escalation timeline by itself.
 */
import { z } from "zod";
import type { EscalationPolicy } from "../core/alert.js";
import { type ContactField, contactTargets, type PersonContacts, parsePersonTarget } from "../core/people.js";
import { phoneNumberField } from "./phone-number-field.js";

const PERSON_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const personSchema = z
  .strictObject({
    telegram: z
      .int({ error: "must be a Telegram user id (a whole number)" })
      .min(1, { error: "must be a Telegram user id (a whole number)" })
      .optional(),
    email: z
      .string()
      .regex(/^[^\s@]+@[^\s@]+$/, { error: "must be an e-mail address" })
      .optional(),
    phone: phoneNumberField.optional(),
  })
  .refine((p) => p.telegram !== undefined || p.email !== undefined || p.phone !== undefined, {
    error: "must give at least one way to reach them: telegram, email or phone",
  });

/** `alerts.people`: person name → contacts. */
export const alertPeopleSchema = z
  .record(z.string(), personSchema)
  .superRefine((people, ctx) => {
    for (const name of Object.keys(people)) {
      if (!PERSON_NAME.test(name)) {
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: "person names are 1-64 letters, digits, '.', '_' and '-', starting with a letter or digit",
        });
      }
    }
  })
  .default({});

/**
 * The policies with each `person:<name>` target replaced by that person's contact targets (a
 * target already listed in the step is not repeated). Names that are not people are left as they
 * are; `checkPolicyTargets` reports them.
 */
export function expandPeople(
  policies: Record<string, EscalationPolicy>,
  people: Readonly<Record<string, PersonContacts>>,
): Record<string, EscalationPolicy> {
  const expand = (target: string): string[] => {
    const named = parsePersonTarget(target);
    if (named === null || named.method !== null || !Object.hasOwn(people, named.person)) return [target];
    return contactTargets(named.person, people[named.person] as PersonContacts);
  };
  return Object.fromEntries(
    Object.entries(policies).map(([name, policy]) => [
      name,
      { ...policy, steps: policy.steps.map((s) => ({ ...s, notify: [...new Set(s.notify.flatMap(expand))] })) },
    ]),
  );
}

/** The channel types that can carry each contact: a phone is texted or called. */
const CARRIERS: Readonly<Record<ContactField, readonly string[]>> = {
  telegram: ["telegram"],
  email: ["email"],
  phone: ["sms", "voice"],
};

/**
 * Each contact that no configured channel can carry (a Telegram id without a Telegram channel,
 * an address without an e-mail channel, a phone without an `sms` or `voice` channel), with its
 * path (`people.<name>.<field>`). A phone reached by one of the two only is fine here; a target
 * needing the other is reported by `checkPolicyTargets`.
 */
export function checkPeopleReachable(
  people: Readonly<Record<string, PersonContacts>>,
  channelTypes: ReadonlySet<string>,
): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  for (const [name, contacts] of Object.entries(people)) {
    for (const [field, carriers] of Object.entries(CARRIERS) as Array<[ContactField, readonly string[]]>) {
      if (contacts[field] !== undefined && !carriers.some((type) => channelTypes.has(type))) {
        problems.push({
          path: `people.${name}.${field}`,
          message: `needs a channel of type ${carriers.map((t) => `"${t}"`).join(" or ")} in alerts.channels to send through`,
        });
      }
    }
  }
  return problems;
}
