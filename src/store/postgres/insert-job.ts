/**
 * Inserting one job and its `job.enqueued` event, shared by the store's own transactions and by
 * `enqueueWithin` on a user's client, so both apply the same idempotency-key and
 * concurrency-reject rules (under the same advisory locks) with the same statements. Jobs that
 * need none of those, and start now, are inserted by one script in one round trip.
 */
import type { NewJob } from "../../core/job-options.js";
import {
  concurrencyLimitReached,
  deduplicatedEventData,
  enqueuedEventData,
  enqueuedJob,
  insertJobParams,
  NEW_JOB_COLUMNS,
  placeNewJob,
  UNTRACED_JOB_COLUMNS,
} from "../new-job.js";
import { type JobRow, toJob } from "../rows.js";
import type { EnqueueResult } from "../store.js";
import { appendEvents, type EventRow, LOCK, MANY_ROWS, type Tx } from "./connection.js";
import { insertValues, intArrayLiteral, type Literal, textArrayLiteral } from "./literals.js";
import * as sql from "./statements.js";

export async function insertJob(tx: Tx, job: NewJob): Promise<EnqueueResult> {
  const now = tx.now;
  if (job.idempotencyKey !== null) {
    // Two nodes enqueueing the same key at once: the second waits, then finds the first's job.
    await tx.lock(LOCK.idempotencyKey, `${job.task}\n${job.idempotencyKey}`);
    const existing = await tx.one<JobRow>(sql.FIND_BY_IDEMPOTENCY_KEY, [job.task, job.idempotencyKey, now]);
    if (existing) {
      // The only write of a repeated enqueue: its job's timeline shows it, and /metrics counts it.
      tx.event("job.deduplicated", existing.id, null, deduplicatedEventData(existing, job));
      return { job: toJob(existing), created: false };
    }
  }
  const c = job.concurrency;
  if (c !== null && c.onLimit === "reject") {
    // The same lock claims take for this key, so concurrent enqueues cannot both squeeze in.
    await tx.lock(LOCK.concurrencyKey, c.key);
    const n = (await tx.one<{ n: number }>(sql.COUNT_UNFINISHED_BY_CONCURRENCY_KEY, [c.key]))?.n ?? 0;
    if (n >= c.limit) throw concurrencyLimitReached(job, c, n);
  }
  const placement = placeNewJob(job, now);
  // Inserted with the next statement or at commit, many jobs in one INSERT (enqueueMany).
  const traced = job.traceContext !== null;
  tx.insertLater("jobs", traced ? NEW_JOB_COLUMNS : UNTRACED_JOB_COLUMNS, insertJobParams(job, placement, now, traced));
  const { job: inserted, eventData } = enqueuedJob(job, placement, now);
  tx.event("job.enqueued", job.id, null, eventData);
  return { job: inserted, created: true };
}

/**
 * Whether a job can be inserted without reading anything first: no idempotency key to look up,
 * no rejecting concurrency key to count, and it starts now, so its state (queued) and event do
 * not depend on the clock; its times are the clock's SQL, filled in by the database.
 */
export function insertsAtOnce(job: NewJob): boolean {
  return (
    job.idempotencyKey === null && job.concurrency?.onLimit !== "reject" && job.runAtMs === null && job.delayMs === 0
  );
}

/**
 * The statements of a script (see `PgConnection.script`) that insert such jobs, their events and
 * the wakeup. The first returns the transaction's now, the jobs' `created_at`.
 */
export function insertAtOnceScript(jobs: readonly NewJob[], nowSql: string): string[] {
  const now: Literal = { sql: nowSql };
  const traced = jobs.some((job) => job.traceContext !== null);
  const columns = traced ? NEW_JOB_COLUMNS : UNTRACED_JOB_COLUMNS;
  const rows = jobs.map((job) => insertJobParams<Literal>(job, { state: "queued", runAt: now }, now, traced));
  const events = jobs.map(
    (job): EventRow => [
      now,
      "job.enqueued",
      job.id,
      null,
      JSON.stringify(enqueuedEventData(job, { state: "queued", runAt: 0 })),
      null,
    ],
  );
  return [
    `SELECT ${nowSql} AS now`,
    rows.length > MANY_ROWS ? insertJobArrays(columns, rows, nowSql) : insertValues("jobs", columns, rows),
    ...appendEvents(events),
    sql.NOTIFY_CHANGES,
  ];
}

/** The PostgreSQL type of each of NEW_JOB_COLUMNS; the times are the transaction's now. */
const NEW_JOB_TYPES = {
  id: "text",
  task: "text",
  queue: "text",
  state: "text",
  payload: "text",
  priority: "int",
  run_at: "now",
  max_attempts: "int",
  backoff: "text",
  idempotency_key: "text",
  idempotency_ttl_ms: "bigint",
  concurrency_key: "text",
  concurrency_limit: "int",
  concurrency_on_limit: "text",
  rate_key: "text",
  rate_limit: "int",
  rate_period_ms: "bigint",
  enqueued_by: "text",
  timeout_ms: "bigint",
  created_at: "now",
  trace_context: "text",
} as const satisfies Record<(typeof NEW_JOB_COLUMNS)[number], "text" | "int" | "bigint" | "now">;

/**
 * Many jobs' rows (in the order of `columns`, NEW_JOB_COLUMNS or UNTRACED_JOB_COLUMNS) as one
 * array literal per column, unnested: the server reads a long list far faster as arrays than as
 * a VALUES list, and the script keeps its one round trip (bound arrays would need a statement
 * of their own).
 */
function insertJobArrays(
  columns: readonly (typeof NEW_JOB_COLUMNS)[number][],
  rows: readonly (readonly Literal[])[],
  nowSql: string,
): string {
  const arrays: string[] = [];
  const select = columns.map((column, i) => {
    const type = NEW_JOB_TYPES[column];
    if (type === "now") return nowSql;
    const values = rows.map((row) => row[i] as string | number | null);
    arrays.push(
      type === "text"
        ? textArrayLiteral(values as (string | null)[])
        : intArrayLiteral(values as (number | null)[], type),
    );
    return `c${arrays.length}`;
  });
  const names = arrays.map((_, i) => `c${i + 1}`).join(", ");
  return `INSERT INTO jobs (${columns.join(", ")})
SELECT ${select.join(", ")} FROM unnest(${arrays.join(", ")}) AS u(${names})`;
}

/** What `enqueue` returns for jobs inserted by `insertAtOnceScript`, given the `now` it returned. */
export function insertedAtOnce(jobs: readonly NewJob[], now: number): EnqueueResult[] {
  return jobs.map((job) => ({ job: enqueuedJob(job, { state: "queued", runAt: now }, now).job, created: true }));
}
