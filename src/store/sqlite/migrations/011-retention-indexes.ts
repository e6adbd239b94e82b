/**
 * 011: indexes for retention of runs and alerts. Without them the prune query found finished
 * runs through runs_state and closed alerts through alerts_listing, reading every one the store
 * keeps (with its JSON) and sorting them by finish or close time; with them it reads only the
 * batch, oldest first, and the count rule's newest N from the other end. Partial: running runs
 * and open alerts, which are written often, never touch them. The WHERE of `runs_finished` must
 * stay the text statements.ts compiles from FINISHED_RUN_STATES, or SQLite cannot use it.
 */
export const sql = `
CREATE INDEX runs_finished ON runs (finished_at, id) WHERE state IN ('cancelled','completed','failed');
CREATE INDEX alerts_closed ON alerts (closed_at, id) WHERE status = 'closed';
`;
