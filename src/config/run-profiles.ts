/**
 * The `runs` section of the config file: run profiles (what a run may execute, and the params a
 * person fills in) and the supervisor's settings. Validated with zod when the config loads, so a
 * profile that could never run (a `{{placeholder}}` no param fills, a bad pattern, a duration
 * that is not one) is refused at startup, not when someone starts a run.
 *
 * `resolveRunSpec` turns a profile plus a request's params into the `RunSpec` the run keeps:
 * params checked against the profile's schema (INVALID_RUN_PARAMS), defaults applied, and every
 * `{{name}}` in `args` and `cwd` replaced by its value. Arguments are passed to the command as
 * an array, never through a shell, so a param can never inject a second command.
 */
import { resolve } from "node:path";
import { z } from "zod";
import { TELEMETRY_MODES } from "../core/agent-streams/modes.js";
import { quorumShortfall } from "../core/approval.js";
import { OverseerError } from "../core/errors.js";
import { describe } from "../core/job-options.js";
import type { RunApprovalSpec, RunCompletionRule, RunSpec } from "../core/run.js";
import { narrowBudget, type RunBudget } from "../core/run-budget.js";
import {
  BUILT_IN_INPUT_NAMES,
  checkInputTemplate,
  DEFAULT_INPUT_FILE,
  INPUT_ARG_PLACEHOLDER,
  isInsideFolder,
  type RunInputSpec,
} from "../core/run-input.js";
import { MAX_WATCHED_FILES } from "../core/run-watch.js";
import { durationField as duration } from "./duration-field.js";

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
/** Filled in by Overseer, not by params: the run's id (and `{{input}}`, in args of an `arg`-input profile). */
const BUILT_IN_PLACEHOLDERS = new Set(["runId"]);
const DEFAULT_ENV = ["PATH", "HOME", "LANG"];
const MAX_TURNS = 100_000;
const MAX_STRING_PARAM = 64 * 1024;

const paramSchema = z
  .strictObject({
    type: z.enum(["string", "number", "integer", "boolean"]),
    description: z.string().optional(),
    /** Params are required unless they have a default or say `required: false`. */
    required: z.boolean().optional(),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
    enum: z
      .array(z.union([z.string(), z.number()]))
      .min(1)
      .optional(),
    pattern: z.string().optional(),
    minLength: z.int().min(0).optional(),
    maxLength: z.int().min(1).max(MAX_STRING_PARAM).optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
  })
  .superRefine((p, ctx) => {
    if (p.pattern !== undefined && compile(p.pattern) === null) {
      ctx.addIssue({
        code: "custom",
        path: ["pattern"],
        message: `is not a valid regular expression: ${describe(p.pattern)}`,
      });
    }
    if (p.default !== undefined) {
      const problem = checkParam(p, p.default);
      if (problem !== null) ctx.addIssue({ code: "custom", path: ["default"], message: problem });
    }
  });

export type RunParamSchema = z.output<typeof paramSchema>;

const completionSchema = z
  .strictObject({
    stopFile: z.string().min(1).optional(),
    pattern: z.string().min(1).optional(),
    exitCode: z.int().min(0).max(255).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.stopFile === undefined && c.pattern === undefined && c.exitCode === undefined) {
      ctx.addIssue({ code: "custom", message: "needs at least one of stopFile, pattern or exitCode" });
    }
    if (c.pattern !== undefined && compile(c.pattern) === null) {
      ctx.addIssue({
        code: "custom",
        path: ["pattern"],
        message: `is not a valid regular expression: ${describe(c.pattern)}`,
      });
    }
    if (c.stopFile !== undefined && !isInsideFolder(c.stopFile)) {
      ctx.addIssue({ code: "custom", path: ["stopFile"], message: "must be a path inside the working directory" });
    }
  });

/** Each turn's input: a template rendered before the turn (see core/run-input.ts). */
const inputSchema = z
  .strictObject({
    template: z.string().min(1),
    via: z.enum(["stdin", "file", "arg"]).default("stdin"),
    file: z.string().min(1).optional(),
  })
  .superRefine((input, ctx) => {
    if (input.file !== undefined && input.via !== "file") {
      ctx.addIssue({ code: "custom", path: ["file"], message: 'is only used with via: "file"' });
    }
    if (input.file !== undefined && !isInsideFolder(input.file)) {
      ctx.addIssue({ code: "custom", path: ["file"], message: "must be a path inside the working directory" });
    }
  });

const budgetLimits = {
  maxTokens: z.int().min(1).optional(),
  maxCostUsd: z.number().positive().optional(),
  deadline: duration.optional(),
  noProgressTurns: z.int().min(1).max(MAX_TURNS).optional(),
  onExceeded: z.enum(["fail", "pause"]).optional(),
};

/** Limits that end (or pause) a run; a run's request may lower them (see narrowBudget). */
const budgetSchema = z
  .strictObject({
    ...budgetLimits,
    /** US dollars per million tokens, to price `maxCostUsd`. */
    prices: z.strictObject({ input: z.number().min(0), output: z.number().min(0) }).optional(),
  })
  .superRefine((b, ctx) => {
    if (b.maxCostUsd !== undefined && b.prices === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["maxCostUsd"],
        message: "needs prices (US dollars per million input and output tokens)",
      });
    }
  });

/** Who answers a run's questions and approval requests, and the approval before its first turn. */
const approvalsSchema = z
  .strictObject({
    /** Token names, `group:<name>`, `telegram:<id>`; empty (the default): any operator. */
    approvers: z.array(z.string().min(1)).default([]),
    quorum: z.int().min(1).max(20).default(1),
    timeout: duration
      .refine((ms) => ms >= 1_000 && ms <= 366 * 86_400_000, { error: "must be from 1 s to 366 days" })
      .default(24 * 3_600_000),
    onTimeout: z.enum(["deny", "approve", "escalate"]).default("deny"),
    /** Ask for an approval before the first turn: `true`, or the request's title. */
    beforeFirstTurn: z.union([z.literal(true), z.string().min(1).max(300)]).optional(),
  })
  .superRefine((a, ctx) => {
    // As `requestApproval` checks it, so that no question of the run can fail to be asked.
    const short = quorumShortfall(a.approvers, a.quorum);
    if (short !== null) ctx.addIssue({ code: "custom", path: ["quorum"], message: short });
  });

/** A run request's own budget: the same limits, prices excepted. */
export const runBudgetRequestSchema = z.strictObject(budgetLimits);

/** What a run request may give as its `budget` (the SDK's `StartRunRequest`). */
export type RunBudgetRequest = z.input<typeof runBudgetRequestSchema>;

const profileSchema = z
  .strictObject({
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    cwd: z.string().min(1).optional(),
    env: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "must be an environment variable name" }))
      .default(DEFAULT_ENV),
    params: z.record(z.string(), paramSchema).default({}),
    maxTurns: z.int().min(1).max(MAX_TURNS).default(10),
    turnTimeout: duration.default(10 * 60_000),
    grace: duration.default(5_000),
    completion: completionSchema,
    onTurnFailure: z.enum(["fail", "continue"]).default("fail"),
    input: inputSchema.optional(),
    budget: budgetSchema.optional(),
    /** A clean shutdown of the node interrupts the running turn, or lets it finish (drain). */
    onShutdown: z.enum(["interrupt", "drain"]).default("interrupt"),
    /** Files of the working folder whose changes in a turn Overseer reports itself (core/run-watch.ts). */
    watch: z
      .array(z.string().min(1).refine(isInsideFolder, { error: "must be a path inside the working directory" }))
      .max(MAX_WATCHED_FILES)
      .default([]),
    approvals: approvalsSchema.optional(),
    /** How the command reports telemetry: `overseer_event` lines, or an agent CLI's own stream. */
    telemetry: z
      .enum(TELEMETRY_MODES, { error: `must be one of ${TELEMETRY_MODES.map((m) => `"${m}"`).join(", ")}` })
      .default("overseer"),
    description: z.string().optional(),
  })
  .superRefine((p, ctx) => {
    for (const key of Object.keys(p.params)) {
      if (!PARAM_NAME.test(key)) {
        ctx.addIssue({
          code: "custom",
          path: ["params", key],
          message: "param names are letters, digits and '_', starting with a letter or '_'",
        });
      }
    }
    const fields: Array<[string, string, (string | number)[]]> = [
      ...p.args.map((arg, i): [string, string, (string | number)[]] => [arg, "args", [i]]),
      ...(p.cwd === undefined ? [] : [[p.cwd, "cwd", []] as [string, string, (string | number)[]]]),
    ];
    for (const [text, field, rest] of fields) {
      for (const name of placeholders(text)) {
        if (name === "input" && !(name in p.params)) {
          // The turn's input of a via: "arg" profile, in args only (checkInput says the rest).
          if (field !== "args") {
            ctx.addIssue({
              code: "custom",
              path: [field, ...rest],
              message: 'uses {{input}}, which only args of a via: "arg" input may hold',
            });
          }
          continue;
        }
        if (!(name in p.params) && !BUILT_IN_PLACEHOLDERS.has(name)) {
          ctx.addIssue({
            code: "custom",
            path: [field, ...rest],
            message: `uses {{${name}}}, which is not a param of the profile`,
          });
        }
      }
    }
    if (p.turnTimeout < 1) ctx.addIssue({ code: "custom", path: ["turnTimeout"], message: "must be more than 0" });
    checkInput(p, ctx);
  });

/** The input template's names, and where an `arg` input goes. */
function checkInput(
  p: { args: string[]; params: Record<string, unknown>; input?: { template: string; via: string } },
  ctx: z.RefinementCtx,
): void {
  const usesInputArg = p.args.some((arg) => placeholders(arg).includes("input"));
  const inputParam = "input" in p.params;
  if (p.input?.via === "arg" && inputParam) {
    ctx.addIssue({
      code: "custom",
      path: ["params", "input"],
      message: 'has the name of {{input}}, the turn\'s input of a via: "arg" profile; rename the param',
    });
  }
  if (p.input === undefined || p.input.via !== "arg") {
    // {{input}} is then a param of that name, if the profile has one.
    if (usesInputArg && !inputParam) {
      const index = p.args.findIndex((arg) => placeholders(arg).includes("input"));
      ctx.addIssue({
        code: "custom",
        path: ["args", index],
        message: 'uses {{input}}, which only an input with via: "arg" fills',
      });
    }
    if (p.input === undefined) return;
  } else if (!usesInputArg) {
    ctx.addIssue({
      code: "custom",
      path: ["input", "via"],
      message: `"arg" needs ${INPUT_ARG_PLACEHOLDER} in one of args`,
    });
  }
  const params = Object.keys(p.params);
  for (const name of params) {
    if ((BUILT_IN_INPUT_NAMES as readonly string[]).includes(name)) {
      ctx.addIssue({
        code: "custom",
        path: ["params", name],
        message: `has the name of the input template's own {{${name}}}`,
      });
    }
  }
  const problem = checkInputTemplate(p.input.template, params);
  if (problem !== null) ctx.addIssue({ code: "custom", path: ["input", "template"], message: problem });
}

export type RunProfileInput = z.input<typeof profileSchema>;
export type RunProfile = z.output<typeof profileSchema>;

/** An ad-hoc run's body: a profile without params (the caller writes the arguments directly). */
export const adHocRunSchema = profileSchema.safeExtend({ params: z.strictObject({}).default({}) });

export const runsConfigSchema = z.strictObject({
  /** Let `POST /api/v1/runs` take a command of its own instead of a profile. */
  allowAdHoc: z.boolean().default(false),
  /** Runs one node supervises at once. */
  concurrency: z.int().min(1).max(1_000).default(4),
  /** How long a node may go silent before another node takes its runs over. */
  lease: duration.default(30_000),
  profiles: z.record(z.string(), profileSchema).default({}),
});

export type RunsConfigInput = z.input<typeof runsConfigSchema>;

export interface RunsConfig {
  allowAdHoc: boolean;
  concurrency: number;
  leaseMs: number;
  profiles: Record<string, RunProfile>;
  /** Relative `cwd`s are resolved against this (the config file's folder). */
  baseDir: string;
}

export function toRunsConfig(parsed: z.output<typeof runsConfigSchema>, baseDir: string): RunsConfig {
  return {
    allowAdHoc: parsed.allowAdHoc,
    concurrency: parsed.concurrency,
    leaseMs: parsed.lease,
    profiles: parsed.profiles,
    baseDir,
  };
}

export function defaultRunsConfig(baseDir: string): RunsConfig {
  return toRunsConfig(runsConfigSchema.parse({}), baseDir);
}

/**
 * A start request (`{profile, params}`, or an ad-hoc `{command, args, ...}`) as the run to store.
 * RUN_PROFILE_NOT_FOUND, INVALID_RUN_PARAMS, AD_HOC_RUNS_DISABLED, INVALID_ARGUMENT.
 */
export function resolveRunRequest(
  config: RunsConfig | null,
  request: unknown,
  runId: string,
): { profile: string | null; params: Record<string, unknown>; spec: RunSpec } {
  if (request === null || typeof request !== "object" || Array.isArray(request)) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `a run request must be an object with a profile; got ${describe(request)}`,
    );
  }
  const { profile: name, params, budget, ...rest } = request as Record<string, unknown>;
  const baseDir = config?.baseDir ?? process.cwd();
  if (name === undefined) {
    if (!("command" in rest)) {
      throw new OverseerError(
        "INVALID_ARGUMENT",
        "a run request needs a profile (the name of one in the config file)",
        {
          field: "profile",
        },
      );
    }
    if (config?.allowAdHoc !== true) {
      throw new OverseerError(
        "AD_HOC_RUNS_DISABLED",
        "ad-hoc commands are not allowed: start a run from a profile, or set runs.allowAdHoc in the config file",
      );
    }
    if (params !== undefined) {
      throw new OverseerError("INVALID_ARGUMENT", "params: an ad-hoc run takes its arguments in args, not params", {
        field: "params",
      });
    }
    const parsed = adHocRunSchema.safeParse(budget === undefined ? rest : { ...rest, budget });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join(".") ?? "";
      const message = issue?.code === "unrecognized_keys" ? `unknown field ${issue.keys.join(", ")}` : issue?.message;
      throw new OverseerError("INVALID_ARGUMENT", `${field === "" ? "run" : field}: ${message}`, { field });
    }
    return { profile: null, ...resolveRunSpec(parsed.data, {}, { runId, baseDir }) };
  }
  if (typeof name !== "string") {
    throw new OverseerError("INVALID_ARGUMENT", `profile must be a string; got ${describe(name)}`, {
      field: "profile",
    });
  }
  if (Object.keys(rest).length > 0) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `unknown field ${Object.keys(rest)[0]}: a run request has profile and params`,
      {
        field: Object.keys(rest)[0],
      },
    );
  }
  const profiles = config?.profiles ?? {};
  const profile = Object.hasOwn(profiles, name) ? profiles[name] : undefined;
  if (profile === undefined) {
    const known = Object.keys(profiles);
    throw new OverseerError(
      "RUN_PROFILE_NOT_FOUND",
      `no run profile "${name}"${known.length === 0 ? "; the config file defines none" : `; the profiles are ${known.join(", ")}`}`,
      { profile: name, profiles: known },
    );
  }
  const resolved = resolveRunSpec(profile, params, { runId, baseDir, profile: name });
  if (budget !== undefined) resolved.spec.budget = requestBudget(resolved.spec.budget, budget);
  return { profile: name, ...resolved };
}

/** A request's `budget` over the profile's: each limit only lowered (INVALID_ARGUMENT otherwise). */
function requestBudget(profile: RunBudget | undefined, requested: unknown): RunBudget {
  const parsed = runBudgetRequestSchema.safeParse(requested);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = ["budget", ...(issue?.path ?? [])].join(".");
    const message =
      issue?.code === "unrecognized_keys"
        ? `unknown field ${issue.keys.join(", ")} (a run's budget takes maxTokens, maxCostUsd, deadline, noProgressTurns, onExceeded)`
        : issue?.message;
    throw new OverseerError("INVALID_ARGUMENT", `${path}: ${message}`, { field: path });
  }
  const { deadline, ...limits } = parsed.data;
  const narrowed = narrowBudget(profile, { ...limits, ...(deadline === undefined ? {} : { deadlineMs: deadline }) });
  if ("problem" in narrowed) {
    const field = `budget.${narrowed.field === "deadlineMs" ? "deadline" : narrowed.field}`;
    throw new OverseerError("INVALID_ARGUMENT", `${field} ${narrowed.problem}`, { field });
  }
  return narrowed.budget;
}

/**
 * The spec a run of `profile` executes, with `params` checked and completed. INVALID_RUN_PARAMS
 * names the first param that is wrong; unknown params are refused so a typo never passes.
 */
export function resolveRunSpec(
  profile: RunProfile,
  params: unknown,
  context: { runId: string; baseDir: string; profile?: string },
): { params: Record<string, unknown>; spec: RunSpec } {
  if (params === undefined) params = {};
  if (params === null || typeof params !== "object" || Array.isArray(params)) {
    const got = Array.isArray(params) ? "an array" : describe(params);
    throw new OverseerError("INVALID_RUN_PARAMS", `params must be an object; got ${got}`, { field: "params" });
  }
  const given = params as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(key in profile.params)) {
      const known = Object.keys(profile.params);
      throw new OverseerError(
        "INVALID_RUN_PARAMS",
        `params.${key} is not a param of this profile${known.length === 0 ? " (it takes none)" : `; it takes ${known.join(", ")}`}`,
        { field: `params.${key}` },
      );
    }
  }
  const values: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(profile.params)) {
    const value = given[key] ?? schema.default;
    if (value === undefined) {
      if (schema.required === false) continue;
      throw new OverseerError("INVALID_RUN_PARAMS", `params.${key} is required (${schema.type})`, {
        field: `params.${key}`,
      });
    }
    const problem = checkParam(schema, value);
    if (problem !== null) {
      throw new OverseerError("INVALID_RUN_PARAMS", `params.${key} ${problem}`, { field: `params.${key}` });
    }
    values[key] = value;
  }
  const fill = (text: string): string =>
    text.replace(PLACEHOLDER, (whole, name: string) => {
      if (name === "runId") return context.runId;
      // The turn's input, put in when each turn starts.
      if (name === "input" && profile.input?.via === "arg") return whole;
      return String(values[name] ?? "");
    });
  const cwd = resolve(context.baseDir, fill(profile.cwd ?? "."));
  const completion: RunCompletionRule = {};
  if (profile.completion.stopFile !== undefined) completion.stopFile = profile.completion.stopFile;
  if (profile.completion.pattern !== undefined) completion.pattern = profile.completion.pattern;
  if (profile.completion.exitCode !== undefined) completion.exitCode = profile.completion.exitCode;
  return {
    params: values,
    spec: {
      command: profile.command,
      args: profile.args.map(fill),
      cwd,
      env: [...profile.env],
      maxTurns: profile.maxTurns,
      turnTimeoutMs: profile.turnTimeout,
      graceMs: profile.grace,
      completion,
      onTurnFailure: profile.onTurnFailure,
      ...(profile.input === undefined ? {} : { input: toInputSpec(profile.input) }),
      ...(profile.budget === undefined ? {} : { budget: toBudget(profile.budget) }),
      // "overseer" is what an absent field means: left out, so such specs stay as they were stored.
      ...(profile.telemetry === "overseer" ? {} : { telemetry: profile.telemetry }),
      ...(profile.watch.length === 0 ? {} : { watch: [...new Set(profile.watch)] }),
      ...(profile.onShutdown === "interrupt" ? {} : { onShutdown: profile.onShutdown }),
      ...(profile.approvals === undefined
        ? {}
        : { approvals: toApprovalSpec(profile.approvals, context.profile ?? null) }),
    },
  };
}

/** A profile's `approvals` as a run's spec holds it; `beforeFirstTurn: true` gets a title naming the profile. */
function toApprovalSpec(approvals: NonNullable<RunProfile["approvals"]>, profile: string | null): RunApprovalSpec {
  const { timeout, beforeFirstTurn, ...rest } = approvals;
  const spec: RunApprovalSpec = { ...rest, timeoutMs: timeout };
  if (beforeFirstTurn === true)
    spec.beforeFirstTurn = profile === null ? "Start this ad-hoc run?" : `Start a ${profile} run?`;
  else if (beforeFirstTurn !== undefined) spec.beforeFirstTurn = beforeFirstTurn;
  return spec;
}

/** A profile's input as a run's spec holds it. */
export function toInputSpec(input: NonNullable<RunProfile["input"]>): RunInputSpec {
  return { template: input.template, via: input.via, file: input.file ?? DEFAULT_INPUT_FILE };
}

/** A profile's budget as a run's spec holds it. */
export function toBudget(budget: NonNullable<RunProfile["budget"]>): RunBudget {
  const { deadline, onExceeded, ...rest } = budget;
  return { ...rest, ...(deadline === undefined ? {} : { deadlineMs: deadline }), onExceeded: onExceeded ?? "fail" };
}

/** What is wrong with `value` for this param, as a phrase after its name; null when it fits. */
function checkParam(schema: RunParamSchema, value: unknown): string | null {
  switch (schema.type) {
    case "string":
      if (typeof value !== "string") return `must be a string; got ${describe(value)}`;
      if (schema.minLength !== undefined && value.length < schema.minLength) {
        return `must be at least ${schema.minLength} characters long`;
      }
      if (value.length > (schema.maxLength ?? MAX_STRING_PARAM)) {
        return `must be at most ${schema.maxLength ?? MAX_STRING_PARAM} characters long`;
      }
      if (schema.pattern !== undefined && !compile(schema.pattern)?.test(value)) {
        return `must match the pattern ${schema.pattern}`;
      }
      break;
    case "number":
    case "integer":
      if (typeof value !== "number" || !Number.isFinite(value)) return `must be a number; got ${describe(value)}`;
      if (schema.type === "integer" && !Number.isInteger(value)) return `must be a whole number; got ${value}`;
      if (schema.minimum !== undefined && value < schema.minimum) return `must be at least ${schema.minimum}`;
      if (schema.maximum !== undefined && value > schema.maximum) return `must be at most ${schema.maximum}`;
      break;
    case "boolean":
      if (typeof value !== "boolean") return `must be true or false; got ${describe(value)}`;
      break;
  }
  if (schema.enum !== undefined && !schema.enum.includes(value as string | number)) {
    return `must be one of ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}`;
  }
  return null;
}

function placeholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}

function compile(pattern: string): RegExp | null {
  try {
    return new RegExp(pattern);
  } catch {
    return null;
  }
}
