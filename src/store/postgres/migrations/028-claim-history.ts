/**
 * 028: the claim history (`Store.claimHistory`) read from indexes of claim events alone, as
 * SQLite's 028: every key's, newest first, by seq; one key's by the key in the event's data (the
 * same expression as the query in claims/statements.ts). Both are partial, so no other event
 * writes to them. A schema that has them already keeps them.
 */
export const sql = `
CREATE INDEX IF NOT EXISTS events_claims ON events (seq) WHERE kind IN ('claim.taken', 'claim.released');
CREATE INDEX IF NOT EXISTS events_claim_key ON events ((data::json ->> 'key'), seq)
  WHERE kind IN ('claim.taken', 'claim.released');
`;
