/**
 * 002: schedules and the ticks they fired, as in SQLite's 002. A tick's row is inserted in the
 * same transaction as its job; its primary key makes a tick fire once however many schedulers
 * race for it (a concurrent insert of the same key waits for the first, then conflicts).
 */
export const sql = `
CREATE TABLE schedules (
  name TEXT COLLATE "C" PRIMARY KEY,
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
  removed_at BIGINT,
  last_tick_at BIGINT,
  -- Ticks before this are not owed (registration, re-adding, re-enabling).
  active_since BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE schedule_ticks (
  schedule TEXT COLLATE "C" NOT NULL,
  tick BIGINT NOT NULL,
  job_id TEXT NOT NULL,
  fired_at BIGINT NOT NULL,
  PRIMARY KEY (schedule, tick)
);
`;
