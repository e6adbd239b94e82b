/**
 * The config file's `alerts` section: `channels` (alert-channels.ts), `policies`
 * (alert-policies.ts), `people` (alert-people.ts), `heartbeats` and `rules` (which sources raise alerts, with which policy).
 * Names are checked across the parts here: a policy may notify only configured channels (or
 * people), and a heartbeat or rule may name only a configured policy.
 */
import { z } from "zod";
import { DEFAULT_DASHBOARD_URL } from "../alerts/links.js";
import type { EscalationPolicy } from "../core/alert.js";
import type { HeartbeatDefinition } from "../core/heartbeat.js";
import { type Rotation, rotationsNamed } from "../core/oncall.js";
import { contactTargets, type PersonContacts } from "../core/people.js";
import type { TimeWindow, WindowCondition } from "../core/time-window.js";
import { alertChannelsSchema, type ChannelConfig, httpUrl } from "./alert-channels.js";
import {
  rotationsSchema,
  timeWindowsSchema,
  toRotations,
  toTimeWindows,
  windowCondition,
  windowRouting,
} from "./alert-oncall.js";
import { alertPeopleSchema, checkPeopleReachable, expandPeople } from "./alert-people.js";
import { alertPoliciesSchema, checkPolicyTargets, toEscalationPolicies } from "./alert-policies.js";
import { durationField as duration } from "./duration-field.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const name = z.string().regex(NAME, { error: "must be 1-128 letters, digits, '.', '_', ':' or '-'" });
const policyName = z.string().min(1, { error: "must name a policy" });

const heartbeatSchema = z.strictObject({
  interval: duration.refine((ms) => ms >= 1_000 && ms <= 366 * 86_400_000, {
    error: "must be from 1s to 366 days",
  }),
  /** Who is paged when it is late; omitted: the alert is raised and shown, nobody is paged. */
  policy: policyName.optional(),
});

/** Every rule names its policy, and may apply only during (or outside) a time window. */
const routed = { policy: policyName, ...windowRouting };

const ruleSchema = z.discriminatedUnion(
  "when",
  [
    z.strictObject({ when: z.literal("job.dead"), queue: name.optional(), task: name.optional(), ...routed }),
    z.strictObject({ when: z.literal("worker.lost"), ...routed }),
    z.strictObject({
      when: z.literal("queue.depth"),
      queue: name,
      above: z.int({ error: "must be a whole number" }).min(0, { error: "must be 0 or more" }),
      ...routed,
    }),
    z.strictObject({
      when: z.literal("queue.age"),
      queue: name,
      above: duration.refine((ms) => ms > 0, { error: "must be longer than 0" }),
      ...routed,
    }),
    z.strictObject({ when: z.literal("schedule.missed"), schedule: name.optional(), ...routed }),
    z.strictObject({ when: z.literal("queue.breaker"), queue: name.optional(), ...routed }),
    z.strictObject({ when: z.literal("approval.pending"), ...routed }),
    z.strictObject({ when: z.literal("run.failed"), profile: name.optional(), ...routed }),
    z.strictObject({ when: z.literal("run.budget"), profile: name.optional(), ...routed }),
    z.strictObject({
      when: z.literal("run.stalled"),
      /** A running run that has written nothing (no output, no telemetry, no turn) for this long. */
      after: duration,
      profile: name.optional(),
      ...routed,
    }),
  ],
  {
    error: (issue) =>
      issue.code === "invalid_union" && issue.note === "No matching discriminator"
        ? `must be one of ${RULE_KINDS.join(", ")}`
        : undefined,
  },
);

export const RULE_KINDS = [
  "job.dead",
  "worker.lost",
  "queue.depth",
  "queue.age",
  "schedule.missed",
  "approval.pending",
  "run.failed",
  "run.budget",
  "run.stalled",
] as const;

/**
 * The dashboard's public base URL, for links in notifications: where people open it, which may
 * differ from where the server listens (a reverse proxy, a public host name). A path prefix is kept.
 */
const dashboardUrl = httpUrl(["http", "https"])
  .superRefine((value, ctx) => {
    // A value that is no URL at all was reported by httpUrl already.
    if (!URL.canParse(value)) return;
    const url = new URL(value);
    if (url.search !== "" || url.hash !== "") {
      ctx.addIssue({ code: "custom", message: "must be a base URL without a query string or fragment" });
    }
  })
  .transform((value) => value.replace(/\/+$/, ""))
  .default(DEFAULT_DASHBOARD_URL);

export const alertsConfigSchema = z
  .strictObject({
    dashboardUrl,
    channels: alertChannelsSchema.default({}),
    policies: alertPoliciesSchema,
    people: alertPeopleSchema,
    timeWindows: timeWindowsSchema,
    rotations: rotationsSchema,
    heartbeats: z.record(z.string(), heartbeatSchema).default({}),
    rules: z.array(ruleSchema).default([]),
  })
  .superRefine((alerts, ctx) => {
    const windows = toTimeWindows(alerts.timeWindows);
    const rotations = toRotations(alerts.rotations);
    const policies = toEscalationPolicies(alerts.policies, windows);
    const channelTypes = new Set(Object.values(alerts.channels).map((c) => c.type));
    for (const problem of [
      ...checkPolicyTargets(policies, alerts.channels, alerts.people, rotations),
      ...checkPeopleReachable(alerts.people, channelTypes),
    ]) {
      ctx.addIssue({ code: "custom", path: problem.path.split("."), message: problem.message });
    }
    for (const [rotationName, rotation] of Object.entries(rotations)) {
      rotation.people.forEach((person, i) => {
        if (!Object.hasOwn(alerts.people, person)) {
          ctx.addIssue({
            code: "custom",
            path: ["rotations", rotationName, "people", i],
            message: `names nobody in alerts.people ("${person}"): a rotation pages people by their contacts there`,
          });
        }
      });
    }
    const windowProblem = (path: Array<string | number>, routing: { during?: string; outside?: string }) => {
      const { problem } = windowCondition(routing, windows);
      if (problem !== null) ctx.addIssue({ code: "custom", path: [...path, problem.field], message: problem.message });
    };
    for (const [policyName, policy] of Object.entries(alerts.policies)) {
      for (const [i, step] of policy.steps.entries()) windowProblem(["policies", policyName, "steps", i], step);
    }
    for (const [i, rule] of alerts.rules.entries()) windowProblem(["rules", i], rule);
    const known = Object.keys(policies);
    const unknown = (p: string) =>
      `names no policy "${p}" (${known.length === 0 ? "no policies are configured" : `configured policies: ${known.sort().join(", ")}`})`;
    for (const [hb, def] of Object.entries(alerts.heartbeats)) {
      if (!/^[A-Za-z0-9._:-]{1,100}$/.test(hb)) {
        ctx.addIssue({
          code: "custom",
          path: ["heartbeats", hb],
          message: "heartbeat names are 1-100 of [A-Za-z0-9._:-]",
        });
      }
      if (def.policy !== undefined && !Object.hasOwn(policies, def.policy)) {
        ctx.addIssue({ code: "custom", path: ["heartbeats", hb, "policy"], message: unknown(def.policy) });
      }
    }
    alerts.rules.forEach((rule, i) => {
      if (!Object.hasOwn(policies, rule.policy)) {
        ctx.addIssue({ code: "custom", path: ["rules", i, "policy"], message: unknown(rule.policy) });
      }
    });
  });

export type AlertsConfigInput = z.input<typeof alertsConfigSchema>;
type ParsedRule = z.output<typeof ruleSchema>;

/** A rule as the engine reads it: the policy resolved, `during` / `outside` as its window. */
export type AlertRule = ParsedRule extends infer R
  ? R extends ParsedRule
    ? Omit<R, "policy" | "during" | "outside"> & { policy: EscalationPolicy; window?: WindowCondition }
    : never
  : never;

export interface AlertsConfig {
  /** The dashboard's public base URL (no trailing slash), for links in notifications. */
  dashboardUrl: string;
  /** As parsed: secrets are still `env:NAME` references (see `resolveAlertChannels`). */
  channels: ChannelConfig[];
  /** With each `person:<name>` target replaced by that person's contacts (alert-people.ts). */
  policies: Record<string, EscalationPolicy>;
  /** How to reach each person a policy may page. */
  people: Record<string, PersonContacts>;
  /** On-call rotations, by name (policies page them as `rotation:<name>`). */
  rotations: Record<string, Rotation>;
  /** Time windows, by name (rules and steps name them with `during` / `outside`). */
  timeWindows: Record<string, TimeWindow>;
  /** Policies resolved by name, ready for `syncHeartbeats`. */
  heartbeats: HeartbeatDefinition[];
  rules: AlertRule[];
}

export { EMPTY_ALERTS } from "./defaults.js";

export function toAlertsConfig(parsed: z.output<typeof alertsConfigSchema>): AlertsConfig {
  const timeWindows = toTimeWindows(parsed.timeWindows);
  const rotations = toRotations(parsed.rotations);
  const policies = withOncall(
    expandPeople(toEscalationPolicies(parsed.policies, timeWindows), parsed.people),
    rotations,
    parsed.people,
  );
  const resolve = (p: string) => policies[p] as EscalationPolicy;
  return {
    dashboardUrl: parsed.dashboardUrl,
    channels: Object.entries(parsed.channels).map(([channelName, c]) => ({
      ...c,
      name: channelName,
      limits: {
        maxMessages: c.rateLimit.max,
        rateWindowMs: c.rateLimit.per,
        bundleWindowMs: c.bundle.window,
        listed: c.bundle.list,
      },
    })),
    policies,
    people: parsed.people,
    rotations,
    timeWindows,
    heartbeats: Object.entries(parsed.heartbeats).map(([hb, def]) => ({
      name: hb,
      intervalMs: def.interval,
      policy: def.policy === undefined ? null : resolve(def.policy),
    })),
    rules: parsed.rules.map(({ during, outside, ...rule }) => {
      const { condition } = windowCondition({ during, outside }, timeWindows);
      return {
        ...rule,
        policy: resolve(rule.policy),
        ...(condition === null ? {} : { window: condition }),
      } as AlertRule;
    }),
  };
}

/**
 * Each policy that pages a rotation carries what paging it takes (core/oncall.ts
 * `PolicyOncall`): those rotations, and what `person:<name>` stands for, for everyone who may
 * be on call (any person, since an override may name anyone in alerts.people).
 */
function withOncall(
  policies: Record<string, EscalationPolicy>,
  rotations: Readonly<Record<string, Rotation>>,
  people: Readonly<Record<string, PersonContacts>>,
): Record<string, EscalationPolicy> {
  const contacts = Object.fromEntries(Object.entries(people).map(([n, c]) => [n, contactTargets(n, c)]));
  return Object.fromEntries(
    Object.entries(policies).map(([policyName, policy]) => {
      const named = rotationsNamed(policy.steps.flatMap((s) => s.notify)).filter((r) => Object.hasOwn(rotations, r));
      if (named.length === 0) return [policyName, policy];
      const oncall = {
        rotations: Object.fromEntries(named.map((r) => [r, rotations[r] as Rotation])),
        people: contacts,
      };
      return [policyName, { ...policy, oncall }];
    }),
  );
}

/** The first rule of a kind that matches, or null. */
export function ruleFor<K extends AlertRule["when"]>(
  rules: readonly AlertRule[],
  when: K,
  matches: (rule: Extract<AlertRule, { when: K }>) => boolean = () => true,
): Extract<AlertRule, { when: K }> | null {
  for (const rule of rules) {
    if (rule.when === when && matches(rule as Extract<AlertRule, { when: K }>)) {
      return rule as Extract<AlertRule, { when: K }>;
    }
  }
  return null;
}
