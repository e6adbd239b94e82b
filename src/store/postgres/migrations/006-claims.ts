/**
 * 006: claims, as in SQLite's 006: one row per key ever claimed, kept after a release or an
 * expiry so the key's fencing token keeps growing. Keys sort bytewise ("C"), as in SQLite.
 */
export const sql = `
CREATE TABLE claims (
  key TEXT COLLATE "C" PRIMARY KEY,
  owner TEXT NOT NULL,
  token BIGINT NOT NULL,
  ttl_ms BIGINT NOT NULL,
  acquired_at BIGINT NOT NULL,
  refreshed_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  released_at BIGINT
);
`;
