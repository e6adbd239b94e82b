/**
 * 017: an attempt's row is written once, when the attempt ends; while it runs, it is read from
 * its job's row (see RECORD_ATTEMPT and LIST_ATTEMPTS in jobs/statements.ts). The rows earlier
 * versions wrote at each claim for attempts still running go: their jobs' rows say the same.
 * Nodes of an earlier version refuse the schema from here on, so none of them writes such a row
 * again, or misses one.
 */
export const sql = `
DELETE FROM attempts WHERE outcome = 'running';
`;
