/**
 * Retention for the SQLite store: finished jobs by age and count per state, finished runs (with
 * their turns and output), closed alerts (with their notifications) and events, each batch handed
 * to the archive callback before it is deleted. A row that changed while its batch was archived
 * stays. The newest event is always kept, so sequence numbers are never reused.
 */

import { type AlertRow, type NotificationRow, toAlert, toNotification } from "../alerts/rows.js";
import { deleteJobDurables } from "../durable/operations.js";
import { type AttemptRow, type EventRow, type JobRow, toAttempt, toEvent, toJob } from "../rows.js";
import { type RunRow, type RunTurnRow, toRun, toRunTurn } from "../runs/rows.js";
import type { PruneBatch, PruneOptions, PruneResult, RetentionPolicy, RetentionRule } from "../store.js";
import { runSync } from "../tx.js";
import type { SqliteConnection } from "./connection.js";
import { SqliteTx } from "./sqlite-tx.js";
import * as sql from "./statements.js";

const PRUNE_BATCH = 500;

/** Deletes (or, in a dry run, counts) what the policy says is old enough, archiving each batch first. */
export async function prune(
  conn: SqliteConnection,
  policy: RetentionPolicy,
  options: PruneOptions = {},
): Promise<PruneResult> {
  const result: PruneResult = { jobs: { succeeded: 0, dead: 0, cancelled: 0 }, events: 0, runs: 0, alerts: 0 };
  const now = conn.clock();
  for (const state of ["succeeded", "dead", "cancelled"] as const) {
    const rule = policy.jobs[state];
    if (!rule) continue;
    const cutoff = rule.maxAgeMs === undefined ? Number.NEGATIVE_INFINITY : now - rule.maxAgeMs;
    const keep = rule.maxCount ?? -1;
    let seen = "";
    for (;;) {
      // A dry run cannot delete, so it pages through everything in one large read instead.
      const rows = conn
        .stmt(sql.SELECT_PRUNABLE_JOBS)
        .all(state, cutoff, keep, options.dryRun ? Number.MAX_SAFE_INTEGER : PRUNE_BATCH) as JobRow[];
      if (rows.length === 0 || rows[0]?.id === seen) break;
      if (options.dryRun) {
        result.jobs[state] += rows.length;
        break;
      }
      seen = rows[0]?.id ?? "";
      const batch: PruneBatch = {
        ...emptyBatch(),
        jobs: rows.map((r) => ({
          job: toJob(r),
          attempts: (conn.stmt(sql.LIST_ATTEMPTS).all(r.id) as AttemptRow[]).map(toAttempt),
        })),
      };
      await options.archive?.(batch);
      result.jobs[state] += conn.write(() => {
        let n = 0;
        for (const r of rows) {
          // The job may have been retried while the archive ran: then it stays, history and all.
          if (conn.stmt(sql.DELETE_FINISHED_JOB).run(r.id).changes !== 1) continue;
          conn.stmt(sql.DELETE_ATTEMPTS).run(r.id);
          runSync(deleteJobDurables(new SqliteTx(conn, conn.clock()), r.id));
          n++;
        }
        return n;
      });
    }
  }
  if (policy.runs) {
    result.runs = await pruneKeyed<RunRow>(conn, policy.runs, now, options, {
      select: sql.SELECT_PRUNABLE_RUNS,
      at: (r) => r.finished_at ?? 0,
      archive: (rows) => ({
        ...emptyBatch(),
        runs: rows.map((r) => ({
          run: toRun(r),
          turns: (conn.stmt(sql.LIST_RUN_TURNS).all(r.id) as RunTurnRow[]).map(toRunTurn),
        })),
      }),
      remove: (r) => {
        if (conn.stmt(sql.DELETE_FINISHED_RUN).run(r.id, r.version).changes !== 1) return false;
        conn.stmt(sql.DELETE_RUN_TURNS).run(r.id);
        conn.stmt(sql.DELETE_RUN_OUTPUT).run(r.id);
        return true;
      },
    });
  }
  if (policy.alerts) {
    result.alerts = await pruneKeyed<AlertRow>(conn, policy.alerts, now, options, {
      select: sql.SELECT_PRUNABLE_ALERTS,
      at: (r) => r.closed_at ?? 0,
      archive: (rows) => ({
        ...emptyBatch(),
        alerts: rows.map((r) => ({
          alert: toAlert(r),
          notifications: (conn.stmt(sql.LIST_ALERT_NOTIFICATIONS_OF).all(r.id) as NotificationRow[]).map(
            toNotification,
          ),
        })),
      }),
      remove: (r) => {
        if (conn.stmt(sql.DELETE_CLOSED_ALERT).run(r.id, r.version).changes !== 1) return false;
        conn.stmt(sql.DELETE_ALERT_NOTIFICATIONS).run(r.id);
        return true;
      },
    });
  }
  if (policy.events) {
    const byAge = policy.events.maxAgeMs === undefined ? 0 : lastEventSeqBefore(conn, now - policy.events.maxAgeMs);
    const byCount = policy.events.maxCount === undefined ? 0 : lastEventSeq(conn) - policy.events.maxCount;
    // Never the newest event: its sequence number is what keeps the next ones from reusing older ones.
    const upTo = Math.min(Math.max(byAge, byCount), lastEventSeq(conn) - 1);
    if (options.dryRun) {
      result.events = (conn.stmt(sql.COUNT_EVENTS_UP_TO).get(upTo) as { n: number }).n;
    } else {
      for (;;) {
        const rows = conn.stmt(sql.SELECT_EVENTS_UP_TO).all(upTo, PRUNE_BATCH * 4) as EventRow[];
        if (rows.length === 0) break;
        await options.archive?.({ ...emptyBatch(), events: rows.map(toEvent) });
        const last = rows.at(-1)?.seq ?? 0;
        result.events += conn.write(() => conn.stmt(sql.DELETE_EVENTS_UP_TO).run(last).changes);
      }
    }
  }
  if (!options.dryRun) {
    const workerCutoff = now - (policy.events?.maxAgeMs ?? 7 * 86_400_000);
    conn.write(() => conn.stmt(sql.DELETE_OLD_WORKERS).run(workerCutoff));
  }
  return result;
}

function emptyBatch(): PruneBatch {
  return { jobs: [], events: [], runs: [], alerts: [] };
}

/**
 * Runs and alerts: the rows `select` finds old enough (by `at`, then id), a batch at a time,
 * archived and then deleted by `remove`, which returns false for a row that changed meanwhile.
 * Paged by (at, id), so a kept row is not read again and a dry run pages the same way.
 */
async function pruneKeyed<R extends { id: string; version: number }>(
  conn: SqliteConnection,
  rule: RetentionRule,
  now: number,
  options: PruneOptions,
  kind: { select: string; at: (row: R) => number; archive: (rows: R[]) => PruneBatch; remove: (row: R) => boolean },
): Promise<number> {
  const cutoff = rule.maxAgeMs === undefined ? Number.NEGATIVE_INFINITY : now - rule.maxAgeMs;
  const keep = rule.maxCount ?? -1;
  let after: [number, string] = [-1, ""];
  let n = 0;
  for (;;) {
    const rows = conn.stmt(kind.select).all(cutoff, keep, ...after, PRUNE_BATCH) as R[];
    const last = rows.at(-1);
    if (last === undefined) break;
    after = [kind.at(last), last.id];
    if (options.dryRun) {
      n += rows.length;
      continue;
    }
    // The batch (turns and notifications included) is read only for an archive to take.
    if (options.archive) await options.archive(kind.archive(rows));
    n += conn.write(() => rows.filter((r) => kind.remove(r)).length);
  }
  return n;
}

/**
 * The last event older than `cutoff`, by binary search over sequence numbers: events are
 * appended with the clock read inside the write lock, so `at` never decreases along `seq`,
 * and no index on `at` has to be kept up to date on every append.
 */
function lastEventSeqBefore(conn: SqliteConnection, cutoff: number): number {
  let lo = 0;
  let hi = (conn.stmt(sql.LAST_EVENT_SEQ).get() as { seq: number }).seq;
  let found = 0;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    const row = conn.stmt(sql.FIRST_EVENT_FROM).get(mid) as { seq: number; at: number } | undefined;
    if (!row || row.seq > hi) {
      hi = mid - 1;
    } else if (row.at < cutoff) {
      found = row.seq;
      lo = row.seq + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

function lastEventSeq(conn: SqliteConnection): number {
  return (conn.stmt(sql.LAST_EVENT_SEQ).get() as { seq: number }).seq;
}
