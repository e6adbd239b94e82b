/** The config file's `gates` section: what it accepts, the policy it produces, what it refuses and how it says so. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { OverseerError } from "../core/errors.js";
import { DEFAULT_GATE_POLICY, shouldGate } from "../core/gate-policy.js";
import { loadConfig, parseConfig } from "./config.js";

let dir = "";
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = "";
});

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OverseerError);
    expect((err as OverseerError).code).toBe("INVALID_CONFIG");
    return (err as OverseerError).message;
  }
  throw new Error("expected INVALID_CONFIG");
}

describe("gates config", () => {
  it("defaults to the built-in policy", () => {
    expect(parseConfig({}, "c.json").gates).toEqual(DEFAULT_GATE_POLICY);
  });

  it("reads rules and a per-risk default from YAML, single values becoming lists", () => {
    dir = mkdtempSync(join(tmpdir(), "overseer-gates-"));
    const path = join(dir, "overseer.config.yaml");
    writeFileSync(
      path,
      [
        "gates:",
        "  default: { medium: approve }",
        "  rules:",
        "    - name: prod-deploys",
        '      action: "deploy.*"',
        "      environment: [production, prod-*]",
        "      riskAtLeast: medium",
        "      outcome: approve",
        "    - task: report-*",
        "      risk: [low, medium]",
        "      outcome: auto",
      ].join("\n"),
    );
    const { gates } = loadConfig(path);
    expect(gates).toEqual({
      rules: [
        {
          name: "prod-deploys",
          action: ["deploy.*"],
          environment: ["production", "prod-*"],
          riskAtLeast: "medium",
          outcome: "approve",
        },
        { task: ["report-*"], risk: ["low", "medium"], outcome: "auto" },
      ],
      default: { low: "auto", medium: "approve", high: "approve", critical: "approve" },
    });
    expect(shouldGate(gates, { action: "deploy.api", risk: "high", environment: "prod-eu" })).toEqual({
      action: "approve",
      reason: "rule:prod-deploys",
      rule: 1,
    });
  });

  it("takes one default outcome for every risk level", () => {
    expect(parseConfig({ gates: { default: "approve" } }, "c.json").gates.default).toEqual({
      low: "approve",
      medium: "approve",
      high: "approve",
      critical: "approve",
    });
  });

  it("reads confidence conditions and declared environments", () => {
    const { gates } = parseConfig(
      {
        gates: {
          environments: ["production", "staging"],
          rules: [{ name: "unsure", confidence: { below: 0.6 }, environment: "production", outcome: "approve" }],
        },
      },
      "c.json",
    );
    expect(gates).toEqual({
      environments: ["production", "staging"],
      rules: [{ name: "unsure", confidence: { below: 0.6 }, environment: ["production"], outcome: "approve" }],
      default: DEFAULT_GATE_POLICY.default,
    });
    const request = { action: "restart", risk: "low" as const, environment: "production" };
    expect(shouldGate(gates, { ...request, confidence: 0.5 }).action).toBe("approve");
    expect(shouldGate(gates, { ...request, confidence: 0.7 }).action).toBe("auto");
  });

  it.each([
    [
      { gates: { rules: [{ confidence: { below: 1.5 }, outcome: "approve" }] } },
      "c.json: gates.rules.0.confidence.below: must be a number from 0 to 1",
    ],
    [
      { gates: { rules: [{ confidence: {}, outcome: "approve" }] } },
      "c.json: gates.rules.0.confidence: give below, atLeast or both",
    ],
    [
      { gates: { environments: ["production"], rules: [{ environment: "prod", outcome: "approve" }] } },
      'c.json: gates.rules.0.environment: "prod" is not among the declared environments (production)',
    ],
    [
      { gates: { rules: [{ action: "x" }] } },
      "c.json: gates.rules.0.outcome: is required (one of auto, notify, approve)",
    ],
    [
      { gates: { rules: [{ action: "x", outcome: "ask" }] } },
      "c.json: gates.rules.0.outcome: must be one of auto, notify, approve",
    ],
    [
      { gates: { rules: [{ risk: "severe", outcome: "auto" }] } },
      "c.json: gates.rules.0.risk.0: must be one of low, medium, high, critical",
    ],
    [
      { gates: { rules: [{ risk: "low", riskAtLeast: "high", outcome: "auto" }] } },
      "c.json: gates.rules.0.riskAtLeast: give either risk or riskAtLeast, not both",
    ],
    [
      { gates: { rules: [{ environment: [], outcome: "auto" }] } },
      "c.json: gates.rules.0.environment: must list at least one value",
    ],
    [{ gates: { rules: [{ tool: "x", outcome: "auto" }] } }, "c.json: gates.rules.0.tool: unknown field"],
    [
      {
        gates: {
          rules: [
            { name: "a", outcome: "auto" },
            { name: "a", outcome: "notify" },
          ],
        },
      },
      'c.json: gates.rules.1.name: rule name "a" is used twice',
    ],
    [{ gates: { default: { severe: "auto" } } }, "c.json: gates.default"],
    [{ gates: { rule: [] } }, "c.json: gates.rule: unknown field"],
  ])("refuses %j: %s", (data, message) => {
    expect(messageOf(() => parseConfig(data, "c.json"))).toContain(message);
  });
});
