/**
 * 020: messages a person sends to a run. Each waits (`turn` null) until the first turn that
 * starts after it, which gets it in its input and records its number here.
 */
export const sql = `
CREATE TABLE run_messages (
  id TEXT COLLATE "C" PRIMARY KEY,
  run_id TEXT COLLATE "C" NOT NULL,
  body TEXT NOT NULL,
  sent_by TEXT,
  created_at BIGINT NOT NULL,
  turn INTEGER
);
CREATE INDEX run_messages_run ON run_messages (run_id, id);
`;
