/**
 * 007: durable handlers (see core/durable.ts). `job_steps` holds each step's result under the
 * job and the step's name, the first write winning; `job_waits` the signal waits of parked jobs;
 * `signals` every signal posted, kept unconsumed until a wait takes it. Attempts may now end as
 * `parked` (the outcome column has no CHECK, so nothing to change there).
 */
export const sql = `
CREATE TABLE job_steps (
  job_id TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('step','sleep','wait')),
  result TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (job_id, name)
) WITHOUT ROWID;

CREATE TABLE job_waits (
  job_id TEXT NOT NULL,
  step TEXT NOT NULL,
  name TEXT NOT NULL,
  "match" TEXT,
  deadline INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (job_id, step)
) WITHOUT ROWID;
CREATE INDEX job_waits_name ON job_waits (name, created_at, job_id);

CREATE TABLE signals (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  payload TEXT NOT NULL,
  job_id TEXT,
  created_at INTEGER NOT NULL,
  consumed_by_job TEXT,
  consumed_step TEXT,
  consumed_at INTEGER
);
CREATE INDEX signals_unconsumed ON signals (name, created_at, id) WHERE consumed_at IS NULL;
`;
