/**
 * 006: claims, named leases with a TTL (see core/claim.ts). One row per key ever claimed: a
 * release or an expiry leaves the row, so the key's fencing token keeps growing across holders.
 * `released_at` is set by a release and cleared by the next take.
 */
export const sql = `
CREATE TABLE claims (
  key TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  token INTEGER NOT NULL,
  ttl_ms INTEGER NOT NULL,
  acquired_at INTEGER NOT NULL,
  refreshed_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  released_at INTEGER
);
`;
