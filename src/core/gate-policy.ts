/**
 * When risky work must stop and ask a person: a declarative, ordered list of rules over
 * (task or action, risk, environment), first match wins, else a default by risk. Pure: the
 * policy comes from the config file's `gates` section; `ctx.gate` (with approvals) consults it.
 *
 * The default is graded by risk (low → auto, medium → notify, high and critical → approve):
 * what a careful operator expects when no rule speaks, and never silent for risky work.
 * A risk level the policy does not know counts as critical, so a typo fails safe.
 */
import { isConfidence } from "./confidence.js";
import { OverseerError } from "./errors.js";
import { matchesAny } from "./glob.js";

export type Risk = "low" | "medium" | "high" | "critical";
export const RISKS: readonly Risk[] = ["low", "medium", "high", "critical"];

/** `auto`: go ahead; `notify`: go ahead and tell people; `approve`: wait for a person's approval. */
export type GateOutcome = "auto" | "notify" | "approve";
export const GATE_OUTCOMES: readonly GateOutcome[] = ["auto", "notify", "approve"];

/** One rule. Every condition given must hold; a rule with none matches everything. Lists match any entry; `*` globs. */
export interface GateRule {
  /** Shown in the decision's reason; else the rule's 1-based position. */
  name?: string;
  /** Task names (`deploy-*`). A request without a task never matches a rule with one. */
  task?: readonly string[];
  /** Action names (`deploy.*`, `db.drop`). */
  action?: readonly string[];
  /** Exactly these risk levels. */
  risk?: readonly Risk[];
  /** This risk level or above. */
  riskAtLeast?: Risk;
  /** Environments (`production`, `prod-*`). */
  environment?: readonly string[];
  /**
   * The confidence the request gives (0-1): `below` matches less than it, `atLeast` it or more.
   * A request that gives no confidence never matches a rule with this condition.
   */
  confidence?: { below?: number; atLeast?: number };
  outcome: GateOutcome;
}

export interface GatePolicy {
  /**
   * The environments gate requests may name, when the config declares them: any other is
   * refused, so that a typo (`prod` for `production`) cannot slip past the rules written for it.
   */
  environments?: readonly string[];
  rules: readonly GateRule[];
  /** The outcome by risk level when no rule matches. */
  default: Readonly<Record<Risk, GateOutcome>>;
}

export interface GateRequest {
  action: string;
  task?: string | null;
  risk: Risk;
  environment: string;
  /** How sure the caller (an agent, say) is of the action, 0-1; null or absent when it does not say. */
  confidence?: number | null;
}

export interface GateDecision {
  action: GateOutcome;
  /** `rule:<name>` (or `rule:<position>`) for the rule that matched; `default:<risk>` otherwise. */
  reason: string;
  /** 1-based position of the matching rule, or null for the default. */
  rule: number | null;
}

export const DEFAULT_GATE_OUTCOMES: Readonly<Record<Risk, GateOutcome>> = Object.freeze({
  low: "auto",
  medium: "notify",
  high: "approve",
  critical: "approve",
});

export const DEFAULT_GATE_POLICY: GatePolicy = Object.freeze({ rules: [], default: DEFAULT_GATE_OUTCOMES });

/** 0 for low ... 3 for critical; anything unknown ranks as critical. */
export function riskRank(risk: string): number {
  const i = (RISKS as readonly string[]).indexOf(risk);
  return i === -1 ? RISKS.length - 1 : i;
}

function knownRisk(risk: string): Risk {
  return RISKS[riskRank(risk)] as Risk;
}

export function ruleMatches(rule: GateRule, request: GateRequest): boolean {
  if (rule.task !== undefined && (request.task == null || !matchesAny(rule.task, request.task))) return false;
  if (rule.action !== undefined && !matchesAny(rule.action, request.action)) return false;
  const risk = knownRisk(request.risk);
  if (rule.risk !== undefined && !rule.risk.includes(risk)) return false;
  if (rule.riskAtLeast !== undefined && riskRank(risk) < riskRank(rule.riskAtLeast)) return false;
  if (rule.environment !== undefined && !matchesAny(rule.environment, request.environment)) return false;
  if (rule.confidence !== undefined) {
    const c = request.confidence;
    if (typeof c !== "number") return false;
    if (rule.confidence.below !== undefined && !(c < rule.confidence.below)) return false;
    if (rule.confidence.atLeast !== undefined && !(c >= rule.confidence.atLeast)) return false;
  }
  return true;
}

/**
 * Refuses a gate request the policy cannot judge as its author meant: a confidence outside 0-1,
 * or an environment the config does not declare (when it declares them). INVALID_ARGUMENT
 * naming the field; nothing is decided.
 */
export function checkGateRequest(policy: GatePolicy, request: GateRequest): void {
  const { confidence, environment } = request;
  if (confidence !== undefined && confidence !== null && !isConfidence(confidence)) {
    throw new OverseerError("INVALID_ARGUMENT", `confidence must be a number from 0 to 1, got ${String(confidence)}`, {
      field: "confidence",
    });
  }
  if (policy.environments !== undefined && !policy.environments.includes(environment)) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `environment ${JSON.stringify(environment)} is not one the config declares (${policy.environments.join(", ")})`,
      { field: "environment", environments: policy.environments },
    );
  }
}

export function shouldGate(policy: GatePolicy, request: GateRequest): GateDecision {
  for (let i = 0; i < policy.rules.length; i++) {
    const rule = policy.rules[i] as GateRule;
    if (ruleMatches(rule, request)) {
      return { action: rule.outcome, reason: `rule:${rule.name ?? i + 1}`, rule: i + 1 };
    }
  }
  const risk = knownRisk(request.risk);
  return { action: policy.default[risk], reason: `default:${risk}`, rule: null };
}
