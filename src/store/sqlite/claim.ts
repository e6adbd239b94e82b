/**
 * Claiming for the SQLite store: in claim order (priority, run time, id), skipping paused
 * queues, saturated concurrency keys and spent rate limits, then taking the chosen jobs with
 * one statement per table. Runs inside the caller's write transaction.
 */
import type { ClaimedJob, Lease } from "../../core/types.js";
import { claimedJob, startCount, startedLeases } from "../leases.js";
import { iso, type JobRow, jobRowFromArray } from "../rows.js";
import type { ClaimRequest } from "../store.js";
import type { SqliteConnection } from "./connection.js";
import * as sql from "./statements.js";

/** Pages of candidates one claim reads at most when concurrency keys or rate limits turn jobs away. */
const CLAIM_PAGES = 8;
const PROMOTE_BATCH = 1_000;

/** Whether a claim could return anything at all (an empty task or queue list matches no job). */
export function canMatch(req: ClaimRequest): boolean {
  return req.limit > 0 && req.tasks.length > 0 && (req.queues === null || req.queues.length > 0);
}

/** Claims up to `req.limit` jobs under new leases for `req.workerId`, in claim order. */
export function claimInTransaction(conn: SqliteConnection, req: ClaimRequest, now: number): ClaimedJob[] {
  const skipped = (conn.stmt(sql.HELD_QUEUES, { raw: true }).all() as string[][]).map((row) => row[0] as string);
  const select = conn.stmt(sql.selectClaimable(req.tasks, req.queues, skipped), { raw: true });
  if ((conn.stmt(sql.ANY_DUE).get(now) as { due: number }).due) conn.stmt(sql.PROMOTE_DUE).run(now, PROMOTE_BATCH);
  // Decide in claim order which candidates to take, then claim them all with one statement
  // per table: the cost of a batch hardly depends on its size. Candidates are read a page at
  // a time; another page is read only when keys or rate limits turned some away.
  const chosen: JobRow[] = [];
  const takenPerKey = new Map<string, number>();
  let after: [number, number, string] = [Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, ""];
  for (let page = 0; page < CLAIM_PAGES && chosen.length < req.limit; page++) {
    // The first page is exactly what is wanted (the common case: nothing is turned away); later
    // pages are wide, since whatever turned jobs away is likely to turn away their neighbours.
    const want = page === 0 ? req.limit : Math.max(32, 2 * (req.limit - chosen.length));
    const rows = (select.all(want, ...after) as unknown[][]).map(jobRowFromArray);
    for (const row of rows) {
      if (chosen.length >= req.limit) break;
      const key = row.concurrency_key;
      const taken = key === null ? 0 : (takenPerKey.get(key) ?? 0);
      if (key !== null && countRunning(conn, key) + taken >= (row.concurrency_limit ?? 1)) continue;
      if (row.rate_key !== null && !takeRateSlot(conn, row, now)) continue;
      if (key !== null) takenPerKey.set(key, taken + 1);
      chosen.push(row);
    }
    const last = rows.at(-1);
    if (rows.length < want || !last) break;
    after = [last.priority, last.run_at, last.id];
  }
  if (chosen.length === 0) {
    return [];
  }
  const ids = JSON.stringify(chosen.map((r) => r.id));
  // The first `start` jobs start now; the rest are held until the worker has slots for them.
  const start = Math.min(startCount(req), chosen.length);
  const held = start === chosen.length ? null : JSON.stringify(chosen.slice(start).map((r) => r.id));
  const expiresAt = now + req.leaseMs;
  const updated = new Map(
    (
      conn.stmt(sql.CLAIM_JOBS).all(req.workerId, expiresAt, now, ids, held) as Array<{
        id: string;
        lease_token: number;
        attempts: number;
        version: number;
      }>
    ).map((u) => [u.id, u]),
  );
  conn.stmt(sql.INSERT_STARTED_EVENTS).run(now, req.workerId, ids);
  const claimed: ClaimedJob[] = [];
  for (const row of chosen) {
    const u = updated.get(row.id);
    if (!u) continue; // cannot happen inside this transaction; kept as a guard
    claimed.push(claimedJob(row, u, req.workerId, now, expiresAt));
  }
  return claimed;
}

/**
 * Held jobs whose handlers start now: their start is recorded (their attempts start with them,
 * see RECORD_ATTEMPT). No event: the claim appended `job.started` already. Returns the ids of
 * those whose lease still held.
 */
export function startHeldInTransaction(conn: SqliteConnection, leases: readonly Lease[], now: number): string[] {
  const input = JSON.stringify(leases.map((l) => [l.jobId, l.token]));
  const rows = conn.stmt(sql.START_HELD_JOBS).all(now, input) as Array<{ id: string; lease_token: number }>;
  return startedLeases(leases, rows);
}

function countRunning(conn: SqliteConnection, key: string): number {
  return (conn.stmt(sql.COUNT_RUNNING_BY_CONCURRENCY_KEY).get(key) as { n: number }).n;
}

/**
 * Fixed windows aligned to the epoch. Over the limit, the job waits for the next window. A job
 * resuming after a durable sleep or wait took its slot when it started: it takes none again.
 */
function takeRateSlot(conn: SqliteConnection, row: JobRow, now: number): boolean {
  if (
    row.lease_token > 0 &&
    (conn.stmt(sql.LAST_ATTEMPT_PARKED).get(row.id) as { parked: number } | undefined)?.parked
  ) {
    return true;
  }
  const key = row.rate_key as string;
  const period = row.rate_period_ms ?? 1;
  const limit = row.rate_limit ?? 1;
  const windowStart = Math.floor(now / period) * period;
  const current = conn.stmt(sql.GET_RATE_WINDOW).get(key) as { window_start: number; count: number } | undefined;
  const used = current && current.window_start === windowStart ? current.count : 0;
  if (used >= limit) {
    const next = windowStart + period;
    conn.stmt(sql.THROTTLE_JOB).run(next, row.id);
    conn.event(now, "job.throttled", row.id, null, { key, limit, periodMs: period, runAt: iso(next) });
    return false;
  }
  conn.stmt(sql.PUT_RATE_WINDOW).run(key, windowStart, used + 1);
  return true;
}
