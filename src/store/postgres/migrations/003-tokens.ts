/**
 * 003: HTTP API tokens, and a version on queues, as in SQLite's 003. A token row holds the
 * SHA-256 of the secret, never the secret. Names are unique among active tokens only.
 */
export const sql = `
CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  name TEXT COLLATE "C" NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('admin','operator','viewer','metrics')),
  hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);
CREATE UNIQUE INDEX tokens_active_name ON tokens (name) WHERE revoked_at IS NULL;

ALTER TABLE queues ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
`;
