/**
 * Heartbeats in the PostgreSQL store, as in SQLite's heartbeats.ts, each verb one transaction.
 * A sync takes the heartbeats advisory lock (syncing processes queue, so a second one finds the
 * first's rows); a ping locks its row (FOR UPDATE) and closes a late heartbeat's alert in the
 * same transaction. The watchdog locks the overdue rows it reads, skips those another
 * transaction holds (SKIP LOCKED), and marks each late only while it is still ok: however many
 * nodes check at the same moment, a heartbeat turns late, and raises its alert, exactly once.
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
import { runAsync } from "../tx.js";
import { LOCK, type PgConnection, type Tx } from "./connection.js";
import { PgTx } from "./pg-tx.js";

const LIST = "SELECT * FROM heartbeats ORDER BY name";

/** $1 name: the heartbeat, locked. */
const GET_FOR_UPDATE = "SELECT * FROM heartbeats WHERE name = $1 FOR UPDATE";

/** $1 name, $2 interval_ms, $3 policy_name, $4 policy, $5 due_at, $6 now. */
const INSERT = `
INSERT INTO heartbeats (name, interval_ms, policy_name, policy, state, last_ping_at, due_at, alert_id, created_at, updated_at)
VALUES ($1, $2, $3, $4, 'ok', NULL, $5, NULL, $6, $6) ON CONFLICT (name) DO NOTHING`;

/** $1 interval_ms, $2 policy_name, $3 policy, $4 due_at, $5 now, $6 name. */
const UPDATE = `
UPDATE heartbeats SET interval_ms = $1, policy_name = $2, policy = $3, due_at = $4, updated_at = $5 WHERE name = $6`;

/** $1 name. */
const DELETE = "DELETE FROM heartbeats WHERE name = $1";

/** $1 now, $2 name: pinged, ok, owed the next ping an interval from now. */
const PING = `
UPDATE heartbeats SET state = 'ok', last_ping_at = $1::bigint, due_at = $1::bigint + interval_ms, alert_id = NULL,
  updated_at = $1::bigint
WHERE name = $2 RETURNING *`;

/** $1 alert id, $2 now, $3 name: late, with its alert; only while still ok. */
const MARK_LATE = `
UPDATE heartbeats SET state = 'late', alert_id = $1, updated_at = $2 WHERE name = $3 AND state = 'ok' RETURNING *`;

/** $1 now, $2 limit: ok heartbeats whose ping is overdue, soonest first, locked; those held elsewhere are skipped. */
const DUE = `
SELECT * FROM heartbeats WHERE state = 'ok' AND due_at <= $1
ORDER BY due_at, name LIMIT $2 FOR UPDATE SKIP LOCKED`;

const NEXT_DUE = "SELECT min(due_at) AS at FROM heartbeats WHERE state = 'ok'";

const STATEMENTS = { insert: INSERT, update: UPDATE, delete: DELETE } as const;

export async function syncHeartbeats(tx: Tx, defs: readonly HeartbeatDefinition[]): Promise<SyncHeartbeatsResult> {
  checkHeartbeatDefinitions(defs);
  await tx.lock(LOCK.heartbeats, "sync");
  const { steps, result } = planHeartbeatSync(await tx.rows<HeartbeatRow>(LIST), defs, tx.now);
  for (const step of steps) {
    await tx.run(STATEMENTS[step.statement], step.params);
    if (step.statement === "delete" && step.alertId !== null) {
      await closeIfOpen(tx, step.alertId, "the heartbeat was removed from the config");
    }
  }
  return result;
}

export async function pingHeartbeat(tx: Tx, name: string): Promise<PingHeartbeatResult> {
  checkHeartbeatName(name);
  const row = await tx.one<HeartbeatRow>(GET_FOR_UPDATE, [name]);
  if (!row) throw heartbeatNotFound(name);
  const closedAlert =
    row.state === "late" && row.alert_id !== null ? await closeIfOpen(tx, row.alert_id, "pinged again") : null;
  const pinged = (await tx.one<HeartbeatRow>(PING, [tx.now, name])) as HeartbeatRow;
  return { heartbeat: toHeartbeat(pinged), closedAlert };
}

/** Whether any heartbeat is overdue; a read, so idle watchdogs open no write transaction. */
export async function anyDue(conn: PgConnection): Promise<boolean> {
  const next = await nextHeartbeatDue(conn);
  return next !== null && next <= (await conn.now());
}

/** Each overdue heartbeat exactly once across every node (see the module comment). */
export async function checkHeartbeats(tx: Tx, limit: number): Promise<LateHeartbeat[]> {
  const late: LateHeartbeat[] = [];
  for (const row of await tx.rows<HeartbeatRow>(DUE, [tx.now, limit])) {
    const raised = await runAsync(
      alerts.raiseAlert(new PgTx(tx), lateHeartbeatAlert(toHeartbeat(row), policyOf(row), newId())),
    );
    const marked = await tx.one<HeartbeatRow>(MARK_LATE, [raised.alert.id, tx.now, row.name]);
    if (marked) late.push({ heartbeat: toHeartbeat(marked), raised });
  }
  return late;
}

export async function nextHeartbeatDue(conn: PgConnection): Promise<number | null> {
  const at = (await conn.one<{ at: number | string | null }>(NEXT_DUE))?.at ?? null;
  return at === null ? null : Number(at);
}

export async function listHeartbeats(conn: PgConnection): Promise<Heartbeat[]> {
  return (await conn.rows<HeartbeatRow>(LIST)).map(toHeartbeat);
}

/** Closes the heartbeat's alert unless a person closed it already (then there is nothing to do). */
async function closeIfOpen(tx: Tx, alertId: string, reason: string) {
  try {
    return await runAsync(alerts.closeAlert(new PgTx(tx), alertId, HEARTBEAT_ACTOR, reason));
  } catch (err) {
    // Refused before any write (the alert is closed or gone), so the transaction goes on: the
    // heartbeat still recovers, and the alert stays as a person left it.
    if (isOverseerError(err, "ALERT_INVALID_TRANSITION") || isOverseerError(err, "ALERT_NOT_FOUND")) return null;
    throw err;
  }
}
