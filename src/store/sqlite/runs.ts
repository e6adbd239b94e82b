/**
 * Runs in the SQLite store: each verb is one write transaction (SQLite has one writer at a time,
 * so the row read at its start is the row it writes), decided by the shared functions of
 * `run-rows.ts` and written back guarded by the version read. A run's lease is only ever
 * extended, used or given up by its holder (owner + fencing token).
 */
import { runNotFound } from "../../core/errors.js";
import type {
  ClaimedRun,
  NewRun,
  Run,
  RunControlRequest,
  RunFilter,
  RunLease,
  RunTurn,
  RunUpdate,
} from "../../core/run.js";
import type { RunState, RunTransitionName } from "../../core/run-state.js";
import {
  checkOutputOffset,
  claimWrite,
  controlWrite,
  emptyRunCounts,
  holds,
  leaseOf,
  NEW_RUN_COLUMNS,
  newRunParams,
  older,
  type RunChanges,
  type RunEvent,
  type RunRow,
  type RunTurnRow,
  releaseWrite,
  runChangeParams,
  runPageSize,
  STARTED_RUN_STATES,
  sliceOutput,
  toRun,
  toRunTurn,
  updateWrite,
} from "../run-rows.js";
import { checkVersion } from "../versions.js";
import type { SqliteConnection } from "./connection.js";

const STARTED = `state IN (${STARTED_RUN_STATES.map((s) => `'${s}'`).join(",")})`;

/** ?1-?10: a new run's values, in NEW_RUN_COLUMNS order. */
const INSERT_RUN = `
INSERT INTO runs (${NEW_RUN_COLUMNS.join(", ")})
VALUES (${NEW_RUN_COLUMNS.map((_, i) => `?${i + 1}`).join(", ")})
RETURNING *`;

/** ?1 run id. */
const GET_RUN = "SELECT * FROM runs WHERE id = ?1";

/**
 * ?1-?11 the changed columns in RUN_CHANGE_COLUMNS order, ?12 now, ?13 run id, ?14 the version
 * read: no row when the run moved on since (which one writer at a time rules out).
 */
const UPDATE_RUN = `
UPDATE runs SET state = ?1, pid = ?2, current_turn = ?3, stats = ?4, completion = ?5, error = ?6,
  lease_owner = ?7, lease_token = ?8, lease_expires_at = ?9, started_at = ?10, finished_at = ?11,
  updated_at = ?12, version = version + 1
WHERE id = ?13 AND version = ?14
RETURNING *`;

/** The oldest queued run. */
const NEXT_QUEUED = `
SELECT * FROM runs INDEXED BY runs_queued WHERE state = 'queued' ORDER BY created_at, id LIMIT 1`;

/**
 * ?1 now: the oldest started, unfinished run whose lease expired, or that was released and is
 * not paused (a released paused run waits for a resume or a cancel, which make it claimable).
 */
const NEXT_ORPHANED = `
SELECT * FROM runs INDEXED BY runs_leases
WHERE ${STARTED} AND ((lease_owner IS NULL AND state <> 'paused') OR lease_expires_at < ?1)
ORDER BY created_at, id LIMIT 1`;

/** ?1 new expiry, ?2 run id, ?3 worker id, ?4 token. Lease extensions are not changes a person sees: no version bump. */
const EXTEND_LEASE = `
UPDATE runs SET lease_expires_at = ?1
WHERE id = ?2 AND lease_owner = ?3 AND lease_token = ?4 AND ${STARTED}
RETURNING *`;

/** ?1 run id, ?2 turn, ?3 now: the turn still `running` under a vanished supervisor. */
const LOSE_TURN = `
UPDATE run_turns SET outcome = 'lost', finished_at = ?3 WHERE run_id = ?1 AND turn = ?2 AND outcome = 'running'
RETURNING *`;

/** ?1 run id, ?2 turn, ?3 pid, ?4 host, ?5 worker id, ?6 now. */
const INSERT_TURN = `
INSERT INTO run_turns (run_id, turn, outcome, pid, host, worker_id, output_bytes, started_at)
VALUES (?1, ?2, 'running', ?3, ?4, ?5, 0, ?6)`;

/** ?1 run id, ?2 turn, ?3 outcome, ?4 exit code, ?5 signal, ?6 now. */
const FINISH_TURN = `
UPDATE run_turns SET outcome = ?3, exit_code = ?4, signal = ?5, finished_at = ?6 WHERE run_id = ?1 AND turn = ?2`;

/** ?1 run id, ?2 turn. */
const GET_TURN = "SELECT * FROM run_turns WHERE run_id = ?1 AND turn = ?2";

/** ?1 run id. */
const LIST_TURNS = "SELECT * FROM run_turns WHERE run_id = ?1 ORDER BY turn";

/** ?1 run id, ?2 turn, ?3 offset, ?4 bytes. */
const INSERT_OUTPUT = `INSERT INTO run_output (run_id, turn, "offset", data) VALUES (?1, ?2, ?3, ?4)`;

/** ?1 run id, ?2 turn, ?3 bytes appended. */
const ADD_OUTPUT_BYTES = "UPDATE run_turns SET output_bytes = output_bytes + ?3 WHERE run_id = ?1 AND turn = ?2";

/**
 * ?1 run id, ?2 turn, ?3 start, ?4 end: the chunks overlapping [start, end), found through the
 * primary key from the last chunk starting at or before `start`.
 */
const READ_OUTPUT = `
SELECT "offset" AS "offset", data FROM run_output
WHERE run_id = ?1 AND turn = ?2 AND "offset" < ?4
  AND "offset" >= coalesce((SELECT max("offset") FROM run_output WHERE run_id = ?1 AND turn = ?2 AND "offset" <= ?3), 0)
ORDER BY "offset"`;

const COUNT_RUNS = "SELECT state, count(*) AS n FROM runs GROUP BY state";

export function createRun(conn: SqliteConnection, run: NewRun): Run {
  return conn.write(() => {
    const now = conn.clock();
    const row = conn.stmt(INSERT_RUN).get(...newRunParams(run, now)) as RunRow;
    conn.event(now, "run.queued", null, null, { profile: run.profile }, run.id);
    return toRun(row);
  });
}

export function getRun(conn: SqliteConnection, id: string): Run | null {
  const row = conn.stmt(GET_RUN).get(id) as RunRow | undefined;
  return row ? toRun(row) : null;
}

export function listRuns(conn: SqliteConnection, filter: RunFilter): Run[] {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.states && filter.states.length > 0) {
    where.push(`state IN (${filter.states.map(() => "?").join(",")})`);
    params.push(...filter.states);
  }
  if (filter.profile !== undefined) {
    where.push("profile = ?");
    params.push(filter.profile);
  }
  if (filter.beforeId !== undefined) {
    where.push("id < ?");
    params.push(filter.beforeId);
  }
  params.push(runPageSize(filter.limit));
  const text = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
  return (conn.stmt(text).all(...params) as RunRow[]).map(toRun);
}

export function countRuns(conn: SqliteConnection): Record<RunState, number> {
  const counts = emptyRunCounts();
  for (const r of conn.stmt(COUNT_RUNS).all() as Array<{ state: RunState; n: number }>) counts[r.state] = r.n;
  return counts;
}

export function controlRun(
  conn: SqliteConnection,
  id: string,
  request: RunControlRequest,
): { run: Run; transition: RunTransitionName } {
  return conn.write(() => {
    const now = conn.clock();
    const row = conn.stmt(GET_RUN).get(id) as RunRow | undefined;
    if (!row) throw runNotFound(id);
    checkVersion("run", id, row.version, request.expectedVersion);
    const { changes, events, transition } = controlWrite(row, request, now);
    return { run: write(conn, row, changes, events, now), transition };
  });
}

export function claimRun(conn: SqliteConnection, workerId: string, leaseMs: number): ClaimedRun | null {
  // A read first: supervisors look often, and most looks find nothing; only a find takes the write lock.
  const nothing =
    conn.stmt(NEXT_QUEUED).get() === undefined && conn.stmt(NEXT_ORPHANED).get(conn.clock()) === undefined;
  if (nothing) return null;
  return conn.write(() => {
    const now = conn.clock();
    const queued = conn.stmt(NEXT_QUEUED).get() as RunRow | undefined;
    const orphaned = conn.stmt(NEXT_ORPHANED).get(now) as RunRow | undefined;
    const row = older(queued, orphaned);
    if (!row) return null;
    const lost =
      row.state === "queued"
        ? undefined
        : (conn.stmt(LOSE_TURN).get(row.id, row.current_turn, now) as RunTurnRow | undefined);
    const claim = claimWrite(row, workerId, leaseMs, now, lost ? lost.turn : null);
    const run = write(conn, row, claim.changes, claim.events, now);
    return {
      run,
      lease: leaseOf(run.id, claim.changes),
      takeover: claim.takeover ? { previousWorkerId: row.lease_owner, lostTurn: lost ? toRunTurn(lost) : null } : null,
    };
  });
}

export function heartbeatRun(conn: SqliteConnection, lease: RunLease, leaseMs: number): Run | null {
  return conn.write(() => {
    const now = conn.clock();
    const row = conn.stmt(EXTEND_LEASE).get(now + leaseMs, lease.runId, lease.workerId, lease.token) as
      | RunRow
      | undefined;
    return row ? toRun(row) : null;
  });
}

export function updateRun(conn: SqliteConnection, lease: RunLease, update: RunUpdate): Run | null {
  return conn.write(() => {
    const now = conn.clock();
    const row = conn.stmt(GET_RUN).get(lease.runId) as RunRow | undefined;
    if (!row || !holds(row, lease)) return null;
    // Decided before anything is written; a throw below rolls the whole update back anyway.
    const { changes, events } = updateWrite(row, lease, update, now);
    if (update.turnStarted) {
      const t = update.turnStarted;
      conn.stmt(INSERT_TURN).run(row.id, t.turn, t.pid, t.host, lease.workerId, now);
    }
    if (update.output) appendOutput(conn, row.id, update.output);
    if (update.turnFinished) {
      const t = update.turnFinished;
      conn.stmt(FINISH_TURN).run(row.id, t.turn, t.outcome, t.exitCode, t.signal, now);
    }
    return write(conn, row, changes, events, now);
  });
}

/** Whether the lease was held (and is now given up). */
export function releaseRun(conn: SqliteConnection, lease: RunLease): boolean {
  return conn.write(() => {
    const now = conn.clock();
    const row = conn.stmt(GET_RUN).get(lease.runId) as RunRow | undefined;
    if (!row || !holds(row, lease)) return false;
    const { changes, events } = releaseWrite(row, lease);
    write(conn, row, changes, events, now);
    return true;
  });
}

export function listRunTurns(conn: SqliteConnection, runId: string): RunTurn[] {
  return (conn.stmt(LIST_TURNS).all(runId) as RunTurnRow[]).map(toRunTurn);
}

export function readRunOutput(
  conn: SqliteConnection,
  runId: string,
  turn: number,
  start: number,
  end: number | undefined,
): { data: Buffer; size: number } | null {
  const row = conn.stmt(GET_TURN).get(runId, turn) as RunTurnRow | undefined;
  if (!row) return null;
  const size = row.output_bytes;
  const to = Math.min(size, end ?? size);
  if (start >= to) return { data: Buffer.alloc(0), size };
  const chunks = conn.stmt(READ_OUTPUT).all(runId, turn, start, to) as Array<{ offset: number; data: Buffer }>;
  return { data: sliceOutput(chunks, size, start, to), size };
}

/** Writes the run's changed row and appends its events, with the run's id. */
function write(
  conn: SqliteConnection,
  row: RunRow,
  changes: RunChanges,
  events: readonly RunEvent[],
  now: number,
): Run {
  const updated = conn.stmt(UPDATE_RUN).get(...runChangeParams(changes), now, row.id, row.version) as
    | RunRow
    | undefined;
  if (!updated) throw new Error(`run ${row.id} changed under its write transaction`);
  for (const e of events) conn.event(now, e.kind, null, e.workerId, e.data, row.id);
  return toRun(updated);
}

function appendOutput(conn: SqliteConnection, runId: string, output: NonNullable<RunUpdate["output"]>): void {
  const turn = conn.stmt(GET_TURN).get(runId, output.turn) as RunTurnRow | undefined;
  checkOutputOffset(runId, output.turn, turn?.output_bytes, output.offset);
  if (output.data.length === 0) return;
  conn.stmt(INSERT_OUTPUT).run(runId, output.turn, output.offset, output.data);
  conn.stmt(ADD_OUTPUT_BYTES).run(runId, output.turn, output.data.length);
}
