/** The SQL of job rollups (see operations.ts and migration 032), parameters listed. */

import { LATENCY_BUCKETS } from "../../core/job-rollup.js";
import { FINISHED_STATES } from "../../core/types.js";

const FINISHED = `state IN (${FINISHED_STATES.map((s) => `'${s}'`).join(",")})`;

/** The histogram columns, wait then run: `w0`..`w55`, `r0`..`r55`. */
export const HISTOGRAM_COLUMNS: readonly string[] = [
  ...Array.from({ length: LATENCY_BUCKETS }, (_, k) => `w${k}`),
  ...Array.from({ length: LATENCY_BUCKETS }, (_, k) => `r${k}`),
];
/** Every number a row holds, in the order INSERT_ROWS binds them after (minute, queue, task). */
export const COUNT_COLUMNS: readonly string[] = ["succeeded", "dead", "cancelled", "retries", ...HISTOGRAM_COLUMNS];

/**
 * The three tables: rows per minute (`job_rollups`, by `minute`), and the same sums per quarter
 * hour (`job_rollups_quarter_hourly`, by `quarter_hour`) and per hour (`job_rollups_hourly`, by
 * `hour`), which a range in whole quarter hours or hours reads instead: a day in quarter hours is
 * 96 rows per queue and task, not 1,440; a week in hours 168, not 10,080.
 */
export type Grain = "minute" | "quarterHour" | "hour";
export const GRAIN_MS: Record<Grain, number> = { minute: 60_000, quarterHour: 900_000, hour: 3_600_000 };
const TABLES: Record<Grain, { table: string; time: string }> = {
  minute: { table: "job_rollups", time: "minute" },
  quarterHour: { table: "job_rollups_quarter_hourly", time: "quarter_hour" },
  hour: { table: "job_rollups_hourly", time: "hour" },
};

function byGrain<T>(build: (grain: Grain) => T): Record<Grain, T> {
  return { minute: build("minute"), quarterHour: build("quarterHour"), hour: build("hour") };
}

export const READ_WATERMARK = "SELECT through FROM rollup_watermarks WHERE name = 'jobs'";

/** $1 the new watermark, $2 the one the pass read: nothing changes if another pass moved it since. */
export const ADVANCE_WATERMARK = "UPDATE rollup_watermarks SET through = $1 WHERE name = 'jobs' AND through = $2";

/** $1 since: the first finish time at or after it (along `jobs_finished`, one probe per state). */
export const FIRST_FINISHED_SINCE = `SELECT min(finished_at) AS at FROM jobs WHERE ${FINISHED} AND finished_at >= $1`;

/**
 * $1 from, $2 to (excluded), $3 limit: what a rollup needs of the jobs that finished between, along
 * `jobs_finished`, the earliest first: a read cut by the limit is then whole up to its last
 * minute whatever the state (the index is by state first, so without the order one state's
 * jobs would come before the others' and a cut would skip those of the other states).
 */
export const FINISHED_BETWEEN = `
SELECT queue, task, state, attempts, run_at, started_at, finished_at FROM jobs
WHERE ${FINISHED} AND finished_at >= $1 AND finished_at < $2
ORDER BY finished_at
LIMIT $3`;

/**
 * Rows added to what is stored for their (time, queue, task), `rows` of them in one statement:
 * (time, queue, task, then COUNT_COLUMNS) per row. Adding, not replacing, so rows written by
 * `writeJobRollups` and by the pass for the same minute (or hour) sum up.
 */
export function insertRows(grain: Grain, rows: number): string {
  const { table, time } = TABLES[grain];
  const width = 3 + COUNT_COLUMNS.length;
  const values = Array.from(
    { length: rows },
    (_, i) => `(${Array.from({ length: width }, (_, j) => `$${i * width + j + 1}`).join(",")})`,
  );
  return `
INSERT INTO ${table} (${time}, queue, task, ${COUNT_COLUMNS.join(", ")})
VALUES ${values.join(",\n")}
ON CONFLICT (${time}, queue, task) DO UPDATE SET
${COUNT_COLUMNS.map((c) => `${c} = ${table}.${c} + excluded.${c}`).join(",\n")}`;
}

/** $1 cutoff: rollups of minutes (or hours) before it go. */
export const DELETE_BEFORE = byGrain((g) => `DELETE FROM ${TABLES[g].table} WHERE ${TABLES[g].time} < $1`);

const SUMS = COUNT_COLUMNS.map((c) => `sum(${c}) AS ${c}`).join(", ");

/** Which of queue and task a read is narrowed to. */
export type RollupScope = "all" | "queue" | "task" | "both";

/**
 * The filter after $1 from and $2 to: time range, then queue ($3) and task ($3, or $4 with a
 * queue). A narrowed read walks the queue's or task's index from its first minute in range;
 * an unnarrowed one walks the primary key's.
 */
function where(grain: Grain, scope: RollupScope): string {
  const time = TABLES[grain].time;
  const q = scope === "queue" || scope === "both" ? " AND queue = $3" : "";
  const t = scope === "task" ? " AND task = $3" : scope === "both" ? " AND task = $4" : "";
  return `${time} >= $1 AND ${time} < $2${q}${t}`;
}

function nextParam(scope: RollupScope): number {
  return scope === "all" ? 3 : scope === "both" ? 5 : 4;
}

const SCOPES: readonly RollupScope[] = ["all", "queue", "task", "both"];

type Statements = Record<Grain, Record<RollupScope, string>>;

function byScope(build: (grain: Grain, scope: RollupScope) => string): Statements {
  return byGrain((grain) => Object.fromEntries(SCOPES.map((s) => [s, build(grain, s)])) as Record<RollupScope, string>);
}

/**
 * Sums per bucket of the range: $1 from, $2 to (excluded), the scope's filters, then the bucket's
 * length in ms. `bucket` is the bucket's number from `from`. Summed per minute (or hour) first, in
 * the index's time order (no sort of the wide rows, which spilled to disk on PostgreSQL at 100,000
 * rows), then those per bucket.
 */
export const SERIES = byScope((grain, scope) => {
  const { table, time } = TABLES[grain];
  const bucket = `CAST((${time} - $1) / $${nextParam(scope)} AS BIGINT)`;
  return `
SELECT ${bucket} AS bucket, ${SUMS}
FROM (SELECT ${time}, ${SUMS} FROM ${table} WHERE ${where(grain, scope)} GROUP BY ${time}) AS times
GROUP BY ${bucket}`;
});

/** Sums per queue or per task over the range, the most jobs first: the scope's filters, then the limit. */
function breakdown(column: "queue" | "task"): Statements {
  return byScope(
    (grain, scope) => `
SELECT ${column} AS name, ${SUMS}
FROM ${TABLES[grain].table} WHERE ${where(grain, scope)}
GROUP BY ${column}
ORDER BY sum(succeeded) + sum(dead) + sum(cancelled) DESC, ${column}
LIMIT $${nextParam(scope)}`,
  );
}

export const BY_QUEUE = breakdown("queue");
export const BY_TASK = breakdown("task");

/** The first minute that has a rollup. */
export const OLDEST_MINUTE = "SELECT min(minute) AS minute FROM job_rollups";
