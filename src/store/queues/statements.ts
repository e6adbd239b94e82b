/** The SQL of the queues area (see operations.ts), parameters listed. */
import { FOR_UPDATE, sql } from "../tx.js";

/** $1 name: the queue's version, its row locked until the write that follows. */
export const LOCK_QUEUE_VERSION = sql`SELECT version FROM queues WHERE name = $1 ${FOR_UPDATE}`;

/**
 * $1 name, $2 paused (0/1), $3 now, $4 expected version or NULL. Every write bumps the version;
 * returns nothing when the version moved (two nodes racing to create the row both read no row).
 */
export const SET_QUEUE_PAUSED = `
INSERT INTO queues (name, paused, updated_at, version) VALUES ($1, $2, $3, 1)
ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at,
  version = queues.version + 1
WHERE CAST($4 AS INTEGER) IS NULL OR queues.version = CAST($4 AS INTEGER)
RETURNING version`;

export const LIST_QUEUE_FLAGS = "SELECT name, paused, version FROM queues";

export const COUNT_BY_QUEUE_STATE = "SELECT queue, state, count(*) AS n FROM jobs GROUP BY queue, state";
