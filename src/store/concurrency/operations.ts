/**
 * Concurrency keys as an operator watches them, written once for both backends (see ../tx.ts):
 * each key's running and waiting jobs and its limit, read from the jobs themselves (a key has no
 * row of its own: it exists while it has unfinished jobs). Reads only, from the
 * `jobs_concurrency` index; nothing here is on the enqueue or claim path. That index holds
 * finished jobs too, so each read walks every keyed job kept (some 45 ms per 300,000 on SQLite):
 * retention bounds it, and /metrics reads it once per scrape.
 *
 * A key's limit is carried by each of its jobs (`concurrency.limit` at enqueue); jobs of one key
 * normally share one, and the largest among its unfinished jobs is the key's here. A claim
 * weighs each job against its own limit, and so does `limitedJobs`.
 */
import type { ConcurrencyKeyUsage, ConcurrencyTotals } from "../store.js";
import type { Db, Op } from "../tx.js";
import * as q from "./statements.js";

interface UsageRow {
  key: string;
  running: number | null;
  waiting: number | null;
  key_limit: number | null;
}

function toUsage(row: UsageRow): ConcurrencyKeyUsage {
  return {
    key: row.key,
    running: Number(row.running ?? 0),
    waiting: Number(row.waiting ?? 0),
    limit: Number(row.key_limit ?? 1),
  };
}

/** Keys by name, after `afterKey`; or the `limit` busiest (running, then waiting, then name). */
export function* listConcurrencyKeys(
  db: Db,
  filter: { afterKey?: string; limit: number; busiestFirst?: boolean },
): Op<ConcurrencyKeyUsage[]> {
  const rows = filter.busiestFirst
    ? yield* db.rows<UsageRow>(q.BUSIEST_KEYS, [filter.limit])
    : yield* db.rows<UsageRow>(q.USAGE_BY_KEY, [filter.afterKey ?? null, filter.limit]);
  return rows.map(toUsage);
}

export function* concurrencyTotals(db: Db): Op<ConcurrencyTotals> {
  const row = yield* db.one<{ keys: number | null; limited: number | null }>(q.TOTALS);
  return { keys: Number(row?.keys ?? 0), limitedJobs: Number(row?.limited ?? 0) };
}
