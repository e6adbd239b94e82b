/** The SQL of the schedules area (see operations.ts), parameters listed. */
import { FOR_UPDATE, sql } from "../tx.js";

/** No parameters: every schedule, by name. */
export const LIST_SCHEDULES = "SELECT * FROM schedules ORDER BY name";

/** $1 name, locked for the change that follows. */
export const LOCK_SCHEDULE = sql`SELECT * FROM schedules WHERE name = $1 ${FOR_UPDATE}`;

/**
 * $1 name, $2 cron, $3 timezone, $4 task, $5 payload, $6 queue, $7 priority, $8 catch_up,
 * $9 max_attempts, $10 backoff, $11 enabled (also the config's value), $12 now (active since,
 * created, updated).
 */
export const INSERT_SCHEDULE = `
INSERT INTO schedules (name, cron, timezone, task, payload, queue, priority, catch_up, max_attempts, backoff,
  enabled, config_enabled, active_since, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $12, $12)`;

/**
 * A changed or returning definition. $1 name, $2 cron, $3 timezone, $4 task, $5 payload,
 * $6 queue, $7 priority, $8 catch_up, $9 max_attempts, $10 backoff, $11 enabled,
 * $12 config_enabled, $13 active_since, $14 now.
 */
export const UPDATE_SCHEDULE = `
UPDATE schedules SET cron = $2, timezone = $3, task = $4, payload = $5, queue = $6, priority = $7,
  catch_up = $8, max_attempts = $9, backoff = $10, enabled = $11, config_enabled = $12, removed_at = NULL,
  active_since = $13, updated_at = $14
WHERE name = $1`;

/** $1 now, $2 name. */
export const MARK_SCHEDULE_REMOVED = "UPDATE schedules SET removed_at = $1, updated_at = $1 WHERE name = $2";

/** $1 enabled, $2 active_since, $3 now, $4 name. */
export const SET_SCHEDULE_ENABLED = `
UPDATE schedules SET enabled = $1, active_since = $2, updated_at = $3 WHERE name = $4`;

/** $1 schedule, $2 tick, $3 job id, $4 now. Changes nothing (0 rows) if the tick already fired. */
export const INSERT_SCHEDULE_TICK = `
INSERT INTO schedule_ticks (schedule, tick, job_id, fired_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (schedule, tick) DO NOTHING`;

/** $1 tick, $2 name: record the last tick fired, never moving it back. */
export const RECORD_SCHEDULE_TICK = `
UPDATE schedules SET last_tick_at = $1 WHERE name = $2 AND (last_tick_at IS NULL OR last_tick_at < $1)`;

/** $1 schedule, $2 cutoff: tick rows older than the cutoff are no longer needed. */
export const PRUNE_SCHEDULE_TICKS = "DELETE FROM schedule_ticks WHERE schedule = $1 AND tick < $2";

/**
 * $1 schedule, $2 limit: its latest fired ticks (kept TICK_RETENTION_MS) with each tick's job,
 * newest first, along the primary key (schedule, tick); a job discarded since has a null state.
 */
export const RECENT_TICKS = `
SELECT t.tick, t.job_id, j.state FROM schedule_ticks t LEFT JOIN jobs j ON j.id = t.job_id
WHERE t.schedule = $1 ORDER BY t.tick DESC LIMIT $2`;
