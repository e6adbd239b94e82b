/**
 * 007: durable handlers, as in SQLite's 007: steps (first write wins), the signal waits of
 * parked jobs, and every signal posted, kept unconsumed until a wait takes it. Ids and names sort
 * bytewise ("C"), as in SQLite. `attempts.outcome` has no CHECK, so `parked` needs no change.
 */
export const sql = `
CREATE TABLE job_steps (
  job_id TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('step','sleep','wait')),
  result TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (job_id, name)
);

CREATE TABLE job_waits (
  job_id TEXT COLLATE "C" NOT NULL,
  step TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  "match" TEXT,
  deadline BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (job_id, step)
);
CREATE INDEX job_waits_name ON job_waits (name, created_at, job_id);

CREATE TABLE signals (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL,
  payload TEXT NOT NULL,
  job_id TEXT COLLATE "C",
  created_at BIGINT NOT NULL,
  consumed_by_job TEXT COLLATE "C",
  consumed_step TEXT COLLATE "C",
  consumed_at BIGINT
);
CREATE INDEX signals_unconsumed ON signals (name, created_at, id) WHERE consumed_at IS NULL;
`;
