/**
 * 015: `held` marks a running job that a worker claimed ahead of a free slot (prefetch) and whose
 * handler has not started. Its lease expiring then costs it nothing: it goes back to the queue
 * with its attempt count unchanged, where a started job's expired lease counts as a lost attempt.
 * 0 for every existing row: a job running across the upgrade is treated as started.
 */
export const sql = `
ALTER TABLE jobs ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
`;
