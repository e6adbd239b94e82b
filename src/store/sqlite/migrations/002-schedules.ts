/**
 * 002: schedules (recurring tasks) and the ticks they fired. A tick's row is written in the same
 * transaction as its job, and its primary key is what makes a tick fire once however many
 * schedulers race for it. Old tick rows are pruned as newer ticks fire.
 */
export const sql = `
CREATE TABLE schedules (
  name TEXT PRIMARY KEY,
  cron TEXT NOT NULL,
  timezone TEXT NOT NULL,
  task TEXT NOT NULL,
  payload TEXT NOT NULL,
  queue TEXT,
  priority INTEGER,
  catch_up INTEGER NOT NULL,
  enabled INTEGER NOT NULL,
  -- The enabled value the config last gave: a change there overrides the stored flag.
  config_enabled INTEGER NOT NULL,
  removed_at INTEGER,
  last_tick_at INTEGER,
  -- Ticks before this are not owed (registration, re-adding, re-enabling).
  active_since INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE schedule_ticks (
  schedule TEXT NOT NULL,
  tick INTEGER NOT NULL,
  job_id TEXT NOT NULL,
  fired_at INTEGER NOT NULL,
  PRIMARY KEY (schedule, tick)
) WITHOUT ROWID;
`;
