/**
 * 001: jobs, attempts, events, workers, queues, rate windows.
 * Times are epoch milliseconds (INTEGER); JSON is TEXT. Partial indexes keep the hot claim path
 * small: the ready index only ever holds queued jobs.
 */
export const sql = `
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  task TEXT NOT NULL,
  queue TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('scheduled','queued','running','succeeded','dead','cancelled')),
  payload TEXT NOT NULL,
  result TEXT,
  priority INTEGER NOT NULL,
  run_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  backoff TEXT NOT NULL,
  idempotency_key TEXT,
  idempotency_ttl_ms INTEGER NOT NULL DEFAULT 0,
  idempotency_expires_at INTEGER,
  concurrency_key TEXT,
  concurrency_limit INTEGER,
  concurrency_on_limit TEXT,
  rate_key TEXT,
  rate_limit INTEGER,
  rate_period_ms INTEGER,
  progress TEXT,
  last_error TEXT,
  lease_owner TEXT,
  lease_token INTEGER NOT NULL DEFAULT 0,
  lease_expires_at INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX jobs_ready ON jobs (priority, run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_scheduled ON jobs (run_at) WHERE state = 'scheduled';
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE state = 'running';
CREATE INDEX jobs_concurrency ON jobs (concurrency_key, state) WHERE concurrency_key IS NOT NULL;
CREATE INDEX jobs_idempotency ON jobs (task, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_state ON jobs (state, id);
CREATE INDEX jobs_queue_state ON jobs (queue, state);

CREATE TABLE attempts (
  job_id TEXT NOT NULL,
  number INTEGER NOT NULL,
  worker_id TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  outcome TEXT NOT NULL,
  error TEXT,
  PRIMARY KEY (job_id, number)
) WITHOUT ROWID;

CREATE TABLE events (
  seq INTEGER PRIMARY KEY, -- never reused: retention always keeps the newest event
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  job_id TEXT,
  worker_id TEXT,
  data TEXT NOT NULL
);
CREATE INDEX events_job ON events (job_id, seq) WHERE job_id IS NOT NULL;

CREATE TABLE workers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  queues TEXT,
  tasks TEXT NOT NULL,
  concurrency INTEGER NOT NULL,
  status TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  stopped_at INTEGER
);

CREATE TABLE queues (
  name TEXT PRIMARY KEY,
  paused INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
);

CREATE TABLE rate_windows (
  key TEXT PRIMARY KEY,
  window_start INTEGER NOT NULL,
  count INTEGER NOT NULL
);
`;
