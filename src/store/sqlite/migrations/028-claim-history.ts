/**
 * 028: the claim history (`Store.claimHistory`) read from indexes of claim events alone, so that
 * it costs the same in a log of millions of job events: every key's, newest first, by seq; one
 * key's by the key in the event's data. Both are partial, so no other event writes to them. The
 * queries in claims/statements.ts repeat the condition and the key's expression word for word,
 * which SQLite needs to use them. A file that has them already keeps them.
 */
export const sql = `
CREATE INDEX IF NOT EXISTS events_claims ON events (seq) WHERE kind IN ('claim.taken', 'claim.released');
CREATE INDEX IF NOT EXISTS events_claim_key ON events (json_extract(data, '$.key'), seq)
  WHERE kind IN ('claim.taken', 'claim.released');
`;
