/**
 * Queue flags (paused) and their versions, written once for both backends (see ../tx.ts). A
 * queue has a row only once someone paused or resumed it; until then its version is 0. The
 * version is read with the row locked (PostgreSQL; SQLite's one writer holds every row), and the
 * upsert checks it again, so two nodes racing to create the same row cannot both pass a check
 * against version 0. Resuming wakes workers: the queue's jobs are ready again.
 */
import { OverseerError } from "../../core/errors.js";
import type { JobState, QueueRecord } from "../../core/types.js";
import { emptyCounts } from "../jobs/rows.js";
import type { Db, Op, Tx } from "../tx.js";
import { checkVersion } from "../versions.js";
import * as q from "./statements.js";

export function* setQueuePaused(tx: Tx, name: string, paused: boolean, expectedVersion: number | undefined): Op<void> {
  const read = yield* tx.one<{ version: number }>(q.LOCK_QUEUE_VERSION, [name]);
  checkVersion("queue", name, read?.version ?? 0, expectedVersion);
  const written = yield* tx.one(q.SET_QUEUE_PAUSED, [name, paused ? 1 : 0, tx.at, expectedVersion ?? null]);
  if (written === undefined) {
    throw new OverseerError(
      "VERSION_CONFLICT",
      `queue ${name} changed since version ${expectedVersion}; read it again`,
      {
        name,
        expectedVersion,
      },
    );
  }
  tx.event(paused ? "queue.paused" : "queue.resumed", null, null, { queue: name });
  if (!paused) tx.notify();
}

/** The queue just paused or resumed, as `listQueues` shows it. */
export function* queueAfterWrite(db: Db, name: string, paused: boolean): Op<QueueRecord> {
  const queue = (yield* listQueues(db)).find((queue) => queue.name === name);
  return queue ?? { name, paused, counts: emptyCounts(), version: 1 };
}

/** Every queue that has jobs or a flag, by name. */
export function* listQueues(db: Db): Op<QueueRecord[]> {
  const queues = new Map<string, QueueRecord>();
  const get = (name: string) => {
    let queue = queues.get(name);
    if (!queue) {
      queue = { name, paused: false, counts: emptyCounts(), version: 0 };
      queues.set(name, queue);
    }
    return queue;
  };
  for (const r of yield* db.rows<{ name: string; paused: number; version: number }>(q.LIST_QUEUE_FLAGS)) {
    const queue = get(r.name);
    queue.paused = r.paused === 1;
    queue.version = r.version;
  }
  for (const r of yield* db.rows<{ queue: string; state: JobState; n: number }>(q.COUNT_BY_QUEUE_STATE)) {
    get(r.queue).counts[r.state] = r.n;
  }
  return [...queues.values()].sort((a, b) => a.name.localeCompare(b.name));
}
