/**
 * The `execution` and `commands` sections of the config file. `execution` is the mode a node
 * follows until an admin sets the switch (core/execution.ts). `commands` turns on the built-in
 * task `overseer.command` (sdk/command-task.ts): an agent proposes a command, the approvers
 * listed here decide, and an approved command runs only when execution is enabled.
 */
import { z } from "zod";
import { DEFAULT_EXECUTION, EXECUTION_MODES } from "../core/execution.js";
import { RISKS, type Risk } from "../core/gate-policy.js";
import { approverSchema } from "./approvals.js";
import { durationField } from "./duration-field.js";

export const executionConfigSchema = z
  .enum(EXECUTION_MODES, { error: 'must be "dry-run" or "enabled"' })
  .default(DEFAULT_EXECUTION);

export const commandsConfigSchema = z
  .strictObject({
    /** Who may approve a command: token names, group:<name>, telegram:<id>. */
    approvers: z.array(approverSchema).optional(),
    risk: z.enum(RISKS as [Risk, ...Risk[]], { error: `must be one of ${RISKS.join(", ")}` }).default("high"),
    /** How long a request waits for a decision (then it is denied). */
    approvalTimeout: durationField
      .refine((ms) => ms >= 1_000 && ms <= 366 * 86_400_000, { error: "must be from 1s to 366d" })
      .optional(),
    /** How long an approved command may run. */
    timeout: durationField
      .refine((ms) => ms >= 1_000 && ms <= 86_400_000, { error: "must be from 1s to 24h" })
      .default(10 * 60_000),
    /** Where commands run, relative to the config file's folder; default that folder. */
    cwd: z.string().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.approvers === undefined || c.approvers.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["approvers"],
        message: "must list who may approve commands: agents hold operator tokens, and must not approve each other's",
      });
    }
  })
  .optional();

export interface CommandsConfig {
  approvers: string[];
  risk: Risk;
  approvalTimeoutMs: number | null;
  timeoutMs: number;
  /** Absolute. */
  cwd: string;
}

export function toCommandsConfig(
  parsed: z.output<typeof commandsConfigSchema>,
  resolveDir: (dir: string | undefined) => string,
): CommandsConfig | null {
  if (parsed === undefined) return null;
  return {
    approvers: parsed.approvers ?? [],
    risk: parsed.risk,
    approvalTimeoutMs: parsed.approvalTimeout ?? null,
    timeoutMs: parsed.timeout,
    cwd: resolveDir(parsed.cwd),
  };
}
