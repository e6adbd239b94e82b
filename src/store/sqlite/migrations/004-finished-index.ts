/**
 * 004: an index for "jobs finished since T" (GET /stats reads the last minutes' finished jobs).
 * Without it SQLite found them through jobs_state, visiting every finished job the store keeps
 * (about 100 ms at 100,000 jobs, growing with the store); with it, only the window's. Partial:
 * waiting and running jobs have no finished_at, so claiming never writes to it.
 */
export const sql = `
CREATE INDEX jobs_finished ON jobs (state, finished_at) WHERE finished_at IS NOT NULL;
`;
