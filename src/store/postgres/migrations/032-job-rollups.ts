/**
 * 032: job rollups. Each row sums the jobs of one queue and task that finished in one minute:
 * counts by outcome, retries, and wait- and run-time histograms in 56 fixed log-spaced buckets
 * each (`w0`..`w55`, `r0`..`r55`, see core/job-rollup.ts), so a range's percentiles come from
 * adding rows. Rows are written by the rollup pass, kept 7 days, and outlive job retention. The
 * watermark says up to which minute the finished jobs have been rolled up; a pass advances it
 * in the transaction that writes its rows, only from the value it read, so two nodes never
 * count a minute twice. Read by minute range, or by queue or task and minute range.
 * `job_rollups_quarter_hourly` and `job_rollups_hourly` hold the same sums per quarter hour and
 * per hour (each minute row is added to its quarter hour's and hour's rows in the same
 * transaction), for ranges in whole quarter hours or hours: a day is 96 rows per queue and task,
 * a week 168.
 */
const HISTOGRAM = Array.from({ length: 56 }, (_, k) => `w${k} INTEGER NOT NULL DEFAULT 0`)
  .concat(Array.from({ length: 56 }, (_, k) => `r${k} INTEGER NOT NULL DEFAULT 0`))
  .join(",\n  ");

/** One rollup table: the sums of one queue and task per `time` (a minute, quarter hour or hour). */
function rollupTable(table: string, time: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${table} (
  ${time} BIGINT NOT NULL,
  queue TEXT COLLATE "C" NOT NULL,
  task TEXT COLLATE "C" NOT NULL,
  succeeded INTEGER NOT NULL DEFAULT 0,
  dead INTEGER NOT NULL DEFAULT 0,
  cancelled INTEGER NOT NULL DEFAULT 0,
  retries INTEGER NOT NULL DEFAULT 0,
  ${HISTOGRAM},
  PRIMARY KEY (${time}, queue, task)
);
CREATE INDEX IF NOT EXISTS ${table}_queue ON ${table} (queue, ${time});
CREATE INDEX IF NOT EXISTS ${table}_task ON ${table} (task, ${time});`;
}

export const sql = `${rollupTable("job_rollups", "minute")}${rollupTable("job_rollups_quarter_hourly", "quarter_hour")}${rollupTable("job_rollups_hourly", "hour")}
CREATE TABLE IF NOT EXISTS rollup_watermarks (
  name TEXT COLLATE "C" PRIMARY KEY,
  through BIGINT NOT NULL
);
INSERT INTO rollup_watermarks (name, through) VALUES ('jobs', 0) ON CONFLICT (name) DO NOTHING;
`;
