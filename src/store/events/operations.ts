/**
 * Reads of the event log, and the cursors its long-lived readers (the event mirror) save, written
 * once for both backends (see ../tx.ts). Events are appended by the transactions they describe
 * (`Tx.event`), in commit order, so a reader that pages by sequence number misses none.
 */
import type { OverseerEvent } from "../../core/types.js";
import { type EventRow, toEvent } from "../rows.js";
import type { EventQuery } from "../store.js";
import type { Db, Op, Tx } from "../tx.js";
import * as q from "./statements.js";

export function* readEvents(db: Db, query: EventQuery): Op<OverseerEvent[]> {
  const after = query.afterSeq ?? 0;
  const limit = query.limit ?? 1_000;
  const rows =
    query.runId !== undefined
      ? yield* db.rows<EventRow>(q.READ_RUN_EVENTS, [query.runId, after, limit, query.jobId ?? null])
      : query.jobId !== undefined
        ? query.kindPrefix !== undefined
          ? yield* db.rows<EventRow>(q.READ_JOB_EVENTS_OF_KIND, [query.jobId, after, limit, query.kindPrefix])
          : yield* db.rows<EventRow>(q.READ_JOB_EVENTS, [query.jobId, after, limit])
        : yield* db.rows<EventRow>(q.READ_EVENTS, [after, limit]);
  return rows.map(toEvent);
}

export function* lastEventSeq(db: Db): Op<number> {
  return (yield* db.one<{ seq: number }>(q.LAST_EVENT_SEQ))?.seq ?? 0;
}

export function* getCursor(db: Db, name: string): Op<number | null> {
  return (yield* db.one<{ seq: number }>(q.GET_CURSOR, [name]))?.seq ?? null;
}

export function* saveCursor(tx: Tx, name: string, seq: number): Op<void> {
  yield* tx.run(q.SAVE_CURSOR, [name, seq, tx.at]);
}
