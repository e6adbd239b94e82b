/**
 * Heartbeats as both backends store them (same table and columns, see migration 010), their
 * mapping to domain records, and the sync plan: which rows a config's definitions insert,
 * update or delete. Pure: operations.ts reads rows in its transaction, calls these with the
 * transaction's `now`, and writes what comes back.
 */
import type { EscalationPolicy } from "../../core/alert.js";
import type { Heartbeat, HeartbeatDefinition, HeartbeatState } from "../../core/heartbeat.js";
import { iso } from "../rows.js";
import type { SyncHeartbeatsResult } from "../store.js";

export interface HeartbeatRow {
  name: string;
  interval_ms: number;
  policy_name: string | null;
  /** JSON EscalationPolicy as resolved at the last sync, or null. */
  policy: string | null;
  state: HeartbeatState;
  last_ping_at: number | null;
  due_at: number;
  alert_id: string | null;
  created_at: number;
  updated_at: number;
}

export function toHeartbeat(row: HeartbeatRow): Heartbeat {
  return {
    name: row.name,
    intervalMs: Number(row.interval_ms),
    policyName: row.policy_name,
    state: row.state,
    lastPingAt: row.last_ping_at === null ? null : iso(Number(row.last_ping_at)),
    dueAt: iso(Number(row.due_at)),
    alertId: row.alert_id,
    createdAt: iso(Number(row.created_at)),
    updatedAt: iso(Number(row.updated_at)),
  };
}

export function policyOf(row: HeartbeatRow): EscalationPolicy | null {
  return row.policy === null ? null : (JSON.parse(row.policy) as EscalationPolicy);
}

export type HeartbeatSyncStep =
  /** name, interval_ms, policy_name, policy, due_at, now. */
  | { statement: "insert"; params: unknown[] }
  /** interval_ms, policy_name, policy, due_at, now, name. */
  | { statement: "update"; params: unknown[] }
  /** name; `alertId`: the open alert to close, if it was late. */
  | { statement: "delete"; params: unknown[]; alertId: string | null };

/**
 * What makes the stored heartbeats match `defs`: new names start now (their first ping is owed
 * an interval from now); a changed interval or policy is updated and the due time recomputed from
 * the last ping (or the first sync); names gone from `defs` are deleted. Unchanged rows are left
 * alone, so several processes syncing one config at once write nothing after the first.
 */
export function planHeartbeatSync(
  rows: readonly HeartbeatRow[],
  defs: readonly HeartbeatDefinition[],
  now: number,
): { steps: HeartbeatSyncStep[]; result: SyncHeartbeatsResult } {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const wanted = new Set(defs.map((d) => d.name));
  const steps: HeartbeatSyncStep[] = [];
  const result: SyncHeartbeatsResult = { added: [], updated: [], removed: [] };
  for (const def of defs) {
    const policy = def.policy === null ? null : JSON.stringify(def.policy);
    const policyName = def.policy?.name ?? null;
    const row = byName.get(def.name);
    if (!row) {
      steps.push({
        statement: "insert",
        params: [def.name, def.intervalMs, policyName, policy, now + def.intervalMs, now],
      });
      result.added.push(def.name);
      continue;
    }
    if (Number(row.interval_ms) === def.intervalMs && row.policy === policy) continue;
    const since = row.last_ping_at === null ? Number(row.created_at) : Number(row.last_ping_at);
    steps.push({
      statement: "update",
      params: [def.intervalMs, policyName, policy, since + def.intervalMs, now, def.name],
    });
    result.updated.push(def.name);
  }
  for (const row of rows) {
    if (wanted.has(row.name)) continue;
    steps.push({ statement: "delete", params: [row.name], alertId: row.state === "late" ? row.alert_id : null });
    result.removed.push(row.name);
  }
  return { steps, result };
}

/** Who closes a heartbeat's alert, in the alert's `closedBy`. */
export const HEARTBEAT_ACTOR = "heartbeat";
