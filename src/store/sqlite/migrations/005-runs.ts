/**
 * 005: runs, their turns and their stored output, and a run id on events. A run's JSON (params,
 * spec, stats, completion, error) is TEXT as elsewhere; output is stored in chunks keyed by their
 * byte offset in the turn's output, so a ranged read fetches only the chunks that overlap it.
 * The claim reads two partial indexes: queued runs oldest first, and started runs by lease expiry.
 */
export const sql = `
ALTER TABLE events ADD COLUMN run_id TEXT;
CREATE INDEX events_run ON events (run_id, seq) WHERE run_id IS NOT NULL;

CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  profile TEXT,
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
  lease_expires_at INTEGER,
  created_by TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE INDEX runs_state ON runs (state, id);
CREATE INDEX runs_profile ON runs (profile, id) WHERE profile IS NOT NULL;
CREATE INDEX runs_queued ON runs (created_at, id) WHERE state = 'queued';
CREATE INDEX runs_leases ON runs (lease_expires_at) WHERE state IN ('running','pausing','paused','cancelling');

CREATE TABLE run_turns (
  run_id TEXT NOT NULL,
  turn INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  exit_code INTEGER,
  signal TEXT,
  pid INTEGER,
  host TEXT NOT NULL,
  worker_id TEXT NOT NULL,
  output_bytes INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  PRIMARY KEY (run_id, turn)
) WITHOUT ROWID;

CREATE TABLE run_output (
  run_id TEXT NOT NULL,
  turn INTEGER NOT NULL,
  "offset" INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (run_id, turn, "offset")
);
`;
