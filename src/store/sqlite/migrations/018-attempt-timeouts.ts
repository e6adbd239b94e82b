/**
 * 018: a job's own attempt timeout (`timeout_ms`, from the enqueue's `timeout`): past it, the
 * worker aborts the attempt and records it as failed with ATTEMPT_TIMEOUT. Null for jobs from
 * before and for enqueues that gave none: the task's default applies, if it has one.
 */
export const sql = `
ALTER TABLE jobs ADD COLUMN timeout_ms INTEGER;
`;
