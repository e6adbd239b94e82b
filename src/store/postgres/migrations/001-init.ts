/**
 * 001: jobs, attempts, events, workers, queues, rate windows; the same tables and columns as
 * SQLite's 001, so `sqlite/rows.ts` maps both. Times are BIGINT epoch milliseconds, JSON is TEXT
 * (kept byte for byte as written), flags are 0/1 integers. Identifiers use the C collation so
 * ids and names sort by bytes, as they do in SQLite (claim order breaks ties by id).
 */
export const sql = `
CREATE TABLE jobs (
  id TEXT COLLATE "C" PRIMARY KEY,
  task TEXT COLLATE "C" NOT NULL,
  queue TEXT COLLATE "C" NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('scheduled','queued','running','succeeded','dead','cancelled')),
  payload TEXT NOT NULL,
  result TEXT,
  priority INTEGER NOT NULL,
  run_at BIGINT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  backoff TEXT NOT NULL,
  idempotency_key TEXT,
  idempotency_ttl_ms BIGINT NOT NULL DEFAULT 0,
  idempotency_expires_at BIGINT,
  concurrency_key TEXT,
  concurrency_limit INTEGER,
  concurrency_on_limit TEXT,
  rate_key TEXT,
  rate_limit INTEGER,
  rate_period_ms BIGINT,
  progress TEXT,
  last_error TEXT,
  lease_owner TEXT,
  lease_token INTEGER NOT NULL DEFAULT 0,
  lease_expires_at BIGINT,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
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
  job_id TEXT COLLATE "C" NOT NULL,
  number INTEGER NOT NULL,
  worker_id TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  finished_at BIGINT,
  outcome TEXT NOT NULL,
  error TEXT,
  PRIMARY KEY (job_id, number)
);

CREATE TABLE events (
  -- Assigned only under the event lock at the end of each transaction, so seq order is commit
  -- order (see connection.ts). Never reused: retention always keeps the newest event.
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at BIGINT NOT NULL,
  kind TEXT NOT NULL,
  job_id TEXT COLLATE "C",
  worker_id TEXT,
  data TEXT NOT NULL
);
CREATE INDEX events_job ON events (job_id, seq) WHERE job_id IS NOT NULL;

CREATE TABLE workers (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  queues TEXT,
  tasks TEXT NOT NULL,
  concurrency INTEGER NOT NULL,
  status TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL,
  stopped_at BIGINT
);

CREATE TABLE queues (
  name TEXT COLLATE "C" PRIMARY KEY,
  paused INTEGER NOT NULL DEFAULT 0,
  updated_at BIGINT NOT NULL
);

CREATE TABLE rate_windows (
  key TEXT PRIMARY KEY,
  window_start BIGINT NOT NULL,
  count INTEGER NOT NULL
);
`;
