/**
 * 005: runs, their turns and their stored output, and a run id on events, as SQLite's 005.
 * Output is stored in chunks keyed by their byte offset in the turn's output, so a ranged read
 * fetches only the chunks that overlap it. The claim reads two partial indexes: queued runs
 * oldest first, and started runs by lease expiry.
 */
export const sql = `
ALTER TABLE events ADD COLUMN run_id TEXT COLLATE "C";
CREATE INDEX events_run ON events (run_id, seq) WHERE run_id IS NOT NULL;

CREATE TABLE runs (
  id TEXT COLLATE "C" PRIMARY KEY,
  profile TEXT COLLATE "C",
  params TEXT NOT NULL,
  spec TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued','running','pausing','paused','cancelling','cancelled','completed','failed')),
  version INTEGER NOT NULL DEFAULT 1,
  pid INTEGER,
  current_turn INTEGER NOT NULL DEFAULT 0,
  stats TEXT NOT NULL,
  completion TEXT NOT NULL,
  error TEXT,
  lease_owner TEXT,
  lease_token INTEGER NOT NULL DEFAULT 0,
  lease_expires_at BIGINT,
  created_by TEXT,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
  updated_at BIGINT NOT NULL
);
CREATE INDEX runs_state ON runs (state, id);
CREATE INDEX runs_profile ON runs (profile, id) WHERE profile IS NOT NULL;
CREATE INDEX runs_queued ON runs (created_at, id) WHERE state = 'queued';
CREATE INDEX runs_leases ON runs (lease_expires_at) WHERE state IN ('running','pausing','paused','cancelling');

CREATE TABLE run_turns (
  run_id TEXT COLLATE "C" NOT NULL,
  turn INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  exit_code INTEGER,
  signal TEXT,
  pid INTEGER,
  host TEXT NOT NULL,
  worker_id TEXT NOT NULL,
  output_bytes BIGINT NOT NULL DEFAULT 0,
  started_at BIGINT NOT NULL,
  finished_at BIGINT,
  PRIMARY KEY (run_id, turn)
);

CREATE TABLE run_output (
  run_id TEXT COLLATE "C" NOT NULL,
  turn INTEGER NOT NULL,
  "offset" BIGINT NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY (run_id, turn, "offset")
);
`;
