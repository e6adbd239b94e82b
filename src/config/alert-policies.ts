/**
 * The `policies` part of the config file's `alerts` section: named escalation policies (see
 * core/alert.ts and docs/alerts.md). Validated with zod when the config loads; `notify` targets
 * are checked against the configured channel names with `checkPolicyTargets`, since the channels
 * are parsed elsewhere. Delays are durations (`"0m"`, `"5m"`, or milliseconds).
 */
import { z } from "zod";
import { reachesOnlyPeople } from "../alerts/channels/channel.js";
import type { EscalationPolicy } from "../core/alert.js";
import { parseRotationTarget, type Rotation } from "../core/oncall.js";
import {
  CONTACT_METHODS,
  type ContactMethod,
  contactOf,
  contactTargets,
  type PersonContacts,
  parsePersonTarget,
} from "../core/people.js";
import type { TimeWindow } from "../core/time-window.js";
import { windowCondition, windowRouting } from "./alert-oncall.js";
import { durationField } from "./duration-field.js";

const MAX_DELAY_MS = 7 * 86_400_000;

/** A step's delay, a repeat's pause or an ack timeout: at most 7 days. */
const duration = durationField.refine((ms) => ms <= MAX_DELAY_MS, { error: "must be at most 7 days" });

/** A channel name, a person (`person:<name>`, `telegram:<user id>`) or a rotation (`rotation:<name>`). */
const target = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, {
  error: "must be a channel name, a person or a rotation (letters, digits, '.', '_', ':' and '-')",
});

const stepSchema = z.strictObject({
  delay: duration,
  notify: z.array(target).min(1, { error: "must name at least one channel, person or rotation" }),
  ...windowRouting,
});

const policySchema = z
  .strictObject({
    steps: z
      .array(stepSchema)
      .min(1, { error: "must list at least one step" })
      .max(20, { error: "must list at most 20 steps" }),
    /** Times to loop back to the first step after the last. */
    repeat: z
      .number({ error: "must be a whole number from 0 to 10" })
      .int({ error: "must be a whole number from 0 to 10" })
      .min(0, { error: "must be a whole number from 0 to 10" })
      .max(10, { error: "must be a whole number from 0 to 10" })
      .default(0),
    /** Gap before a repeated round's first step; default: the longest step delay. */
    repeatDelay: duration.optional(),
    /** An acknowledged alert that is not closed within this is triggered again. */
    ackTimeout: duration.optional(),
  })
  .superRefine((policy, ctx) => {
    const gap = policy.repeatDelay ?? Math.max(...policy.steps.map((s) => s.delay));
    if (policy.repeat > 0 && gap === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["repeatDelay"],
        message:
          "repeat needs a pause between rounds: give repeatDelay, or a step a delay, so a round never pages twice at once",
      });
    }
    if (policy.ackTimeout === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["ackTimeout"],
        message: "must be more than 0 (leave it out for no timeout)",
      });
    }
  });

const POLICY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `alerts.policies`: policy name → policy. Names are checked after (zod reports a bad record key without its message). */
export const alertPoliciesSchema = z
  .record(z.string(), policySchema)
  .superRefine((policies, ctx) => {
    for (const name of Object.keys(policies)) {
      if (!POLICY_NAME.test(name)) {
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: "policy names are 1-64 letters, digits, '.', '_' and '-', starting with a letter or digit",
        });
      }
    }
  })
  .default({});

export type AlertPoliciesInput = z.input<typeof alertPoliciesSchema>;

/**
 * The parsed policies, by name, as the store keeps them with each alert; a step's `during` /
 * `outside` becomes its window (a name that is no window is left out here: `checkStepWindows`
 * reports it).
 */
export function toEscalationPolicies(
  parsed: z.output<typeof alertPoliciesSchema>,
  windows: Readonly<Record<string, TimeWindow>> = {},
): Record<string, EscalationPolicy> {
  return Object.fromEntries(
    Object.entries(parsed).map(([name, p]) => [
      name,
      {
        name,
        steps: p.steps.map((s) => {
          const { condition } = windowCondition(s, windows);
          return { delayMs: s.delay, notify: [...s.notify], ...(condition === null ? {} : { window: condition }) };
        }),
        repeat: p.repeat,
        repeatDelayMs: p.repeatDelay ?? Math.max(...p.steps.map((s) => s.delay)),
        ackTimeoutMs: p.ackTimeout ?? null,
      },
    ]),
  );
}

/** What the target checks need to know of a configured channel. */
export interface ChannelOutline {
  type: string;
  /** An `sms` or `voice` channel's fixed number; without one it reaches only people. */
  to?: unknown;
}

/**
 * The problems with `notify` targets, each with its path (`policies.<name>.steps.<i>.notify.<j>`):
 * a name that is no configured channel (or an `sms`/`voice` channel without a number of its
 * own), `person:<name>` naming nobody in `alerts.people`, `person:<name>:<method>` a contact
 * they lack or a method no channel carries (`person:ana:voice` without a `voice` channel), a
 * bare `person:<name>` one of whose contacts no channel carries, or a prefix that is neither
 * `telegram:<user id>` nor `person:`. Empty when every target is known.
 */
export function checkPolicyTargets(
  policies: Record<string, EscalationPolicy>,
  channels: Readonly<Record<string, ChannelOutline>>,
  people: Readonly<Record<string, PersonContacts>> = {},
  rotations: Readonly<Record<string, Rotation>> = {},
): Array<{ path: string; message: string }> {
  const known = new Set(Object.keys(channels));
  const types = new Set(Object.values(channels).map((c) => c.type));
  const listOf = (names: Iterable<string>, kind: string) => {
    const sorted = [...names].sort();
    return sorted.length === 0 ? `no ${kind} are configured` : `configured ${kind}: ${sorted.join(", ")}`;
  };
  const noCarrier = (method: ContactMethod) => `no channel of type "${method}" is configured in alerts.channels`;
  const problemOf = (t: string): string | null => {
    if (known.has(t)) {
      const channel = channels[t] as ChannelOutline;
      if (reachesOnlyPeople(channel)) {
        return `"${t}" is ${channel.type === "sms" ? "an sms" : "a voice"} channel without "to", which reaches only people: name them as person:<name>:${channel.type}`;
      }
      return null;
    }
    if (/^telegram:\d{1,20}$/.test(t)) return null;
    const rotationTarget = parseRotationTarget(t);
    if (rotationTarget !== null) {
      const rotation = Object.hasOwn(rotations, rotationTarget.rotation)
        ? rotations[rotationTarget.rotation]
        : undefined;
      if (rotation === undefined) return `"${t}" names no rotation (${listOf(Object.keys(rotations), "rotations")})`;
      if (rotationTarget.method === null) return null;
      if (!(CONTACT_METHODS as readonly string[]).includes(rotationTarget.method)) {
        return `"${t}": no contact method "${rotationTarget.method}" (the methods are ${CONTACT_METHODS.join(", ")})`;
      }
      // Whoever is on call must be reachable that way: each of its people, as person:<name>:<method>.
      for (const person of rotation.people) {
        const problem = problemOf(`person:${person}:${rotationTarget.method}`);
        if (problem !== null) return `"${t}": ${problem.replace(/^"[^"]*":? ?/, "")}`;
      }
      return null;
    }
    const named = parsePersonTarget(t);
    if (named !== null) {
      const contacts = Object.hasOwn(people, named.person) ? people[named.person] : undefined;
      if (contacts === undefined) return `"${t}" names no person (${listOf(Object.keys(people), "people")})`;
      if (named.method !== null) {
        if (contactOf(contacts, named.method) === undefined) {
          const field = named.method === "sms" || named.method === "voice" ? "phone" : named.method;
          return `"${t}": ${named.person} has no ${field} contact`;
        }
        return types.has(named.method) ? null : `"${t}": ${noCarrier(named.method)}`;
      }
      // A bare person pages each contact (a phone by text): each needs its channel.
      for (const contact of contactTargets(named.person, contacts)) {
        const method = parsePersonTarget(contact)?.method as ContactMethod;
        if (!types.has(method)) {
          return `"${t}" pages ${contact}, and ${noCarrier(method)}; add one, or name the contacts to page one by one`;
        }
      }
      return null;
    }
    if (t.includes(":")) {
      return `"${t}" is neither a channel, a person nor a rotation; people are written person:<name> or telegram:<user id>, rotations rotation:<name>`;
    }
    return `"${t}" names no channel (${listOf(known, "channels")}); people are written person:<name> or telegram:<user id>, rotations rotation:<name>`;
  };
  const problems: Array<{ path: string; message: string }> = [];
  for (const [name, policy] of Object.entries(policies)) {
    policy.steps.forEach((step, i) => {
      step.notify.forEach((t, j) => {
        const message = problemOf(t);
        if (message !== null) problems.push({ path: `policies.${name}.steps.${i}.notify.${j}`, message });
      });
    });
  }
  return problems;
}
