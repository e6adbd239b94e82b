/**
 * The `approvals` section of the config file: named groups of people who may decide approval
 * requests (`approvers: ["group:ops"]` in `ctx.requestApproval`), and the timeout a request gets
 * when its handler gives none. Members are token names or `telegram:<user id>`.
 */
import { z } from "zod";
import { durationField } from "./duration-field.js";

const GROUP_NAME = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}";
const MEMBER = "telegram:\\d{1,20}|[A-Za-z0-9][A-Za-z0-9._:-]{0,127}";

const member = z.string().regex(new RegExp(`^(${MEMBER})$`), {
  error: "must be a token name or telegram:<user id>",
});

/** Who may decide, where the config names approvers: a member, or `group:<name>`. */
export const approverSchema = z.string().regex(new RegExp(`^(group:${GROUP_NAME}|${MEMBER})$`), {
  error: "must be a token name, group:<name> or telegram:<user id>",
});

export const approvalsConfigSchema = z.strictObject({
  groups: z
    .record(
      z.string().regex(new RegExp(`^${GROUP_NAME}$`), { error: "group names are letters, digits, '.', '_' and '-'" }),
      z.array(member).min(1, { error: "must list at least one member" }),
    )
    .default({}),
  defaultTimeout: durationField.default(24 * 3_600_000),
});

export interface ApprovalsConfig {
  /** Group name → members (token names, `telegram:<id>`). */
  groups: Record<string, string[]>;
  defaultTimeoutMs: number;
}

export { DEFAULT_APPROVALS } from "./defaults.js";

export function toApprovalsConfig(parsed: z.output<typeof approvalsConfigSchema>): ApprovalsConfig {
  return { groups: parsed.groups, defaultTimeoutMs: parsed.defaultTimeout };
}
