/**
 * 027: who holds a claim, beyond its owner's name: `role`, `agent` and `fingerprint`, as its last
 * take gave them (null when it did not). A file that has the columns already keeps them.
 */
export const sql = (hasColumn: (table: string, column: string) => boolean): string =>
  ["role", "agent", "fingerprint"]
    .filter((column) => !hasColumn("claims", column))
    .map((column) => `ALTER TABLE claims ADD COLUMN ${column} TEXT;`)
    .join("\n");
