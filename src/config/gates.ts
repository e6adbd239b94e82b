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

const ruleSchema = z
  .strictObject({
    name: pattern.optional(),
    task: oneOrMany(pattern).optional(),
    action: oneOrMany(pattern).optional(),
    risk: oneOrMany(risk).optional(),
    riskAtLeast: risk.optional(),
    environment: oneOrMany(pattern).optional(),
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
    rules: z.array(ruleSchema).default([]),
  })
  .superRefine((gates, ctx) => {
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
    return rule;
  });
  return { rules, default: byRisk as GatePolicy["default"] };
}
