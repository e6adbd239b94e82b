/**
 * Claiming for the PostgreSQL store: candidates in claim order (priority, run time, id), locked
 * with `FOR UPDATE SKIP LOCKED` so concurrent claimers pass over each other's rows instead of
 * waiting or taking the same job, then the same per-key and per-window checks as SQLite.
 * A concurrency key's running count is read only after taking that key's transaction-level
 * advisory lock, held until commit: a second claimer of the same key waits, then counts what
 * the first committed, so together they never exceed the limit. Runs inside the caller's transaction.
 */
import type { ClaimedJob } from "../../core/types.js";
import { claimedJob } from "../leases.js";
import { iso, type JobRow } from "../rows.js";
import type { ClaimRequest } from "../store.js";
import { LOCK, type Tx } from "./connection.js";
import * as sql from "./statements.js";

/** Pages of candidates one claim reads at most when concurrency keys or rate limits turn jobs away. */
const CLAIM_PAGES = 8;
const PROMOTE_BATCH = 1_000;

/** Whether a claim could return anything at all (an empty task or queue list matches no job). */
export function canMatch(req: ClaimRequest): boolean {
  return req.limit > 0 && req.tasks.length > 0 && (req.queues === null || req.queues.length > 0);
}

/** Claims up to `req.limit` jobs under new leases for `req.workerId`, in claim order. */
export async function claimInTransaction(tx: Tx, req: ClaimRequest): Promise<ClaimedJob[]> {
  const now = tx.now;
  await tx.run(sql.PROMOTE_DUE, [now, PROMOTE_BATCH]);
  const chosen: JobRow[] = [];
  const takenPerKey = new Map<string, number>();
  const runningPerKey = new Map<string, number>();
  let after: [number, number, string] = [-2_147_483_648, Number.MIN_SAFE_INTEGER, ""];
  for (let page = 0; page < CLAIM_PAGES && chosen.length < req.limit; page++) {
    // The first page is exactly what is wanted (the common case); later pages are wide, since
    // whatever turned jobs away is likely to turn away their neighbours. Rows read but not
    // taken stay locked until commit, which only makes other claimers skip them briefly.
    const want = page === 0 ? req.limit : Math.max(32, 2 * (req.limit - chosen.length));
    const rows = await tx.rows<JobRow>(sql.SELECT_CLAIMABLE, [want, ...after, req.tasks, req.queues]);
    for (const row of rows) {
      if (chosen.length >= req.limit) break;
      const key = row.concurrency_key;
      if (key !== null) {
        let running = runningPerKey.get(key);
        if (running === undefined) {
          // Lock first, count after, in separate statements: a statement's snapshot is taken
          // when it starts, so the count must start after the lock is granted.
          await tx.lock(LOCK.concurrencyKey, key);
          running = (await tx.one<{ n: number }>(sql.COUNT_RUNNING_BY_CONCURRENCY_KEY, [key]))?.n ?? 0;
          runningPerKey.set(key, running);
        }
        if (running + (takenPerKey.get(key) ?? 0) >= (row.concurrency_limit ?? 1)) continue;
      }
      if (row.rate_key !== null && !(await takeRateSlot(tx, row))) continue;
      if (key !== null) takenPerKey.set(key, (takenPerKey.get(key) ?? 0) + 1);
      chosen.push(row);
    }
    const last = rows.at(-1);
    if (rows.length < want || !last) break;
    after = [last.priority, last.run_at, last.id];
  }
  if (chosen.length === 0) return [];
  const ids = chosen.map((r) => r.id);
  const expiresAt = now + req.leaseMs;
  const updated = new Map(
    (
      await tx.rows<{ id: string; lease_token: number; attempts: number; version: number }>(sql.CLAIM_JOBS, [
        req.workerId,
        expiresAt,
        now,
        ids,
      ])
    ).map((u) => [u.id, u]),
  );
  await tx.run(sql.INSERT_CLAIMED_ATTEMPTS, [req.workerId, now, ids]);
  const claimed: ClaimedJob[] = [];
  for (const row of chosen) {
    const u = updated.get(row.id);
    if (!u) continue; // cannot happen: the row is locked by this transaction; kept as a guard
    tx.event("job.started", row.id, req.workerId, { attempt: u.attempts, task: row.task });
    claimed.push(claimedJob(row, u, req.workerId, now, expiresAt));
  }
  return claimed;
}

/** Fixed windows aligned to the epoch. Over the limit, the job waits for the next window. */
async function takeRateSlot(tx: Tx, row: JobRow): Promise<boolean> {
  const key = row.rate_key as string;
  const period = row.rate_period_ms ?? 1;
  const limit = row.rate_limit ?? 1;
  const windowStart = Math.floor(tx.now / period) * period;
  if ((await tx.run(sql.TAKE_RATE_SLOT, [key, windowStart, limit])) === 1) return true;
  const next = windowStart + period;
  await tx.run(sql.THROTTLE_JOB, [next, row.id]);
  tx.event("job.throttled", row.id, null, { key, limit, periodMs: period, runAt: iso(next) });
  return false;
}
