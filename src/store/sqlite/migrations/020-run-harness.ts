/**
 * 020: what a coding-agent harness needs of runs. `run_messages`: messages a person sends to a
 * run; each waits (`turn` null) until the first turn that starts after it, which gets it in its
 * input and records its number here. `runs.rerun_of`: the finished run a run was started again
 * from, indexed so that a run's reruns are found from it.
 */
export const sql = `
CREATE TABLE run_messages (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  body TEXT NOT NULL,
  sent_by TEXT,
  created_at INTEGER NOT NULL,
  turn INTEGER
);
CREATE INDEX run_messages_run ON run_messages (run_id, id);
ALTER TABLE runs ADD COLUMN rerun_of TEXT;
CREATE INDEX runs_rerun_of ON runs (rerun_of, id) WHERE rerun_of IS NOT NULL;
`;
