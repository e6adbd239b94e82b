import { describe, expect, it } from "vitest";
import {
  checkGateRequest,
  DEFAULT_GATE_POLICY,
  type GateDecision,
  type GatePolicy,
  type GateRequest,
  riskRank,
  shouldGate,
} from "./gate-policy.js";

const policy: GatePolicy = {
  rules: [
    { name: "no-prod-drops", action: ["db.drop*"], environment: ["production"], outcome: "approve" },
    {
      name: "prod-deploys",
      action: ["deploy.*"],
      environment: ["production", "prod-*"],
      riskAtLeast: "medium",
      outcome: "approve",
    },
    { action: ["deploy.*"], risk: ["low"], outcome: "auto" },
    { name: "billing-task", task: ["charge-*"], risk: ["high", "critical"], outcome: "notify" },
    { name: "staging-anything", environment: ["staging"], outcome: "auto" },
  ],
  default: { low: "auto", medium: "notify", high: "approve", critical: "approve" },
};

const req = (action: string, risk: GateRequest["risk"], environment: string, task?: string): GateRequest => ({
  action,
  risk,
  environment,
  ...(task === undefined ? {} : { task }),
});

describe("shouldGate", () => {
  it.each<[string, GateRequest, GateDecision]>([
    [
      "exact-prefix glob and environment",
      req("db.drop_table", "low", "production"),
      { action: "approve", reason: "rule:no-prod-drops", rule: 1 },
    ],
    [
      "the same action elsewhere falls through to the default",
      req("db.drop_table", "low", "dev"),
      { action: "auto", reason: "default:low", rule: null },
    ],
    [
      "riskAtLeast at the threshold",
      req("deploy.api", "medium", "production"),
      { action: "approve", reason: "rule:prod-deploys", rule: 2 },
    ],
    [
      "riskAtLeast above the threshold, environment glob",
      req("deploy.api", "critical", "prod-eu"),
      { action: "approve", reason: "rule:prod-deploys", rule: 2 },
    ],
    [
      "below riskAtLeast: the next rule, unnamed, by position",
      req("deploy.api", "low", "production"),
      { action: "auto", reason: "rule:3", rule: 3 },
    ],
    [
      "exact risk list does not hold: the default",
      req("deploy.api", "medium", "dev"),
      { action: "notify", reason: "default:medium", rule: null },
    ],
    [
      "task glob with a risk list",
      req("charge", "high", "dev", "charge-card"),
      { action: "notify", reason: "rule:billing-task", rule: 4 },
    ],
    ["task rule needs a task", req("charge", "high", "dev"), { action: "approve", reason: "default:high", rule: null }],
    [
      "task rule with the wrong task",
      req("charge", "critical", "dev", "refund"),
      { action: "approve", reason: "default:critical", rule: null },
    ],
    [
      "a rule with only an environment",
      req("anything", "critical", "staging"),
      { action: "auto", reason: "rule:staging-anything", rule: 5 },
    ],
    [
      "first match wins over later ones",
      req("db.drop", "critical", "production", "charge-x"),
      { action: "approve", reason: "rule:no-prod-drops", rule: 1 },
    ],
  ])("%s", (_, request, expected) => {
    expect(shouldGate(policy, request)).toEqual(expected);
  });

  it.each([
    ["low", "auto"],
    ["medium", "notify"],
    ["high", "approve"],
    ["critical", "approve"],
  ] as const)("by default, %s risk is %s", (risk, action) => {
    expect(shouldGate(DEFAULT_GATE_POLICY, req("x", risk, "production"))).toEqual({
      action,
      reason: `default:${risk}`,
      rule: null,
    });
  });

  it("treats an unknown risk level as critical, for rules and the default", () => {
    const unknown = { action: "x", risk: "severe", environment: "dev" } as unknown as GateRequest;
    expect(shouldGate(DEFAULT_GATE_POLICY, unknown)).toEqual({
      action: "approve",
      reason: "default:critical",
      rule: null,
    });
    const p: GatePolicy = {
      rules: [{ riskAtLeast: "critical", outcome: "notify" }],
      default: DEFAULT_GATE_POLICY.default,
    };
    expect(shouldGate(p, unknown)).toMatchObject({ action: "notify", rule: 1 });
    expect(riskRank("severe")).toBe(3);
  });

  it("a rule without conditions matches everything", () => {
    const p: GatePolicy = { rules: [{ outcome: "notify" }], default: DEFAULT_GATE_POLICY.default };
    expect(shouldGate(p, req("x", "critical", "production"))).toEqual({ action: "notify", reason: "rule:1", rule: 1 });
  });

  it("with no rules, a single default outcome applies to every risk", () => {
    const p: GatePolicy = {
      rules: [],
      default: { low: "approve", medium: "approve", high: "approve", critical: "approve" },
    };
    expect(shouldGate(p, req("x", "low", "dev")).action).toBe("approve");
  });

  it("ranks risk levels", () => {
    expect(["low", "medium", "high", "critical"].map(riskRank)).toEqual([0, 1, 2, 3]);
  });
});

describe("confidence", () => {
  const unsure: GatePolicy = {
    rules: [
      { name: "unsure", confidence: { below: 0.6 }, outcome: "approve" },
      { name: "sure-prod", environment: ["production"], confidence: { atLeast: 0.9 }, outcome: "notify" },
      { name: "band", confidence: { atLeast: 0.6, below: 0.8 }, risk: ["medium"], outcome: "auto" },
    ],
    default: DEFAULT_GATE_POLICY.default,
  };
  const withConfidence = (risk: GateRequest["risk"], environment: string, confidence?: number | null) => ({
    ...req("restart", risk, environment),
    ...(confidence === undefined ? {} : { confidence }),
  });

  it.each<[GateRequest["risk"], string, number | null | undefined, GateDecision["action"], string]>([
    ["low", "staging", 0.59, "approve", "rule:unsure"],
    ["low", "staging", 0, "approve", "rule:unsure"],
    ["low", "staging", 0.6, "auto", "default:low"],
    ["high", "production", 0.9, "notify", "rule:sure-prod"],
    ["high", "production", 0.89, "approve", "default:high"],
    ["medium", "staging", 0.7, "auto", "rule:band"],
    ["medium", "staging", 0.8, "notify", "default:medium"],
    // No confidence given: no rule about it matches, whatever it says.
    ["low", "staging", undefined, "auto", "default:low"],
    ["high", "production", null, "approve", "default:high"],
  ])("%s risk in %s with confidence %s → %s (%s)", (risk, environment, confidence, action, reason) => {
    const decision = shouldGate(unsure, withConfidence(risk, environment, confidence));
    expect([decision.action, decision.reason]).toEqual([action, reason]);
  });

  it.each([-0.1, 1.01, Number.NaN, Number.POSITIVE_INFINITY])("refuses a confidence of %s", (confidence) => {
    expect(() => checkGateRequest(unsure, withConfidence("low", "staging", confidence))).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", details: { field: "confidence" } }),
    );
  });
});

describe("declared environments", () => {
  const declared: GatePolicy = { ...policy, environments: ["production", "staging"] };

  it("refuses an environment the config does not declare, naming those it does", () => {
    expect(() => checkGateRequest(declared, req("deploy.api", "high", "prod"))).toThrow(
      'environment "prod" is not one the config declares (production, staging)',
    );
    expect(() => checkGateRequest(declared, req("deploy.api", "high", "production"))).not.toThrow();
  });

  it("takes any environment when the config declares none", () => {
    expect(() => checkGateRequest(policy, req("deploy.api", "high", "prod"))).not.toThrow();
  });
});
