/**
 * Heartbeats, written once for both backends (see ../tx.ts): sync from config, pings, and the
 * watchdog that turns quiet ones late and raises their alert, each verb one transaction.
 *
 * A sync takes the heartbeats lock, so syncing processes queue and a second one finds the first's
 * rows; a ping locks its row and closes a late heartbeat's alert in the same transaction. The
 * watchdog locks the overdue rows it reads, skips those another transaction holds, and marks each
 * late only while it is still ok: however many nodes check at the same moment, a heartbeat turns
 * late, and raises its alert, exactly once. On SQLite those locks are nothing to take: one writer
 * at a time across every process on the file serialises the transactions anyway.
 */
import type { Alert } from "../../core/alert.js";
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
import { LOCK } from "../locks.js";
import type { LateHeartbeat, PingHeartbeatResult, SyncHeartbeatsResult } from "../store.js";
import type { Db, Op, Tx } from "../tx.js";
import { HEARTBEAT_ACTOR, type HeartbeatRow, planHeartbeatSync, policyOf, toHeartbeat } from "./rows.js";
import * as q from "./statements.js";

const STATEMENTS = { insert: q.INSERT, update: q.UPDATE, delete: q.DELETE } as const;

/** Makes the stored heartbeats match `defs`; the alert of a late one removed is closed. */
export function* syncHeartbeats(tx: Tx, defs: readonly HeartbeatDefinition[]): Op<SyncHeartbeatsResult> {
  checkHeartbeatDefinitions(defs);
  yield* tx.lock(LOCK.heartbeats, "sync");
  const { steps, result } = planHeartbeatSync(yield* tx.rows<HeartbeatRow>(q.LIST), defs, tx.at);
  for (const step of steps) {
    yield* tx.run(STATEMENTS[step.statement], step.params);
    if (step.statement === "delete" && step.alertId !== null) {
      yield* closeIfOpen(tx, step.alertId, "the heartbeat was removed from the config");
    }
  }
  return result;
}

/** The heartbeat pinged, owed its next ping an interval from now; a late one's alert is closed. */
export function* pingHeartbeat(tx: Tx, name: string): Op<PingHeartbeatResult> {
  checkHeartbeatName(name);
  const row = yield* tx.one<HeartbeatRow>(q.LOCK_HEARTBEAT, [name]);
  if (!row) throw heartbeatNotFound(name);
  const closedAlert =
    row.state === "late" && row.alert_id !== null ? yield* closeIfOpen(tx, row.alert_id, "pinged again") : null;
  const pinged = (yield* tx.one<HeartbeatRow>(q.PING, [tx.at, name])) as HeartbeatRow;
  return { heartbeat: toHeartbeat(pinged), closedAlert };
}

/** Whether any heartbeat is overdue: a read, so idle watchdogs take no write lock just to find nothing due. */
export function* anyHeartbeatDue(db: Db): Op<boolean> {
  const next = yield* nextHeartbeatDue(db);
  return next !== null && next <= (yield* db.now());
}

/** Each overdue heartbeat turned late, with its alert raised, exactly once across every node (see the module comment). */
export function* checkHeartbeats(tx: Tx, limit: number): Op<LateHeartbeat[]> {
  const late: LateHeartbeat[] = [];
  for (const row of yield* tx.rows<HeartbeatRow>(q.DUE, [tx.at, limit])) {
    const raised = yield* alerts.raiseAlert(tx, lateHeartbeatAlert(toHeartbeat(row), policyOf(row), newId()));
    const marked = yield* tx.one<HeartbeatRow>(q.MARK_LATE, [raised.alert.id, tx.at, row.name]);
    if (marked) late.push({ heartbeat: toHeartbeat(marked), raised });
  }
  return late;
}

export function* nextHeartbeatDue(db: Db): Op<number | null> {
  return (yield* db.one<{ at: number | null }>(q.NEXT_DUE))?.at ?? null;
}

export function* listHeartbeats(db: Db): Op<Heartbeat[]> {
  return (yield* db.rows<HeartbeatRow>(q.LIST)).map(toHeartbeat);
}

/** Closes the heartbeat's alert unless a person closed it already (then there is nothing to do). */
function* closeIfOpen(tx: Tx, alertId: string, reason: string): Op<Alert | null> {
  try {
    return yield* alerts.closeAlert(tx, alertId, HEARTBEAT_ACTOR, reason);
  } catch (err) {
    // Refused before any write (the alert is closed or gone, by hand or pruned, while late), so
    // the transaction goes on: the heartbeat still recovers, and the alert stays as a person left it.
    if (isOverseerError(err, "ALERT_INVALID_TRANSITION") || isOverseerError(err, "ALERT_NOT_FOUND")) return null;
    throw err;
  }
}
