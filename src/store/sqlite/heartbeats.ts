/**
 * Heartbeats in the SQLite store: sync from config, pings, and the watchdog that turns quiet
 * ones late and raises their alert. Each write is one transaction, and SQLite has one writer at
 * a time across every process on the file, so a heartbeat turns late (and raises) exactly once
 * however many processes check at the same moment; a ping closes the alert in the same
 * transaction, with the alerts' own close (../alerts/operations.ts).
 */
import { isOverseerError } from "../../core/errors.js";
import {
  checkHeartbeatDefinitions,
  checkHeartbeatName,
  type Heartbeat,
  type HeartbeatDefinition,
  heartbeatNotFound,
  lateHeartbeatAlert,
} from "../../core/heartbeat.js";
import { newId } from "../../core/ids.js";
import * as alerts from "../alerts/operations.js";
import { HEARTBEAT_ACTOR, type HeartbeatRow, planHeartbeatSync, policyOf, toHeartbeat } from "../heartbeat-rows.js";
import type { LateHeartbeat, PingHeartbeatResult, SyncHeartbeatsResult } from "../store.js";
import { runSync } from "../tx.js";
import type { SqliteConnection } from "./connection.js";
import { SqliteTx } from "./sqlite-tx.js";

const LIST = "SELECT * FROM heartbeats ORDER BY name";

/** ?1 name. */
const GET = "SELECT * FROM heartbeats WHERE name = ?1";

/** ?1 name, ?2 interval_ms, ?3 policy_name, ?4 policy, ?5 due_at, ?6 now. */
const INSERT = `
INSERT INTO heartbeats (name, interval_ms, policy_name, policy, state, last_ping_at, due_at, alert_id, created_at, updated_at)
VALUES (?1, ?2, ?3, ?4, 'ok', NULL, ?5, NULL, ?6, ?6)`;

/** ?1 interval_ms, ?2 policy_name, ?3 policy, ?4 due_at, ?5 now, ?6 name. */
const UPDATE = `
UPDATE heartbeats SET interval_ms = ?1, policy_name = ?2, policy = ?3, due_at = ?4, updated_at = ?5 WHERE name = ?6`;

/** ?1 name. */
const DELETE = "DELETE FROM heartbeats WHERE name = ?1";

/** ?1 now, ?2 name: pinged, ok, owed the next ping an interval from now. */
const PING = `
UPDATE heartbeats SET state = 'ok', last_ping_at = ?1, due_at = ?1 + interval_ms, alert_id = NULL, updated_at = ?1
WHERE name = ?2`;

/** ?1 alert id, ?2 now, ?3 name: late, with its alert. */
const MARK_LATE =
  "UPDATE heartbeats SET state = 'late', alert_id = ?1, updated_at = ?2 WHERE name = ?3 AND state = 'ok'";

/** ?1 now, ?2 limit: ok heartbeats whose ping is overdue, soonest first. */
const DUE = `
SELECT * FROM heartbeats INDEXED BY heartbeats_due WHERE state = 'ok' AND due_at <= ?1
ORDER BY due_at, name LIMIT ?2`;

const NEXT_DUE = "SELECT min(due_at) AS at FROM heartbeats INDEXED BY heartbeats_due WHERE state = 'ok'";

const STATEMENTS = { insert: INSERT, update: UPDATE, delete: DELETE } as const;

export function syncHeartbeats(conn: SqliteConnection, defs: readonly HeartbeatDefinition[]): SyncHeartbeatsResult {
  checkHeartbeatDefinitions(defs);
  return conn.write(() => {
    const now = conn.clock();
    const { steps, result } = planHeartbeatSync(conn.stmt(LIST).all() as HeartbeatRow[], defs, now);
    for (const step of steps) {
      conn.stmt(STATEMENTS[step.statement]).run(...step.params);
      if (step.statement === "delete" && step.alertId !== null) {
        closeIfOpen(new SqliteTx(conn, now), step.alertId, "the heartbeat was removed from the config");
      }
    }
    return result;
  });
}

export function pingHeartbeat(conn: SqliteConnection, name: string): PingHeartbeatResult {
  checkHeartbeatName(name);
  return conn.write(() => {
    const now = conn.clock();
    const row = conn.stmt(GET).get(name) as HeartbeatRow | undefined;
    if (!row) throw heartbeatNotFound(name);
    const closedAlert =
      row.state === "late" && row.alert_id !== null
        ? closeIfOpen(new SqliteTx(conn, now), row.alert_id, "pinged again")
        : null;
    conn.stmt(PING).run(now, name);
    return { heartbeat: toHeartbeat(conn.stmt(GET).get(name) as HeartbeatRow), closedAlert };
  });
}

/** Each overdue heartbeat once: one writer at a time, and the late mark is guarded by `state = 'ok'`. */
export function checkHeartbeats(conn: SqliteConnection, limit: number): LateHeartbeat[] {
  // A read first, so idle watchdogs take no write lock just to find nothing due.
  const next = nextHeartbeatDue(conn);
  if (next === null || next > conn.clock()) return [];
  return conn.write(() => {
    const now = conn.clock();
    const tx = new SqliteTx(conn, now);
    const late: LateHeartbeat[] = [];
    for (const row of conn.stmt(DUE).all(now, limit) as HeartbeatRow[]) {
      const raised = runSync(alerts.raiseAlert(tx, lateHeartbeatAlert(toHeartbeat(row), policyOf(row), newId())));
      if (conn.stmt(MARK_LATE).run(raised.alert.id, now, row.name).changes !== 1) continue;
      late.push({ heartbeat: toHeartbeat(conn.stmt(GET).get(row.name) as HeartbeatRow), raised });
    }
    return late;
  });
}

export function nextHeartbeatDue(conn: SqliteConnection): number | null {
  return (conn.stmt(NEXT_DUE).get() as { at: number | null }).at;
}

export function listHeartbeats(conn: SqliteConnection): Heartbeat[] {
  return (conn.stmt(LIST).all() as HeartbeatRow[]).map(toHeartbeat);
}

/** Closes the heartbeat's alert unless a person closed it already (then there is nothing to do). */
function closeIfOpen(tx: SqliteTx, alertId: string, reason: string) {
  try {
    return runSync(alerts.closeAlert(tx, alertId, HEARTBEAT_ACTOR, reason));
  } catch (err) {
    // Closed by hand (or pruned) while late: the heartbeat still recovers; the alert stays as it is.
    if (isOverseerError(err, "ALERT_INVALID_TRANSITION") || isOverseerError(err, "ALERT_NOT_FOUND")) return null;
    throw err;
  }
}
