/** The SQL of heartbeats (see operations.ts), parameters listed. */
import { FOR_UPDATE, FOR_UPDATE_SKIP_LOCKED, indexedBy, sql } from "../tx.js";

export const LIST = "SELECT * FROM heartbeats ORDER BY name";

/** $1 name: the heartbeat, locked. */
export const LOCK_HEARTBEAT = sql`SELECT * FROM heartbeats WHERE name = $1 ${FOR_UPDATE}`;

/** $1 name, $2 interval_ms, $3 policy_name, $4 policy, $5 due_at, $6 now. */
export const INSERT = `
INSERT INTO heartbeats (name, interval_ms, policy_name, policy, state, last_ping_at, due_at, alert_id, created_at, updated_at)
VALUES ($1, $2, $3, $4, 'ok', NULL, $5, NULL, $6, $6) ON CONFLICT (name) DO NOTHING`;

/** $1 interval_ms, $2 policy_name, $3 policy, $4 due_at, $5 now, $6 name. */
export const UPDATE = `
UPDATE heartbeats SET interval_ms = $1, policy_name = $2, policy = $3, due_at = $4, updated_at = $5 WHERE name = $6`;

/** $1 name. */
export const DELETE = "DELETE FROM heartbeats WHERE name = $1";

/** $1 now, $2 name: pinged, ok, owed the next ping an interval from now. */
export const PING = `
UPDATE heartbeats SET state = 'ok', last_ping_at = $1, due_at = $1 + interval_ms, alert_id = NULL, updated_at = $1
WHERE name = $2 RETURNING *`;

/** $1 alert id, $2 now, $3 name: late, with its alert; only while still ok. */
export const MARK_LATE = `
UPDATE heartbeats SET state = 'late', alert_id = $1, updated_at = $2 WHERE name = $3 AND state = 'ok' RETURNING *`;

/** $1 now, $2 limit: ok heartbeats whose ping is overdue, soonest first, locked; those held elsewhere are skipped. */
export const DUE = sql`
SELECT * FROM heartbeats ${indexedBy("heartbeats_due")} WHERE state = 'ok' AND due_at <= $1
ORDER BY due_at, name LIMIT $2 ${FOR_UPDATE_SKIP_LOCKED}`;

export const NEXT_DUE = sql`SELECT min(due_at) AS at FROM heartbeats ${indexedBy("heartbeats_due")} WHERE state = 'ok'`;
