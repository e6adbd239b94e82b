import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { type ErrorCode, OverseerError } from "../core/errors.js";
import { parseConfig } from "./config.js";
import { type RunsConfig, resolveRunRequest } from "./run-profiles.js";

const BASE = "/srv/agents";

function runsOf(runs: unknown): RunsConfig {
  return parseConfig({ runs }, "test.json", BASE).runs;
}

function configError(runs: unknown): string {
  try {
    runsOf(runs);
  } catch (err) {
    expect(err).toBeInstanceOf(OverseerError);
    expect((err as OverseerError).code).toBe("INVALID_CONFIG");
    return (err as OverseerError).message;
  }
  throw new Error("expected INVALID_CONFIG");
}

function refused(fn: () => unknown, code: ErrorCode): OverseerError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OverseerError);
    expect((err as OverseerError).code).toBe(code);
    return err as OverseerError;
  }
  throw new Error(`expected ${code}`);
}

const fixBug = {
  command: "node",
  args: ["agent.mjs", "{{goal}}", "--run", "{{runId}}"],
  cwd: "./work/{{repo}}",
  params: {
    goal: { type: "string", maxLength: 200 },
    repo: { type: "string", pattern: "^[a-z-]+$", default: "main-repo" },
    effort: { type: "integer", minimum: 1, maximum: 5, required: false },
    mode: { type: "string", enum: ["fast", "careful"], default: "careful" },
  },
  maxTurns: 30,
  turnTimeout: "10m",
  grace: "5s",
  completion: { stopFile: ".stop", pattern: "ALL TASKS DONE" },
};

describe("run profiles in the config file", () => {
  it("fills in defaults and converts durations", () => {
    const runs = runsOf({ profiles: { "fix-bug": fixBug, tiny: { command: "true", completion: { exitCode: 0 } } } });
    expect(runs).toMatchObject({ allowAdHoc: false, concurrency: 4, leaseMs: 30_000, baseDir: BASE });
    expect(runs.profiles["fix-bug"]).toMatchObject({ maxTurns: 30, turnTimeout: 600_000, grace: 5_000 });
    expect(runs.profiles.tiny).toMatchObject({
      args: [],
      env: ["PATH", "HOME", "LANG"],
      maxTurns: 10,
      turnTimeout: 600_000,
      grace: 5_000,
      onTurnFailure: "fail",
    });
  });

  it("has no profiles and refuses ad-hoc commands when the section is absent", () => {
    expect(parseConfig({}, "empty.json", BASE).runs).toMatchObject({ allowAdHoc: false, profiles: {} });
  });

  it.each([
    [{ profiles: { p: { command: "x" } } }, "runs.profiles.p.completion: is required (object)"],
    [
      { profiles: { p: { command: "x", completion: {} } } },
      "runs.profiles.p.completion: needs at least one of stopFile, pattern or exitCode",
    ],
    [
      { profiles: { p: { command: "x", completion: { pattern: "(" } } } },
      "runs.profiles.p.completion.pattern: is not a valid regular expression",
    ],
    [
      { profiles: { p: { command: "x", completion: { stopFile: "../x" } } } },
      "runs.profiles.p.completion.stopFile: must be a path inside the working directory",
    ],
    [
      { profiles: { p: { command: "x", args: ["{{nope}}"], completion: { exitCode: 0 } } } },
      "runs.profiles.p.args.0: uses {{nope}}, which is not a param of the profile",
    ],
    [
      { profiles: { p: { command: "x", turnTimeout: "soon", completion: { exitCode: 0 } } } },
      "runs.profiles.p.turnTimeout: must be a duration",
    ],
    [{ profiles: { p: { command: "x", maxTurns: 0, completion: { exitCode: 0 } } } }, "runs.profiles.p.maxTurns"],
    [
      { profiles: { p: { command: "x", shell: true, completion: { exitCode: 0 } } } },
      "runs.profiles.p.shell: unknown field",
    ],
    [
      {
        profiles: {
          p: { command: "x", params: { n: { type: "integer", default: "3" } }, completion: { exitCode: 0 } },
        },
      },
      "runs.profiles.p.params.n.default: must be a number",
    ],
    [
      { profiles: { p: { command: "x", env: ["A B"], completion: { exitCode: 0 } } } },
      "runs.profiles.p.env.0: must be an environment variable name",
    ],
    [{ allowAdhoc: true }, "runs.allowAdhoc: unknown field"],
    [
      { profiles: { p: { command: "x", input: { template: "{{turns}}" }, completion: { exitCode: 0 } } } },
      "runs.profiles.p.input.template: uses {{turns}}, which is neither a param of the profile nor one of turn",
    ],
    [
      { profiles: { p: { command: "x", input: { template: "{{file:../x}}" }, completion: { exitCode: 0 } } } },
      "runs.profiles.p.input.template: {{file:../x}} must name a file inside the working folder",
    ],
    [
      { profiles: { p: { command: "x", input: { template: "t", via: "arg" }, completion: { exitCode: 0 } } } },
      'runs.profiles.p.input.via: "arg" needs {{input}} in one of args',
    ],
    [
      { profiles: { p: { command: "x", args: ["-p", "{{input}}"], completion: { exitCode: 0 } } } },
      'runs.profiles.p.args.1: uses {{input}}, which only an input with via: "arg" fills',
    ],
    [
      {
        profiles: {
          p: {
            command: "x",
            args: ["{{input}}"],
            cwd: "{{input}}",
            input: { template: "t", via: "arg" },
            completion: { exitCode: 0 },
          },
        },
      },
      'runs.profiles.p.cwd: uses {{input}}, which only args of a via: "arg" input may hold',
    ],
    [
      {
        profiles: {
          p: {
            command: "x",
            args: ["{{input}}"],
            params: { input: { type: "string" } },
            input: { template: "t", via: "arg" },
            completion: { exitCode: 0 },
          },
        },
      },
      "runs.profiles.p.params.input: has the name of {{input}}",
    ],
    [
      { profiles: { p: { command: "x", input: { template: "t", file: "in.md" }, completion: { exitCode: 0 } } } },
      'runs.profiles.p.input.file: is only used with via: "file"',
    ],
    [
      {
        profiles: {
          p: { command: "x", input: { template: "t", via: "file", file: "/tmp/in.md" }, completion: { exitCode: 0 } },
        },
      },
      "runs.profiles.p.input.file: must be a path inside the working directory",
    ],
    [
      {
        profiles: {
          p: {
            command: "x",
            params: { turn: { type: "string" } },
            input: { template: "{{turn}}" },
            completion: { exitCode: 0 },
          },
        },
      },
      "runs.profiles.p.params.turn: has the name of the input template's own {{turn}}",
    ],
    [
      { profiles: { p: { command: "x", budget: { maxCostUsd: 5 }, completion: { exitCode: 0 } } } },
      "runs.profiles.p.budget.maxCostUsd: needs prices",
    ],
    [
      { profiles: { p: { command: "x", budget: { maxTokens: 0 }, completion: { exitCode: 0 } } } },
      "runs.profiles.p.budget.maxTokens",
    ],
    [
      { profiles: { p: { command: "x", budget: { onExceeded: "warn" }, completion: { exitCode: 0 } } } },
      "runs.profiles.p.budget.onExceeded",
    ],
    [
      { profiles: { p: { command: "x", approvals: { quorum: 0 }, completion: { exitCode: 0 } } } },
      "runs.profiles.p.approvals.quorum",
    ],
    [
      { profiles: { p: { command: "x", approvals: { timeout: "100ms" }, completion: { exitCode: 0 } } } },
      "runs.profiles.p.approvals.timeout: must be from 1 s to 366 days",
    ],
    [
      { profiles: { p: { command: "x", approvals: { onTimeout: "ignore" }, completion: { exitCode: 0 } } } },
      "runs.profiles.p.approvals.onTimeout",
    ],
    [
      { profiles: { p: { command: "x", approvals: { beforeFirstTurn: false }, completion: { exitCode: 0 } } } },
      "runs.profiles.p.approvals.beforeFirstTurn",
    ],
    [
      { profiles: { p: { command: "x", approvals: { approvers: ["ana"], quorum: 2 }, completion: { exitCode: 0 } } } },
      "runs.profiles.p.approvals.quorum: is 2 but only 1 approver(s) are listed",
    ],
    [
      { profiles: { p: { command: "x", approvals: { approver: ["ana"] }, completion: { exitCode: 0 } } } },
      "runs.profiles.p.approvals.approver: unknown field",
    ],
    [
      { profiles: { p: { command: "x", telemetry: "claude-json", completion: { exitCode: 0 } } } },
      'runs.profiles.p.telemetry: must be one of "overseer", "claude-stream-json", "codex-exec-json"',
    ],
  ])("refuses %j", (runs, message) => {
    expect(configError(runs)).toContain(`test.json: ${message}`);
  });
});

describe("resolveRunRequest", () => {
  const runs = runsOf({ profiles: { "fix-bug": fixBug } });

  it("checks params, applies defaults and renders args and cwd without a shell", () => {
    const { profile, params, spec } = resolveRunRequest(
      runs,
      { profile: "fix-bug", params: { goal: "fix it; rm -rf /" } },
      "R1",
    );
    expect(profile).toBe("fix-bug");
    expect(params).toEqual({ goal: "fix it; rm -rf /", repo: "main-repo", mode: "careful" });
    expect(spec).toEqual({
      command: "node",
      args: ["agent.mjs", "fix it; rm -rf /", "--run", "R1"],
      cwd: join(BASE, "work/main-repo"),
      env: ["PATH", "HOME", "LANG"],
      maxTurns: 30,
      turnTimeoutMs: 600_000,
      graceMs: 5_000,
      completion: { stopFile: ".stop", pattern: "ALL TASKS DONE" },
      onTurnFailure: "fail",
    });
  });

  it("copies an agent stream's telemetry mode into the spec, and leaves the default out", () => {
    const modes = runsOf({
      allowAdHoc: true,
      profiles: {
        claude: { command: "claude", telemetry: "claude-stream-json", completion: { exitCode: 0 } },
        own: { command: "node", telemetry: "overseer", completion: { exitCode: 0 } },
      },
    });
    expect(modes.profiles.claude?.telemetry).toBe("claude-stream-json");
    expect(resolveRunRequest(modes, { profile: "claude" }, "R").spec.telemetry).toBe("claude-stream-json");
    expect(resolveRunRequest(modes, { profile: "own" }, "R").spec).not.toHaveProperty("telemetry");
    const adHoc = { command: "codex", args: ["exec", "--json"], completion: { exitCode: 0 } };
    expect(resolveRunRequest(modes, { ...adHoc, telemetry: "codex-exec-json" }, "R").spec.telemetry).toBe(
      "codex-exec-json",
    );
    expect(
      refused(() => resolveRunRequest(modes, { ...adHoc, telemetry: "gemini" }, "R"), "INVALID_ARGUMENT").message,
    ).toBe('telemetry: must be one of "overseer", "claude-stream-json", "codex-exec-json"');
  });

  it("refuses a profile's approvers naming a group the config does not define", () => {
    const profiles = { p: { command: "x", approvals: { approvers: ["group:leads"] }, completion: { exitCode: 0 } } };
    expect(() => parseConfig({ runs: { profiles }, approvals: { groups: { ops: ["ana"] } } }, "test.json")).toThrow(
      "test.json: runs.profiles.p.approvals.approvers.0: names group:leads, a group approvals.groups does not define (it defines ops)",
    );
    expect(() => parseConfig({ runs: { profiles } }, "test.json")).toThrow("(it defines none)");
    const ok = parseConfig({ runs: { profiles }, approvals: { groups: { leads: ["ana"] } } }, "test.json");
    expect(ok.runs.profiles.p?.approvals?.approvers).toEqual(["group:leads"]);
  });

  it("keeps a profile's approvals in the spec, and names the profile in the approval before the first turn", () => {
    const runs = runsOf({
      profiles: {
        gated: { command: "x", approvals: { beforeFirstTurn: true, timeout: "2h" }, completion: { exitCode: 0 } },
        asks: {
          command: "x",
          approvals: { approvers: ["lead"], onTimeout: "escalate" },
          completion: { exitCode: 0 },
        },
        plain: { command: "x", completion: { exitCode: 0 } },
      },
    });
    expect(resolveRunRequest(runs, { profile: "gated" }, "R").spec.approvals).toEqual({
      approvers: [],
      quorum: 1,
      timeoutMs: 7_200_000,
      onTimeout: "deny",
      beforeFirstTurn: "Start a gated run?",
    });
    expect(resolveRunRequest(runs, { profile: "asks" }, "R").spec.approvals).toEqual({
      approvers: ["lead"],
      quorum: 1,
      timeoutMs: 86_400_000,
      onTimeout: "escalate",
    });
    expect(resolveRunRequest(runs, { profile: "plain" }, "R").spec).not.toHaveProperty("approvals");
  });

  it("names the unknown profile and the ones that exist", () => {
    const err = refused(() => resolveRunRequest(runs, { profile: "deploy" }, "R"), "RUN_PROFILE_NOT_FOUND");
    expect(err.message).toBe('no run profile "deploy"; the profiles are fix-bug');
    expect(err.details).toEqual({ profile: "deploy", profiles: ["fix-bug"] });
    expect(refused(() => resolveRunRequest(null, { profile: "x" }, "R"), "RUN_PROFILE_NOT_FOUND").message).toContain(
      "the config file defines none",
    );
  });

  it.each([
    [{}, "params.goal is required (string)"],
    [{ goal: 42 }, "params.goal must be a string; got 42"],
    [{ goal: "x".repeat(201) }, "params.goal must be at most 200 characters long"],
    [{ goal: "g", repo: "Bad Repo" }, "params.repo must match the pattern ^[a-z-]+$"],
    [{ goal: "g", effort: 2.5 }, "params.effort must be a whole number; got 2.5"],
    [{ goal: "g", effort: 9 }, "params.effort must be at most 5"],
    [{ goal: "g", mode: "yolo" }, 'params.mode must be one of "fast", "careful"'],
    [{ goal: "g", extra: 1 }, "params.extra is not a param of this profile; it takes goal, repo, effort, mode"],
  ])("refuses params %j", (params, message) => {
    const err = refused(() => resolveRunRequest(runs, { profile: "fix-bug", params }, "R"), "INVALID_RUN_PARAMS");
    expect(err.message).toBe(message);
  });

  it("refuses params that are not an object, and fields beside profile and params", () => {
    expect(
      refused(() => resolveRunRequest(runs, { profile: "fix-bug", params: [] }, "R"), "INVALID_RUN_PARAMS").message,
    ).toBe("params must be an object; got an array");
    refused(
      () => resolveRunRequest(runs, { profile: "fix-bug", params: { goal: "g" }, command: "sh" }, "R"),
      "INVALID_ARGUMENT",
    );
    refused(() => resolveRunRequest(runs, "fix-bug", "R"), "INVALID_ARGUMENT");
    refused(() => resolveRunRequest(runs, {}, "R"), "INVALID_ARGUMENT");
  });

  it("takes {{input}} as a param of that name in a profile without an arg input, as before", () => {
    const old = runsOf({
      profiles: {
        p: {
          command: "x",
          args: ["--in", "{{input}}"],
          params: { input: { type: "string" } },
          completion: { exitCode: 0 },
        },
      },
    });
    expect(resolveRunRequest(old, { profile: "p", params: { input: "data.csv" } }, "R").spec.args).toEqual([
      "--in",
      "data.csv",
    ]);
  });

  it("keeps a profile's input and budget in the spec, with a run's own lower limits", () => {
    const withBudget = runsOf({
      profiles: {
        agent: {
          command: "x",
          args: ["--prompt", "{{input}}", "{{runId}}"],
          input: { template: "Turn {{turn}}: {{file:log.md}}", via: "arg" },
          budget: { maxTokens: 1000, deadline: "2h", prices: { input: 3, output: 15 }, maxCostUsd: 2 },
          completion: { exitCode: 0 },
        },
      },
    });
    const { spec } = resolveRunRequest(withBudget, { profile: "agent" }, "R1");
    expect(spec.args).toEqual(["--prompt", "{{input}}", "R1"]);
    expect(spec.input).toEqual({ template: "Turn {{turn}}: {{file:log.md}}", via: "arg", file: ".overseer/input.md" });
    expect(spec.budget).toEqual({
      maxTokens: 1000,
      maxCostUsd: 2,
      prices: { input: 3, output: 15 },
      deadlineMs: 7_200_000,
      onExceeded: "fail",
    });
    const lowered = resolveRunRequest(withBudget, { profile: "agent", budget: { maxTokens: 10, deadline: "5m" } }, "R2")
      .spec.budget;
    expect(lowered).toMatchObject({ maxTokens: 10, deadlineMs: 300_000, onExceeded: "fail", maxCostUsd: 2 });
    expect(
      refused(
        () => resolveRunRequest(withBudget, { profile: "agent", budget: { onExceeded: "pause" } }, "R"),
        "INVALID_ARGUMENT",
      ).message,
    ).toBe('budget.onExceeded may not turn the profile\'s "fail" into "pause"');
    expect(
      refused(
        () => resolveRunRequest(withBudget, { profile: "agent", budget: { deadline: "3h" } }, "R"),
        "INVALID_ARGUMENT",
      ).message,
    ).toBe("budget.deadline may only lower the profile's limit of 2h; got 3h");
    expect(
      refused(
        () => resolveRunRequest(withBudget, { profile: "agent", budget: { prices: {} } }, "R"),
        "INVALID_ARGUMENT",
      ).message,
    ).toMatch(/^budget: unknown field prices/);
    expect(
      refused(
        () => resolveRunRequest(withBudget, { profile: "agent", budget: { maxTokens: -1 } }, "R"),
        "INVALID_ARGUMENT",
      ).message,
    ).toMatch(/^budget\.maxTokens: /);
  });

  it("refuses ad-hoc commands unless the config allows them", () => {
    refused(
      () => resolveRunRequest(runs, { command: "sh", args: ["-c", "id"], completion: { exitCode: 0 } }, "R"),
      "AD_HOC_RUNS_DISABLED",
    );
    const open = runsOf({ allowAdHoc: true });
    const { profile, spec } = resolveRunRequest(
      open,
      { command: "sh", args: ["-c", "id"], completion: { exitCode: 0 } },
      "R",
    );
    expect(profile).toBeNull();
    expect(spec).toMatchObject({ command: "sh", args: ["-c", "id"], cwd: BASE, maxTurns: 10 });
    expect(
      refused(
        () => resolveRunRequest(open, { command: "sh", completion: { exitCode: 0 }, shell: true }, "R"),
        "INVALID_ARGUMENT",
      ).message,
    ).toContain("shell");
    refused(() => resolveRunRequest(open, { command: "sh" }, "R"), "INVALID_ARGUMENT");
  });
});

describe("docs/runs.md", () => {
  const doc = readFileSync(new URL("../../docs/runs.md", import.meta.url), "utf8");
  const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  /** The doc's YAML block that has `text` in it. */
  const block = (text: string) => blocks.find((b) => b.includes(text)) ?? "";

  it("shows an input and a budget the config accepts, as written", () => {
    const [input, budget] = [block("input:"), block("budget:")];
    const runs = runsOf((parseYaml(`${input}${budget}`) as { runs: unknown }).runs);
    const { spec } = resolveRunRequest(runs, { profile: "agent", params: { goal: "g" } }, "R");
    expect(spec.input?.via).toBe("stdin");
    expect(spec.input?.template).toContain("{{file:decision-log.md}}");
    expect(spec.budget).toEqual({
      maxTokens: 2_000_000,
      maxCostUsd: 20,
      prices: { input: 3, output: 15 },
      deadlineMs: 7_200_000,
      noProgressTurns: 3,
      onExceeded: "fail",
    });
  });

  it("shows a profile's approvals the config accepts, as written", () => {
    const config = parseYaml(block("approvals:")) as { runs: unknown };
    const withGroup = parseConfig({ ...config, approvals: { groups: { leads: ["ana"] } } }, "docs/runs.md");
    const { spec } = resolveRunRequest(withGroup.runs, { profile: "nightly-refactor" }, "R");
    expect(spec.approvals).toEqual({
      approvers: ["group:leads"],
      quorum: 1,
      timeoutMs: 4 * 3_600_000,
      onTimeout: "deny",
      beforeFirstTurn: "Start a nightly-refactor run?",
    });
  });
});
