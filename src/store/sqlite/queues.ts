/**
 * Queue flags (paused) and their versions in the SQLite store. A queue has a row only once
 * someone paused or resumed it; until then its version is 0. Writes run in `BEGIN IMMEDIATE`,
 * so the version read here cannot change before the write.
 */
import type { SqliteConnection } from "./connection.js";

/** ?1 name. */
const QUEUE_VERSION = "SELECT version FROM queues WHERE name = ?1";

/** ?1 name, ?2 paused (0/1), ?3 now. Every write bumps the version. */
const SET_QUEUE_PAUSED = `
INSERT INTO queues (name, paused, updated_at, version) VALUES (?1, ?2, ?3, 1)
ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at,
  version = queues.version + 1`;

const LIST_QUEUE_FLAGS = "SELECT name, paused, version FROM queues";

export function queueVersion(conn: SqliteConnection, name: string): number {
  return (conn.stmt(QUEUE_VERSION).get(name) as { version: number } | undefined)?.version ?? 0;
}

export function writeQueuePaused(conn: SqliteConnection, name: string, paused: boolean, now: number): void {
  conn.stmt(SET_QUEUE_PAUSED).run(name, paused ? 1 : 0, now);
}

export function listQueueFlags(conn: SqliteConnection): Array<{ name: string; paused: number; version: number }> {
  return conn.stmt(LIST_QUEUE_FLAGS).all() as Array<{ name: string; paused: number; version: number }>;
}
