/**
 * 027: who holds a claim, beyond its owner's name: `role`, `agent` and `fingerprint`, as its last
 * take gave them (null when it did not). A schema that has the columns already keeps them.
 */
export const sql = `
ALTER TABLE claims ADD COLUMN IF NOT EXISTS role TEXT;
ALTER TABLE claims ADD COLUMN IF NOT EXISTS agent TEXT;
ALTER TABLE claims ADD COLUMN IF NOT EXISTS fingerprint TEXT;
`;
