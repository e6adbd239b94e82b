/**
 * 033: worker control and counts. `command` is what an operator asked a worker to do (`quiet` or
 * `stop`; null when nothing, or after a resume) and `command_at` when; the worker reads it with
 * each heartbeat. `processed` and `failed` are the attempts it ran to an outcome, written by its
 * heartbeats. Its running jobs need no column: they are the running jobs it holds leases on.
 */
export const sql = `
ALTER TABLE workers ADD COLUMN IF NOT EXISTS command TEXT;
ALTER TABLE workers ADD COLUMN IF NOT EXISTS command_at BIGINT;
ALTER TABLE workers ADD COLUMN IF NOT EXISTS processed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN IF NOT EXISTS failed BIGINT NOT NULL DEFAULT 0;
`;
