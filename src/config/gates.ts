/**
 * The `gates` section of the config file: the gate policy that says when risky work needs a
 * person (see core/gate-policy.ts and docs/policies.md). Validated with zod when the config
 * loads; a rule that could never match the way its author meant (risk and riskAtLeast both,
 * an empty list, a name used twice) is refused at startup.
 */
import { z } from "zod";
import { DEFAULT_GATE_OUTCOMES, GATE_OUTCOMES, type GatePolicy, type GateRule, RISKS } from "../core/gate-policy.js";

const oneOf = (values: readonly string[]) =>
  z.enum(values as [string, ...string[]], {
    error: (issue) =>
      issue.input === undefined ? `is required (one of ${values.join(", ")})` : `must be one of ${values.join(", ")}`,
  });
const risk = oneOf(RISKS);
const outcome = oneOf(GATE_OUTCOMES);
const pattern = z.string().min(1, { error: "must not be empty" }).max(200, { error: "must be at most 200 characters" });
/** One value or a non-empty list of them; always a list once parsed. */
const oneOrMany = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (value) => (typeof value === "string" ? [value] : value),
    z.array(item).min(1, { error: "must list at least one value" }),
  );

const fraction = z
  .number({ error: "must be a number from 0 to 1" })
  .min(0, { error: "must be a number from 0 to 1" })
  .max(1, { error: "must be a number from 0 to 1" });

const confidenceSchema = z
  .strictObject({ below: fraction.optional(), atLeast: fraction.optional() })
  .refine((c) => c.below !== undefined || c.atLeast !== undefined, { error: "give below, atLeast or both" });

const ruleSchema = z
  .strictObject({
    name: pattern.optional(),
    task: oneOrMany(pattern).optional(),
    action: oneOrMany(pattern).optional(),
    risk: oneOrMany(risk).optional(),
    riskAtLeast: risk.optional(),
    environment: oneOrMany(pattern).optional(),
    confidence: confidenceSchema.optional(),
    outcome,
  })
  .superRefine((rule, ctx) => {
    if (rule.risk !== undefined && rule.riskAtLeast !== undefined) {
      ctx.addIssue({ code: "custom", path: ["riskAtLeast"], message: "give either risk or riskAtLeast, not both" });
    }
  });

export const gatesConfigSchema = z
  .strictObject({
    /** One outcome for every risk level, or outcomes by risk level (unnamed levels keep the built-in default). */
    default: z
      .union([outcome, z.strictObject({ low: outcome, medium: outcome, high: outcome, critical: outcome }).partial()])
      .optional(),
    /** The environments gate requests may name; any other is refused. Unset: any name goes. */
    environments: oneOrMany(pattern).optional(),
    rules: z.array(ruleSchema).default([]),
  })
  .superRefine((gates, ctx) => {
    if (gates.environments !== undefined) {
      const declared = gates.environments;
      gates.rules.forEach((rule, i) => {
        for (const name of rule.environment ?? []) {
          if (!name.includes("*") && !declared.includes(name)) {
            ctx.addIssue({
              code: "custom",
              path: ["rules", i, "environment"],
              message: `"${name}" is not among the declared environments (${declared.join(", ")})`,
            });
          }
        }
      });
    }
    const seen = new Set<string>();
    gates.rules.forEach((rule, i) => {
      if (rule.name === undefined) return;
      if (seen.has(rule.name)) {
        ctx.addIssue({ code: "custom", path: ["rules", i, "name"], message: `rule name "${rule.name}" is used twice` });
      }
      seen.add(rule.name);
    });
  });

export function toGatePolicy(parsed: z.output<typeof gatesConfigSchema>): GatePolicy {
  const d = parsed.default;
  const byRisk =
    typeof d === "string" ? { low: d, medium: d, high: d, critical: d } : { ...DEFAULT_GATE_OUTCOMES, ...d };
  const rules = parsed.rules.map((r): GateRule => {
    const rule: { -readonly [K in keyof GateRule]: GateRule[K] } = { outcome: r.outcome as GateRule["outcome"] };
    if (r.name !== undefined) rule.name = r.name;
    if (r.task !== undefined) rule.task = r.task as string[];
    if (r.action !== undefined) rule.action = r.action as string[];
    if (r.risk !== undefined) rule.risk = r.risk as GateRule["risk"];
    if (r.riskAtLeast !== undefined) rule.riskAtLeast = r.riskAtLeast as GateRule["riskAtLeast"];
    if (r.environment !== undefined) rule.environment = r.environment as string[];
    if (r.confidence !== undefined) rule.confidence = r.confidence;
    return rule;
  });
  const policy: GatePolicy = { rules, default: byRisk as GatePolicy["default"] };
  return parsed.environments === undefined ? policy : { ...policy, environments: parsed.environments as string[] };
}
