/**
 * 011: indexes for retention of runs and alerts, as SQLite's 011. Without them the prune query
 * read every finished run or closed alert the store keeps (a sequential scan, or runs_state and
 * alerts_listing) and sorted them by finish or close time; with them it reads only the batch,
 * oldest first, and the count rule's newest N from the other end. Partial: running runs and
 * open alerts, which are written often, never touch them.
 */
export const sql = `
CREATE INDEX runs_finished ON runs (finished_at, id) WHERE state IN ('cancelled','completed','failed');
CREATE INDEX alerts_closed ON alerts (closed_at, id) WHERE status = 'closed';
`;
