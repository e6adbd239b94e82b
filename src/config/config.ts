/**
 * The config file (`--config overseer.config.json` or `.yaml`/`.yml`), validated at the boundary
 * with zod. Every problem becomes one INVALID_CONFIG line naming the file and the field, and
 * unknown keys are errors at every level, so a typo never passes silently. Nothing is written
 * anywhere until a config has passed.
 */
import { readFileSync, statSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { undefinedGroup, undefinedGroupMessage } from "../core/approval.js";
import { type BreakerOptions, parseBreaker } from "../core/breaker.js";
import { OverseerError } from "../core/errors.js";
import type { ExecutionMode } from "../core/execution.js";
import type { GatePolicy } from "../core/gate-policy.js";
import { type BackoffOption, describe, parseBackoff, parsePriority, serializePayload } from "../core/job-options.js";
import { isTimeZone, nextTick, parseCron } from "../core/schedule.js";
import type { ScheduleDefinition } from "../core/types.js";
import { type AlertsConfig, alertsConfigSchema, toAlertsConfig } from "./alerts.js";
import { type ApprovalsConfig, approvalsConfigSchema, toApprovalsConfig } from "./approvals.js";
import { type CommandsConfig, commandsConfigSchema, executionConfigSchema, toCommandsConfig } from "./commands.js";
import { gatesConfigSchema, toGatePolicy } from "./gates.js";
import { type RunsConfig, runsConfigSchema, toRunsConfig } from "./run-profiles.js";

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const NAME_RULE = "1-128 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit";
const MAX_CATCH_UP = 1_000;

const name = z.string().regex(NAME_PATTERN, { error: `must be ${NAME_RULE}` });

const scheduleSchema = z
  .strictObject({
    cron: z.string(),
    task: name,
    payload: z.unknown().optional(),
    timezone: z.string().default("UTC"),
    catchUp: z
      .int({ error: "must be a whole number" })
      .min(0, { error: `must be from 0 to ${MAX_CATCH_UP}` })
      .max(MAX_CATCH_UP, { error: `must be from 0 to ${MAX_CATCH_UP}` })
      .default(0),
    queue: name.optional(),
    priority: z.union([z.int(), z.string()]).optional(),
    maxAttempts: z
      .int({ error: "must be a whole number" })
      .min(1, { error: "must be from 1 to 1000" })
      .max(1_000, { error: "must be from 1 to 1000" })
      .optional(),
    backoff: z.unknown().optional(),
    enabled: z.boolean().default(true),
  })
  .superRefine((s, ctx) => {
    if (!isTimeZone(s.timezone)) {
      ctx.addIssue({ code: "custom", path: ["timezone"], message: `unknown time zone ${describe(s.timezone)}` });
      return;
    }
    try {
      parseCron(s.cron, s.timezone);
    } catch (err) {
      const reason = (err as Error).message.replace(/^CronPattern: /, "");
      ctx.addIssue({ code: "custom", path: ["cron"], message: `invalid cron pattern ${describe(s.cron)}: ${reason}` });
      return;
    }
    // Epoch 0 as the reference: a pattern with no tick after 1970 never fires at all.
    if (nextTick(s.cron, s.timezone, 0) === null) {
      ctx.addIssue({ code: "custom", path: ["cron"], message: `cron pattern ${describe(s.cron)} never fires` });
    }
    if (s.priority !== undefined) {
      try {
        parsePriority(s.priority);
      } catch (err) {
        ctx.addIssue({ code: "custom", path: ["priority"], message: (err as Error).message.replace(/^priority /, "") });
      }
    }
    if (s.backoff !== undefined) {
      try {
        parseBackoff(s.backoff as BackoffOption);
      } catch (err) {
        const { field } = (err as OverseerError).details as { field: string };
        const message = (err as Error).message.replace(`${field} `, "");
        ctx.addIssue({ code: "custom", path: ["backoff", ...fieldPath(field)], message });
      }
    }
    if (s.payload !== undefined) {
      try {
        serializePayload(s.payload);
      } catch (err) {
        ctx.addIssue({ code: "custom", path: ["payload"], message: (err as Error).message });
      }
    }
  });

const schedulesSchema = z.record(z.string(), scheduleSchema).superRefine((record, ctx) => {
  for (const key of Object.keys(record)) {
    if (!NAME_PATTERN.test(key)) {
      ctx.addIssue({ code: "custom", path: [key], message: `schedule names must be ${NAME_RULE}` });
    }
  }
});

/** Circuit breakers by queue name, checked by the same function that parses a worker's `breakers`. */
const breakersSchema = z.record(z.string(), z.unknown()).superRefine((record, ctx) => {
  for (const [queue, options] of Object.entries(record)) {
    if (!NAME_PATTERN.test(queue)) {
      ctx.addIssue({ code: "custom", path: [queue], message: `queue names must be ${NAME_RULE}` });
      continue;
    }
    try {
      parseBreaker(options, queue);
    } catch (err) {
      const { field } = (err as OverseerError).details as { field: string };
      const rest = field.length > queue.length ? field.slice(queue.length + 1).split(".") : [];
      ctx.addIssue({
        code: "custom",
        path: [queue, ...rest],
        message: (err as Error).message.replace(`${field} `, ""),
      });
    }
  }
});

const configSchema = z
  .strictObject({
    schedules: schedulesSchema.default({}),
    breakers: breakersSchema.default({}),
    runs: runsConfigSchema.default(runsConfigSchema.parse({})),
    gates: gatesConfigSchema.default({ rules: [] }),
    approvals: approvalsConfigSchema.default(approvalsConfigSchema.parse({})),
    alerts: alertsConfigSchema.default(alertsConfigSchema.parse({})),
    execution: executionConfigSchema,
    commands: commandsConfigSchema,
  })
  .superRefine((c, ctx) => {
    // A run's questions go to groups of this file: one it does not define could never answer.
    const groups = Object.keys(c.approvals.groups);
    const commandApprovers = c.commands?.approvers ?? [];
    const unknownCommandGroup = undefinedGroup(commandApprovers, groups);
    if (unknownCommandGroup !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["commands", "approvers", commandApprovers.indexOf(unknownCommandGroup)],
        message: undefinedGroupMessage(unknownCommandGroup, groups),
      });
    }
    for (const [name, profile] of Object.entries(c.runs.profiles)) {
      const approvers = profile.approvals?.approvers ?? [];
      const unknown = undefinedGroup(approvers, groups);
      if (unknown !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["runs", "profiles", name, "approvals", "approvers", approvers.indexOf(unknown)],
          message: undefinedGroupMessage(unknown, groups),
        });
      }
    }
  });

/** What a schedule looks like in a config file or in `overseer.scheduler({ schedules })`. */
export type ScheduleConfig = z.input<typeof scheduleSchema>;

export interface OverseerConfig {
  schedules: ScheduleDefinition[];
  runs: RunsConfig;
  /** When risky work needs a person; the built-in default policy when the file has no `gates`. */
  gates: GatePolicy;
  /** Who may decide approvals (groups), and the default request timeout. */
  approvals: ApprovalsConfig;
  /** Channels, escalation policies, heartbeat monitors and alert rules: see docs/alerts.md. */
  alerts: AlertsConfig;
  /** Circuit breakers by queue name, for the workers the CLI starts: see docs/policies.md. */
  breakers: Record<string, BreakerOptions>;
  /** The mode this node follows until an admin sets the execution switch: see docs/execution.md. */
  execution: ExecutionMode;
  /** The built-in `overseer.command` task's settings; null: the task is off. */
  commands: CommandsConfig | null;
}

/** Reads and validates a config file. Throws INVALID_CONFIG naming the file (and field). */
export function loadConfig(path: string): OverseerConfig {
  const ext = extname(path).toLowerCase();
  if (ext !== ".json" && ext !== ".yaml" && ext !== ".yml") {
    throw invalid(path, `config files must end in .json, .yaml or .yml; got ${describe(ext || path)}`);
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw invalid(path, code === "ENOENT" ? "file not found" : `cannot read the file: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = ext === ".json" ? JSON.parse(text) : parseYaml(text, { prettyErrors: false });
  } catch (err) {
    const message = (err as Error).message.split("\n")[0] ?? "";
    throw invalid(path, `not valid ${ext === ".json" ? "JSON" : "YAML"}: ${message}`);
  }
  // An empty YAML file is null: treat it as an empty config rather than a type error.
  return parseConfig(data ?? {}, path, dirname(resolve(path)));
}

/**
 * Validates an already-parsed config; `source` names it in errors (a file, or `schedules`).
 * Relative run profile folders are resolved against `baseDir` (the config file's folder).
 */
export function parseConfig(data: unknown, source: string, baseDir = process.cwd()): OverseerConfig {
  const result = configSchema.safeParse(data, { reportInput: true });
  if (!result.success) throw invalid(source, describeIssue(result.error.issues));
  const commands = toCommandsConfig(result.data.commands, (dir) => resolve(baseDir, dir ?? "."));
  // Checked now rather than at the first approved command, which could not start.
  if (commands !== null && !isFolder(commands.cwd)) {
    throw invalid(source, `commands.cwd: no folder at ${commands.cwd}`);
  }
  return {
    schedules: toDefinitions(result.data.schedules),
    runs: toRunsConfig(result.data.runs, baseDir),
    gates: toGatePolicy(result.data.gates),
    approvals: toApprovalsConfig(result.data.approvals),
    alerts: toAlertsConfig(result.data.alerts),
    breakers: result.data.breakers as Record<string, BreakerOptions>,
    execution: result.data.execution,
    commands,
  };
}

/** Validates schedules given in code, as the SDK takes them. */
export function parseSchedules(schedules: unknown, source = "scheduler({ schedules })"): ScheduleDefinition[] {
  const result = schedulesSchema.safeParse(schedules, { reportInput: true });
  if (!result.success) throw invalid(source, describeIssue(result.error.issues, "schedules"));
  return toDefinitions(result.data);
}

function toDefinitions(record: z.output<typeof schedulesSchema>): ScheduleDefinition[] {
  return Object.entries(record).map(([scheduleName, s]) => ({
    name: scheduleName,
    cron: s.cron,
    timezone: s.timezone,
    task: s.task,
    payloadJson: serializePayload(s.payload ?? {}),
    queue: s.queue ?? null,
    priority: s.priority === undefined ? null : parsePriority(s.priority),
    catchUp: s.catchUp,
    enabled: s.enabled,
    maxAttempts: s.maxAttempts ?? null,
    backoffJson: s.backoff === undefined ? null : JSON.stringify(s.backoff),
  }));
}

/** A job option's field ("backoff.delays[1]") as a path below it (["delays", 1]). */
function fieldPath(field: string): Array<string | number> {
  return field
    .replace(/^backoff\.?/, "")
    .split(/[.[\]]+/)
    .filter((part) => part !== "")
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function invalid(source: string, message: string): OverseerError {
  return new OverseerError("INVALID_CONFIG", `${source}: ${message}`, { source });
}

/** The first issue as `field.path: what is wrong`, with a count of the rest. */
function describeIssue(issues: readonly z.core.$ZodIssue[], prefix?: string): string {
  const issue = issues[0];
  if (issue === undefined) return "invalid config";
  const path = [...(prefix ? [prefix] : []), ...issue.path.map(String)];
  let field = path.join(".");
  let message: string;
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    field = [...path, key].join(".");
    message = `unknown field${path.length === 0 ? "; the config file has only schedules, runs, gates, approvals and alerts" : ""}`;
  } else if (issue.code === "invalid_type") {
    message =
      issue.input === undefined
        ? `is required (${issue.expected})`
        : `must be ${article(issue.expected)}; got ${kind(issue.input)}`;
  } else {
    message = issue.message;
  }
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : "";
  return `${field === "" ? "(top level)" : field}: ${message}${more}`;
}

function article(expected: string): string {
  if (expected === "record" || expected === "object") return "an object";
  if (expected === "int") return "a whole number";
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function kind(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return describe(value);
}
