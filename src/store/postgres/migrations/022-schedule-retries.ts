/**
 * 022: a schedule's own retry settings for the jobs it fires, from the config file:
 * `max_attempts`, and `backoff` as the config gave it (JSON: a list of delays or a backoff
 * object, validated when the config was read). Null for schedules from before and for those
 * that set none: the task's defaults apply.
 */
export const sql = `
ALTER TABLE schedules ADD COLUMN max_attempts INTEGER;
ALTER TABLE schedules ADD COLUMN backoff TEXT;
`;
