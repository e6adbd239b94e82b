/**
 * Claiming for the PostgreSQL store: candidates in claim order (priority, run time, id), locked
 * with `FOR UPDATE SKIP LOCKED` so concurrent claimers pass over each other's rows instead of
 * waiting or taking the same job, then the same per-key and per-window checks as SQLite.
 * A concurrency key's running count is read only after taking that key's transaction-level
 * advisory lock, held until commit: a second claimer of the same key waits, then counts what
 * the first committed, so together they never exceed the limit. Runs inside the caller's transaction.
 */
import type { ClaimedJob, Lease } from "../../core/types.js";
import { claimedJob, startCount, startedLeases } from "../leases.js";
import { iso, type JobRow } from "../rows.js";
import type { ClaimRequest } from "../store.js";
import { LOCK, type Opening, type PgConnection, type Tx } from "./connection.js";
import { intArrayLiteral, literal, textArrayLiteral } from "./literals.js";
import * as sql from "./statements.js";

/** Pages of candidates one claim reads at most when concurrency keys or rate limits turn jobs away. */
const CLAIM_PAGES = 8;

/** Whether a claim could return anything at all (an empty task or queue list matches no job). */
export function canMatch(req: ClaimRequest): boolean {
  return req.limit > 0 && req.tasks.length > 0 && (req.queues === null || req.queues.length > 0);
}

/**
 * Opens a claim's transaction (`PgConnection.write`'s `opening`), in the round trip of BEGIN:
 * the planner settings claims need, due scheduled jobs made ready, and the first page claimed.
 * `claimInTransaction` goes on from that page, the opening's last result.
 */
export function openClaim(req: ClaimRequest): Opening {
  return {
    prepared: [sql.PREPARE_PROMOTE_DUE, sql.PREPARE_CLAIM_FIRST_PAGE],
    statements: (nowSql) => firstPage(req, nowSql, false),
  };
}

/**
 * A claim as one transaction in one round trip: its first page, with the claimed jobs'
 * `job.started` events, committed at once. Returns what it claimed, and whether that page
 * stopped at a job with a concurrency key or rate limit, which only `claimInTransaction` can
 * weigh (under its key's lock): the caller goes on with that if it wants more.
 */
export async function claimAtOnce(
  conn: PgConnection,
  req: ClaimRequest,
): Promise<{ claimed: ClaimedJob[]; stopped: boolean }> {
  const results = await conn.script(
    (nowSql) => [`SELECT ${nowSql} AS now`, ...firstPage(req, nowSql, true)],
    [sql.PREPARE_PROMOTE_DUE, sql.PREPARE_CLAIM_AT_ONCE],
  );
  const now = Number((results[0]?.rows[0] as { now: number | string } | undefined)?.now);
  const rows = (results.at(-1)?.rows ?? []) as FirstPageRow[];
  const claimed = rows
    .filter((r) => r.claimed)
    .sort((a, b) => a.n - b.n)
    .map((row) => claimedJob(row, row, req.workerId, now, now + req.leaseMs));
  return { claimed, stopped: claimed.length < rows.length };
}

/** The statements of a claim's first page (see PREPARE_CLAIM_FIRST_PAGE), with its events or without. */
function firstPage(req: ClaimRequest, nowSql: string, withEvents: boolean): string[] {
  const statement = withEvents ? sql.PREPARE_CLAIM_AT_ONCE : sql.PREPARE_CLAIM_FIRST_PAGE;
  const args = [
    literal(req.limit),
    ...START.map(literal),
    textArrayLiteral(req.tasks),
    req.queues === null ? "NULL" : textArrayLiteral(req.queues),
    literal(req.workerId),
    `${nowSql} + ${literal(req.leaseMs)}`,
    nowSql,
    literal(startCount(req)),
  ];
  return [
    ...sql.CLAIM_PLANNING,
    `EXECUTE ${sql.PREPARE_PROMOTE_DUE.name}(${nowSql})`,
    `EXECUTE ${statement.name}(${args.join(", ")})`,
  ];
}

type FirstPageRow = JobRow & { n: number; claimed: boolean };

/**
 * Claims up to `req.limit` jobs under new leases for `req.workerId`, in claim order, in a
 * transaction opened by `openClaim(req)`. Its first page was claimed there up to the first job
 * with a concurrency key or rate limit; from that job on, each candidate is checked here, under
 * its key's lock, and claimed at the end.
 */
export async function claimInTransaction(tx: Tx, req: ClaimRequest): Promise<ClaimedJob[]> {
  const now = tx.now;
  const expiresAt = now + req.leaseMs;
  const claimed: ClaimedJob[] = [];
  const chosen: JobRow[] = [];
  const takenPerKey = new Map<string, number>();
  const runningPerKey = new Map<string, number>();
  const consider = async (row: JobRow): Promise<void> => {
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
      if (running + (takenPerKey.get(key) ?? 0) >= (row.concurrency_limit ?? 1)) return;
    }
    if (row.rate_key !== null && !(await takeRateSlot(tx, row))) return;
    if (key !== null) takenPerKey.set(key, (takenPerKey.get(key) ?? 0) + 1);
    chosen.push(row);
  };

  // The first `start` jobs in claim order start now; the rest are held (see ClaimRequest.start).
  const start = startCount(req);
  const first = (tx.opened.at(-1)?.rows ?? []) as FirstPageRow[];
  first.sort((a, b) => a.n - b.n);
  for (const row of first) {
    if (row.claimed) {
      tx.event("job.started", row.id, req.workerId, { attempt: row.attempts, task: row.task });
      claimed.push(claimedJob(row, row, req.workerId, now, expiresAt));
    } else if (claimed.length + chosen.length < req.limit) {
      await consider(row);
    }
  }
  // Later pages only when the first one did not fill the claim and was full itself. They are
  // wide, since whatever turned jobs away is likely to turn away their neighbours. Rows read but
  // not taken stay locked until commit, which only makes other claimers skip them briefly.
  let last: JobRow | undefined = first.at(-1);
  let full = first.length === req.limit;
  for (let page = 1; page < CLAIM_PAGES && full && last && claimed.length + chosen.length < req.limit; page++) {
    const want = Math.max(32, 2 * (req.limit - claimed.length - chosen.length));
    const rows = await tx.rows<JobRow>(sql.SELECT_CLAIMABLE, [
      want,
      last.priority,
      last.run_at,
      last.id,
      req.tasks,
      req.queues,
    ]);
    for (const row of rows) {
      if (claimed.length + chosen.length >= req.limit) break;
      await consider(row);
    }
    last = rows.at(-1);
    full = rows.length === want;
  }
  if (chosen.length === 0) return claimed;

  const ids = chosen.map((r) => r.id);
  const held = chosen.slice(Math.max(0, start - claimed.length)).map((r) => r.id);
  const updated = new Map(
    (
      await tx.rows<{ id: string; lease_token: number; attempts: number; version: number }>(sql.CLAIM_JOBS, [
        req.workerId,
        expiresAt,
        now,
        ids,
        held,
      ])
    ).map((u) => [u.id, u]),
  );
  for (const row of chosen) {
    const u = updated.get(row.id);
    if (!u) continue; // cannot happen: the row is locked by this transaction; kept as a guard
    tx.event("job.started", row.id, req.workerId, { attempt: u.attempts, task: row.task });
    claimed.push(claimedJob(row, u, req.workerId, now, expiresAt));
  }
  return claimed;
}

/**
 * Held jobs whose handlers start now: one statement, outside any transaction (it is one anyway),
 * so a worker's batch of starts costs one round trip and takes no lock but the rows'. No event:
 * the claim appended `job.started` already. Returns the ids of those whose lease still held.
 */
export async function startHeld(conn: PgConnection, leases: readonly Lease[]): Promise<string[]> {
  const rows = await conn.execute<{ id: string; lease_token: number }>(sql.PREPARE_START_HELD, [
    literal(conn.clock?.() ?? null),
    textArrayLiteral(leases.map((l) => l.jobId)),
    intArrayLiteral(leases.map((l) => l.token)),
  ]);
  return startedLeases(leases, rows);
}

/** The claim-order key before every job. */
const START = [-2_147_483_648, Number.MIN_SAFE_INTEGER, ""] as const;

/**
 * Fixed windows aligned to the epoch. Over the limit, the job waits for the next window. A job
 * resuming after a durable sleep or wait took its slot when it started: it takes none again.
 */
async function takeRateSlot(tx: Tx, row: JobRow): Promise<boolean> {
  if (row.lease_token > 0 && (await tx.one<{ parked: boolean }>(sql.LAST_ATTEMPT_PARKED, [row.id]))?.parked) {
    return true;
  }
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
