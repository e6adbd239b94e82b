/**
 * Retention for the PostgreSQL store: finished jobs by age and count per state, finished runs
 * (with their turns and output), closed alerts (with their notifications) and events, each batch
 * handed to the archive callback before it is deleted. A row that changed while its batch was
 * archived stays. The newest event is always kept, so sequence numbers are never reused (an
 * identity would not reuse them anyway; the rule is kept so both backends prune the same events).
 */

import { type AlertRow, type NotificationRow, toAlert, toNotification } from "../alerts/rows.js";
import { deleteJobDurables } from "../durable/operations.js";
import { type AttemptRow, type EventRow, type JobRow, toAttempt, toEvent, toJob } from "../rows.js";
import { type RunRow, type RunTurnRow, toRun, toRunTurn } from "../runs/rows.js";
import type { PruneBatch, PruneOptions, PruneResult, RetentionPolicy, RetentionRule } from "../store.js";
import { runAsync } from "../tx.js";
import type { PgConnection, Tx } from "./connection.js";
import { PgTx } from "./pg-tx.js";
import * as sql from "./statements.js";

const PRUNE_BATCH = 500;

/** Deletes (or, in a dry run, counts) what the policy says is old enough, archiving each batch first. */
export async function prune(
  conn: PgConnection,
  policy: RetentionPolicy,
  options: PruneOptions = {},
): Promise<PruneResult> {
  const result: PruneResult = { jobs: { succeeded: 0, dead: 0, cancelled: 0 }, events: 0, runs: 0, alerts: 0 };
  const now = await conn.now();
  for (const state of ["succeeded", "dead", "cancelled"] as const) {
    const rule = policy.jobs[state];
    if (!rule) continue;
    const cutoff = rule.maxAgeMs === undefined ? null : now - rule.maxAgeMs;
    const keep = rule.maxCount ?? -1;
    let seen = "";
    for (;;) {
      // A dry run cannot delete, so it reads everything in one query instead of paging.
      const rows = await conn.rows<JobRow>(sql.SELECT_PRUNABLE_JOBS, [
        state,
        cutoff,
        keep,
        options.dryRun ? null : PRUNE_BATCH,
      ]);
      if (rows.length === 0 || rows[0]?.id === seen) break;
      if (options.dryRun) {
        result.jobs[state] += rows.length;
        break;
      }
      seen = rows[0]?.id ?? "";
      const batch = emptyBatch();
      for (const r of rows) {
        const attempts = await conn.rows<AttemptRow>(sql.LIST_ATTEMPTS, [r.id]);
        batch.jobs.push({ job: toJob(r), attempts: attempts.map(toAttempt) });
      }
      await options.archive?.(batch);
      result.jobs[state] += await conn.write(async (tx) => {
        let n = 0;
        for (const r of rows) {
          // The job may have been retried while the archive ran: then it stays, history and all.
          if ((await tx.run(sql.DELETE_FINISHED_JOB, [r.id])) !== 1) continue;
          await tx.run(sql.DELETE_ATTEMPTS, [r.id]);
          await runAsync(deleteJobDurables(new PgTx(tx), r.id));
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
      archive: async (rows) => {
        const batch = emptyBatch();
        for (const r of rows) {
          const turns = await conn.rows<RunTurnRow>(sql.LIST_RUN_TURNS, [r.id]);
          batch.runs.push({ run: toRun(r), turns: turns.map(toRunTurn) });
        }
        return batch;
      },
      remove: async (tx, r) => {
        if ((await tx.run(sql.DELETE_FINISHED_RUN, [r.id, r.version])) !== 1) return false;
        await tx.run(sql.DELETE_RUN_TURNS, [r.id]);
        await tx.run(sql.DELETE_RUN_OUTPUT, [r.id]);
        return true;
      },
    });
  }
  if (policy.alerts) {
    result.alerts = await pruneKeyed<AlertRow>(conn, policy.alerts, now, options, {
      select: sql.SELECT_PRUNABLE_ALERTS,
      at: (r) => r.closed_at ?? 0,
      archive: async (rows) => {
        const batch = emptyBatch();
        for (const r of rows) {
          const notifications = await conn.rows<NotificationRow>(sql.LIST_ALERT_NOTIFICATIONS_OF, [r.id]);
          batch.alerts.push({ alert: toAlert(r), notifications: notifications.map(toNotification) });
        }
        return batch;
      },
      remove: async (tx, r) => {
        if ((await tx.run(sql.DELETE_CLOSED_ALERT, [r.id, r.version])) !== 1) return false;
        await tx.run(sql.DELETE_ALERT_NOTIFICATIONS, [r.id]);
        return true;
      },
    });
  }
  if (policy.events) {
    const last = await lastEventSeq(conn);
    const byAge =
      policy.events.maxAgeMs === undefined
        ? 0
        : ((await conn.one<{ seq: number }>(sql.LAST_EVENT_BEFORE, [now - policy.events.maxAgeMs]))?.seq ?? 0);
    const byCount = policy.events.maxCount === undefined ? 0 : last - policy.events.maxCount;
    // Never the newest event: its sequence number is what keeps the next ones from reusing older ones.
    const upTo = Math.min(Math.max(byAge, byCount), last - 1);
    if (options.dryRun) {
      result.events = (await conn.one<{ n: number }>(sql.COUNT_EVENTS_UP_TO, [upTo]))?.n ?? 0;
    } else {
      for (;;) {
        const rows = await conn.rows<EventRow>(sql.SELECT_EVENTS_UP_TO, [upTo, PRUNE_BATCH * 4]);
        if (rows.length === 0) break;
        await options.archive?.({ ...emptyBatch(), events: rows.map(toEvent) });
        const lastInBatch = rows.at(-1)?.seq ?? 0;
        result.events += await conn.write((tx) => tx.run(sql.DELETE_EVENTS_UP_TO, [lastInBatch]));
      }
    }
  }
  if (!options.dryRun) {
    const workerCutoff = now - (policy.events?.maxAgeMs ?? 7 * 86_400_000);
    await conn.write((tx) => tx.run(sql.DELETE_OLD_WORKERS, [workerCutoff]));
  }
  return result;
}

async function lastEventSeq(conn: PgConnection): Promise<number> {
  return (await conn.one<{ seq: number }>(sql.LAST_EVENT_SEQ))?.seq ?? 0;
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
  conn: PgConnection,
  rule: RetentionRule,
  now: number,
  options: PruneOptions,
  kind: {
    select: string;
    at: (row: R) => number;
    archive: (rows: R[]) => Promise<PruneBatch>;
    remove: (tx: Tx, row: R) => Promise<boolean>;
  },
): Promise<number> {
  const cutoff = rule.maxAgeMs === undefined ? null : now - rule.maxAgeMs;
  const keep = rule.maxCount ?? -1;
  let after: [number, string] = [-1, ""];
  let n = 0;
  for (;;) {
    const rows = await conn.rows<R>(kind.select, [cutoff, keep, ...after, PRUNE_BATCH]);
    const last = rows.at(-1);
    if (last === undefined) break;
    after = [kind.at(last), last.id];
    if (options.dryRun) {
      n += rows.length;
      continue;
    }
    // The batch (turns and notifications included) is read only for an archive to take.
    if (options.archive) await options.archive(await kind.archive(rows));
    n += await conn.write(async (tx) => {
      let deleted = 0;
      for (const r of rows) if (await kind.remove(tx, r)) deleted++;
      return deleted;
    });
  }
  return n;
}
