/**
 * 033: worker control and counts. `command` is what an operator asked a worker to do (`quiet` or
 * `stop`; null when nothing, or after a resume) and `command_at` when; the worker reads it with
 * each heartbeat. `processed` and `failed` are the attempts it ran to an outcome, written by its
 * heartbeats. Its running jobs need no column: they are the running jobs it holds leases on.
 */
export const sql = (hasColumn: (table: string, column: string) => boolean): string =>
  [
    hasColumn("workers", "command") ? "" : "ALTER TABLE workers ADD COLUMN command TEXT;",
    hasColumn("workers", "command_at") ? "" : "ALTER TABLE workers ADD COLUMN command_at INTEGER;",
    hasColumn("workers", "processed") ? "" : "ALTER TABLE workers ADD COLUMN processed INTEGER NOT NULL DEFAULT 0;",
    hasColumn("workers", "failed") ? "" : "ALTER TABLE workers ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;",
  ].join("\n");
