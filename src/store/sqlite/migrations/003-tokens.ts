/**
 * 003: HTTP API tokens, and a version on queues. A token row holds the SHA-256 of the secret,
 * never the secret. Names are unique among active tokens only, so a revoked token's name can
 * be reused while its row stays as history. Existing queue rows were written once: version 1.
 */
export const sql = `
CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('admin','operator','viewer','metrics')),
  hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE UNIQUE INDEX tokens_active_name ON tokens (name) WHERE revoked_at IS NULL;

ALTER TABLE queues ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
`;
