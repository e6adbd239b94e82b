/**
 * On-call overrides, written once for both backends. Rotations themselves live in the config
 * (core/oncall.ts); what changes at run time is who stands in for whom, so that is stored, with
 * who set it and why, and kept when cancelled: the history is the table. Each change appends
 * an event (`oncall.override_created`, `oncall.override_cancelled`) to the log.
 */
import { OverseerError } from "../../core/errors.js";
import { MAX_OVERRIDE_MS, type NewOncallOverride, type OncallOverride } from "../../core/oncall.js";
import { iso } from "../rows.js";
import type { Db, Op, Tx } from "../tx.js";
import { FOR_UPDATE, inList, sql } from "../tx.js";

interface OverrideRow {
  id: number | string;
  rotation: string;
  person: string;
  starts_at: number | string;
  ends_at: number | string;
  reason: string | null;
  created_by: string;
  created_at: number | string;
  cancelled_by: string | null;
  cancelled_at: number | string | null;
}

/** $1 rotation, $2 person, $3 starts at, $4 ends at, $5 reason, $6 by, $7 now. */
const INSERT = `
INSERT INTO oncall_overrides (rotation, person, starts_at, ends_at, reason, created_by, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`;

/** $1 id. */
const LOCK_ONE = sql`SELECT * FROM oncall_overrides WHERE id = $1 ${FOR_UPDATE}`;

/** $1 by, $2 now, $3 id. */
const CANCEL = "UPDATE oncall_overrides SET cancelled_by = $1, cancelled_at = $2 WHERE id = $3 RETURNING *";

/** $1 rotations (a `Db.list`), $2 at: the overrides in force at $2 or later, not cancelled. */
const CURRENT = sql`
SELECT * FROM oncall_overrides
WHERE ${inList("rotation", "$1")} AND ends_at > $2 AND cancelled_at IS NULL
ORDER BY starts_at, id`;

/** $1 rotation or NULL, $2 before id or NULL, $3 limit: the history, newest first. */
const HISTORY = `
SELECT * FROM oncall_overrides
WHERE (CAST($1 AS TEXT) IS NULL OR rotation = $1) AND (CAST($2 AS BIGINT) IS NULL OR id < $2)
ORDER BY id DESC LIMIT $3`;

function toOverride(row: OverrideRow): OncallOverride {
  return {
    id: Number(row.id),
    rotation: row.rotation,
    person: row.person,
    startsAt: iso(Number(row.starts_at)),
    endsAt: iso(Number(row.ends_at)),
    reason: row.reason,
    createdBy: row.created_by,
    createdAt: iso(Number(row.created_at)),
    cancelledBy: row.cancelled_by,
    cancelledAt: row.cancelled_at === null ? null : iso(Number(row.cancelled_at)),
  };
}

/** Stores an override; it must end after now and after it starts, within a year. */
export function* createOverride(tx: Tx, input: NewOncallOverride): Op<OncallOverride> {
  if (!(input.endsAt > input.startsAt)) {
    throw new OverseerError("INVALID_ARGUMENT", "an override must end after it starts", { field: "until" });
  }
  if (input.endsAt <= tx.at) {
    throw new OverseerError("INVALID_ARGUMENT", "an override must end in the future", { field: "until" });
  }
  if (input.endsAt - input.startsAt > MAX_OVERRIDE_MS) {
    throw new OverseerError("INVALID_ARGUMENT", "an override may last at most 366 days", { field: "until" });
  }
  const row = (yield* tx.one<OverrideRow>(INSERT, [
    input.rotation,
    input.person,
    input.startsAt,
    input.endsAt,
    input.reason,
    input.by,
    tx.at,
  ])) as OverrideRow;
  const created = toOverride(row);
  tx.event("oncall.override_created", null, null, { ...created });
  return created;
}

/**
 * Cancels an override that has not ended: it stays in the history, and puts nobody on call from
 * now. OVERRIDE_NOT_FOUND for an unknown id; OVERRIDE_ENDED when it has ended or was cancelled.
 */
export function* cancelOverride(tx: Tx, id: number, by: string): Op<OncallOverride> {
  const row = yield* tx.one<OverrideRow>(LOCK_ONE, [id]);
  if (!row) throw new OverseerError("OVERRIDE_NOT_FOUND", `no on-call override with id ${id}`, { id });
  const found = toOverride(row);
  if (found.cancelledAt !== null || Number(row.ends_at) <= tx.at) {
    throw new OverseerError(
      "OVERRIDE_ENDED",
      found.cancelledAt !== null
        ? `on-call override ${id} was cancelled already, by ${found.cancelledBy} at ${found.cancelledAt}`
        : `on-call override ${id} ended at ${found.endsAt}`,
      { id, cancelledAt: found.cancelledAt, endsAt: found.endsAt },
    );
  }
  const cancelled = toOverride((yield* tx.one<OverrideRow>(CANCEL, [by, tx.at, id])) as OverrideRow);
  tx.event("oncall.override_cancelled", null, null, { ...cancelled });
  return cancelled;
}

/** The overrides of `rotations` in force at `atMs` or later (not cancelled), soonest first. */
export function* currentOverrides(db: Db, rotations: readonly string[], atMs: number): Op<OncallOverride[]> {
  if (rotations.length === 0) return [];
  return (yield* db.rows<OverrideRow>(CURRENT, [db.list(rotations), atMs])).map(toOverride);
}

/** Every override (cancelled and ended ones too), newest first, one page at a time. */
export function* listOverrides(
  db: Db,
  filter: { rotation?: string; beforeId?: number; limit: number },
): Op<OncallOverride[]> {
  const params = [filter.rotation ?? null, filter.beforeId ?? null, filter.limit];
  return (yield* db.rows<OverrideRow>(HISTORY, params)).map(toOverride);
}
