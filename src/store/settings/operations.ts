/**
 * Node-wide settings, written once for both backends: today the execution switch
 * (core/execution.ts). A change is one transaction that writes the row and appends
 * `execution.changed`, so the log says who turned execution on or off, when and why.
 */
import type { ExecutionChange, ExecutionMode, ExecutionSwitch } from "../../core/execution.js";
import { LOCK } from "../locks.js";
import { iso } from "../rows.js";
import type { Db, Op, Tx } from "../tx.js";
import { checkVersion } from "../versions.js";

interface SettingRow {
  name: string;
  value: string;
  changed_by: string;
  changed_at: number | string;
  reason: string | null;
  version: number;
}

const EXECUTION = "execution";

/** $1 name. */
const GET_SETTING = "SELECT * FROM settings WHERE name = $1";
/** $1 name, $2 value, $3 changed by, $4 changed at, $5 reason, $6 version. */
const PUT_SETTING = `
INSERT INTO settings (name, value, changed_by, changed_at, reason, version) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (name) DO UPDATE SET value = $2, changed_by = $3, changed_at = $4, reason = $5, version = $6`;

function toSwitch(row: SettingRow): ExecutionSwitch {
  return {
    mode: row.value as ExecutionMode,
    changedBy: row.changed_by,
    changedAt: iso(Number(row.changed_at)),
    reason: row.reason,
    version: Number(row.version),
  };
}

/** The switch, or null while nobody has set it (the default, `dry-run`, applies). */
export function* getExecution(db: Db): Op<ExecutionSwitch | null> {
  const row = yield* db.one<SettingRow>(GET_SETTING, [EXECUTION]);
  return row === undefined ? null : toSwitch(row);
}

/**
 * Sets the switch (a change to the mode it has already is kept as is: no event, same version).
 * The audit's `from` is the mode before: the stored one, or while never set, the caller's
 * `unsetMode` (its node's config's), else the default.
 */
export function* setExecution(tx: Tx, change: ExecutionChange, unsetMode: ExecutionMode): Op<ExecutionSwitch> {
  yield* tx.lock(LOCK.settings, EXECUTION);
  const row = yield* tx.one<SettingRow>(GET_SETTING, [EXECUTION]);
  const current = row === undefined ? null : toSwitch(row);
  checkVersion("setting", EXECUTION, current?.version ?? 0, change.expectedVersion);
  if (current !== null && current.mode === change.mode) return current;
  const next: ExecutionSwitch = {
    mode: change.mode,
    changedBy: change.by,
    changedAt: iso(tx.at),
    reason: change.reason,
    version: (current?.version ?? 0) + 1,
  };
  yield* tx.run(PUT_SETTING, [EXECUTION, next.mode, next.changedBy, tx.at, next.reason, next.version]);
  tx.event("execution.changed", null, null, {
    from: current?.mode ?? unsetMode,
    to: next.mode,
    by: next.changedBy,
    reason: next.reason,
  });
  return next;
}
