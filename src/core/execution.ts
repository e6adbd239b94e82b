/**
 * Execution mode: whether handlers may do their side effects for real. The switch is `dry-run`
 * until an admin turns it on (while nobody has set it, each node follows its config's
 * `execution`); a task may set its own mode, which wins over the switch. A handler reads the result as `ctx.execution`
 * and an approved action as `outcome.execution`: the action runs only if the request was made in
 * `enabled` mode, it is not a test item, and the mode is still `enabled` when the job resumes.
 * Pure rules; the store keeps the switch and audits each change (`execution.changed`).
 */
import { OverseerError } from "./errors.js";

export const EXECUTION_MODES = ["dry-run", "enabled"] as const;
export type ExecutionMode = (typeof EXECUTION_MODES)[number];

/** The node's switch as the store keeps it. */
export interface ExecutionSwitch {
  mode: ExecutionMode;
  /** Who set it last: a token name, or the local user of `overseer execution`. */
  changedBy: string;
  changedAt: string;
  reason: string | null;
  version: number;
}

/** A change of the switch as the caller asks for it. */
export interface ExecutionChange {
  mode: ExecutionMode;
  by: string;
  reason: string | null;
  expectedVersion?: number;
}

/** The mode a database starts in when neither the config nor an admin has said otherwise. */
export const DEFAULT_EXECUTION: ExecutionMode = "dry-run";

const MAX_REASON = 500;

export function parseExecutionMode(value: unknown, field: string): ExecutionMode {
  if (typeof value === "string" && (EXECUTION_MODES as readonly string[]).includes(value)) {
    return value as ExecutionMode;
  }
  throw new OverseerError("INVALID_ARGUMENT", `${field} must be "dry-run" or "enabled"`, { field });
}

/** Validates a change at the boundary: INVALID_ARGUMENT names the field. */
export function checkExecutionChange(change: ExecutionChange): ExecutionChange {
  const mode = parseExecutionMode(change.mode, "mode");
  if (typeof change.by !== "string" || change.by.trim() === "") {
    throw new OverseerError("INVALID_ARGUMENT", "by must name who changes the execution mode", { field: "by" });
  }
  const reason = change.reason === null || change.reason === undefined ? null : change.reason.trim();
  if (reason !== null && reason.length > MAX_REASON) {
    throw new OverseerError("INVALID_ARGUMENT", `reason must be at most ${MAX_REASON} characters`, {
      field: "reason",
    });
  }
  return { ...change, mode, reason: reason === "" ? null : reason };
}

/**
 * What an approved action may do: `enabled` only if the request was made in enabled mode, is not
 * a test item, and the job's mode is enabled now (an admin who turns execution off after the
 * request was shown stops it still).
 */
export function approvedExecution(
  request: { execution: ExecutionMode; test: boolean },
  now: ExecutionMode,
): ExecutionMode {
  return request.execution === "enabled" && !request.test && now === "enabled" ? "enabled" : "dry-run";
}

/** The switch as it applies to a node: set by an admin, or (never set) the node's config's mode. */
export interface ExecutionState {
  mode: ExecutionMode;
  /** `switch`: someone set it; `config`: never set, so the node's config (or the default, dry-run) applies. */
  source: "switch" | "config";
  changedBy: string | null;
  changedAt: string | null;
  reason: string | null;
  /** 0 while never set; each change adds one (for `If-Match`). */
  version: number;
}

export function executionState(stored: ExecutionSwitch | null, configured: ExecutionMode): ExecutionState {
  if (stored === null) {
    return { mode: configured, source: "config", changedBy: null, changedAt: null, reason: null, version: 0 };
  }
  return { ...stored, source: "switch" };
}
