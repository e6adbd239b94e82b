/**
 * Queue flags (paused) and their versions in the PostgreSQL store. A queue has a row only once
 * someone paused or resumed it; until then its version is 0. The version is read with the row
 * locked, and the upsert re-checks it, so two nodes racing to create the same row cannot both
 * pass a check against version 0.
 */
import { OverseerError } from "../../core/errors.js";
import type { PgConnection, Tx } from "./connection.js";

/** $1 name. */
const QUEUE_VERSION_FOR_UPDATE = "SELECT version FROM queues WHERE name = $1 FOR UPDATE";

/** $1 name, $2 paused (0/1), $3 now, $4 expected version or NULL. Returns nothing when the version moved. */
const SET_QUEUE_PAUSED = `
INSERT INTO queues (name, paused, updated_at, version) VALUES ($1, $2, $3, 1)
ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at,
  version = queues.version + 1
WHERE $4::integer IS NULL OR queues.version = $4::integer
RETURNING version`;

const LIST_QUEUE_FLAGS = "SELECT name, paused, version FROM queues";

export async function queueVersion(tx: Tx, name: string): Promise<number> {
  return (await tx.one<{ version: number }>(QUEUE_VERSION_FOR_UPDATE, [name]))?.version ?? 0;
}

export async function writeQueuePaused(
  tx: Tx,
  name: string,
  paused: boolean,
  expectedVersion: number | undefined,
): Promise<void> {
  const row = await tx.one<{ version: number }>(SET_QUEUE_PAUSED, [
    name,
    paused ? 1 : 0,
    tx.now,
    expectedVersion ?? null,
  ]);
  if (!row) {
    throw new OverseerError(
      "VERSION_CONFLICT",
      `queue ${name} changed since version ${expectedVersion}; read it again`,
      {
        name,
        expectedVersion,
      },
    );
  }
}

export function listQueueFlags(conn: PgConnection): Promise<Array<{ name: string; paused: number; version: number }>> {
  return conn.rows(LIST_QUEUE_FLAGS);
}
