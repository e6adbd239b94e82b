/**
 * Runs in the PostgreSQL store, as in SQLite's runs.ts: each verb is one transaction that reads
 * the run's row locked (FOR UPDATE), decides with the shared functions of `run-rows.ts` and writes
 * the row back guarded by the version read. Claims lock with SKIP LOCKED, so supervisors on any
 * number of nodes never wait for each other nor take the same run. A run's lease is only ever
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
import type { PgConnection, Tx } from "./connection.js";

const STARTED = `state IN (${STARTED_RUN_STATES.map((s) => `'${s}'`).join(",")})`;

/** $1-$10: a new run's values, in NEW_RUN_COLUMNS order. */
const INSERT_RUN = `
INSERT INTO runs (${NEW_RUN_COLUMNS.join(", ")})
VALUES (${NEW_RUN_COLUMNS.map((_, i) => `$${i + 1}`).join(", ")})
RETURNING *`;

/** $1 run id. */
const GET_RUN = "SELECT * FROM runs WHERE id = $1";

/** $1 run id: locked until commit, so the decision and the write see the same row. */
const GET_RUN_FOR_UPDATE = "SELECT * FROM runs WHERE id = $1 FOR UPDATE";

/** $1-$11 the changed columns in RUN_CHANGE_COLUMNS order, $12 now, $13 run id, $14 the version read. */
const UPDATE_RUN = `
UPDATE runs SET state = $1, pid = $2, current_turn = $3, stats = $4, completion = $5, error = $6,
  lease_owner = $7, lease_token = $8, lease_expires_at = $9, started_at = $10, finished_at = $11,
  updated_at = $12, version = version + 1
WHERE id = $13 AND version = $14
RETURNING *`;

/**
 * $1 now: the oldest run to claim, locked, skipping runs other claimers hold: a queued run, or
 * a started, unfinished run whose lease expired, or that was released and is not paused (a
 * released paused run waits for a resume or a cancel, which make it claimable).
 */
const NEXT_CLAIMABLE = `
SELECT * FROM runs
WHERE state = 'queued'
   OR (${STARTED} AND ((lease_owner IS NULL AND state <> 'paused') OR lease_expires_at < $1))
ORDER BY created_at, id
LIMIT 1
FOR UPDATE SKIP LOCKED`;

/** $1 new expiry, $2 run id, $3 worker id, $4 token. Lease extensions are not changes a person sees: no version bump. */
const EXTEND_LEASE = `
UPDATE runs SET lease_expires_at = $1
WHERE id = $2 AND lease_owner = $3 AND lease_token = $4 AND ${STARTED}
RETURNING *`;

/** $1 run id, $2 turn, $3 now: the turn still `running` under a vanished supervisor. */
const LOSE_TURN = `
UPDATE run_turns SET outcome = 'lost', finished_at = $3 WHERE run_id = $1 AND turn = $2 AND outcome = 'running'
RETURNING *`;

/** $1 run id, $2 turn, $3 pid, $4 host, $5 worker id, $6 now. */
const INSERT_TURN = `
INSERT INTO run_turns (run_id, turn, outcome, pid, host, worker_id, output_bytes, started_at)
VALUES ($1, $2, 'running', $3, $4, $5, 0, $6)`;

/** $1 run id, $2 turn, $3 outcome, $4 exit code, $5 signal, $6 now. */
const FINISH_TURN = `
UPDATE run_turns SET outcome = $3, exit_code = $4, signal = $5, finished_at = $6 WHERE run_id = $1 AND turn = $2`;

/** $1 run id, $2 turn. */
const GET_TURN = "SELECT * FROM run_turns WHERE run_id = $1 AND turn = $2";

/** $1 run id. */
const LIST_TURNS = "SELECT * FROM run_turns WHERE run_id = $1 ORDER BY turn";

/** $1 run id, $2 turn, $3 offset, $4 bytes. */
const INSERT_OUTPUT = `INSERT INTO run_output (run_id, turn, "offset", data) VALUES ($1, $2, $3, $4)`;

/** $1 run id, $2 turn, $3 bytes appended. */
const ADD_OUTPUT_BYTES = "UPDATE run_turns SET output_bytes = output_bytes + $3 WHERE run_id = $1 AND turn = $2";

/**
 * $1 run id, $2 turn, $3 start, $4 end: the chunks overlapping [start, end), found through the
 * primary key from the last chunk starting at or before `start`.
 */
const READ_OUTPUT = `
SELECT "offset", data FROM run_output
WHERE run_id = $1 AND turn = $2 AND "offset" < $4
  AND "offset" >= coalesce(
    (SELECT max("offset") FROM run_output WHERE run_id = $1 AND turn = $2 AND "offset" <= $3), 0)
ORDER BY "offset"`;

const COUNT_RUNS = "SELECT state, count(*)::int AS n FROM runs GROUP BY state";

export async function createRun(tx: Tx, run: NewRun): Promise<Run> {
  const row = await tx.one<RunRow>(INSERT_RUN, newRunParams(run, tx.now));
  if (!row) throw new Error("the insert returned no row");
  tx.event("run.queued", null, null, { profile: run.profile }, run.id);
  return toRun(row);
}

export async function getRun(conn: PgConnection, id: string): Promise<Run | null> {
  const row = await conn.one<RunRow>(GET_RUN, [id]);
  return row ? toRun(row) : null;
}

export async function listRuns(conn: PgConnection, filter: RunFilter): Promise<Run[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.states && filter.states.length > 0) where.push(`state = ANY(${param(filter.states)}::text[])`);
  if (filter.profile !== undefined) where.push(`profile = ${param(filter.profile)}`);
  if (filter.beforeId !== undefined) where.push(`id < ${param(filter.beforeId)}`);
  const limit = param(runPageSize(filter.limit));
  const text = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ${limit}`;
  return (await conn.rows<RunRow>(text, params)).map(toRun);
}

export async function countRuns(conn: PgConnection): Promise<Record<RunState, number>> {
  const counts = emptyRunCounts();
  for (const r of await conn.rows<{ state: RunState; n: number }>(COUNT_RUNS)) counts[r.state] = r.n;
  return counts;
}

export async function controlRun(
  tx: Tx,
  id: string,
  request: RunControlRequest,
): Promise<{ run: Run; transition: RunTransitionName }> {
  const row = await tx.one<RunRow>(GET_RUN_FOR_UPDATE, [id]);
  if (!row) throw runNotFound(id);
  checkVersion("run", id, row.version, request.expectedVersion);
  const { changes, events, transition } = controlWrite(row, request, tx.now);
  return { run: await write(tx, row, changes, events), transition };
}

export async function claimRun(tx: Tx, workerId: string, leaseMs: number): Promise<ClaimedRun | null> {
  const row = await tx.one<RunRow>(NEXT_CLAIMABLE, [tx.now]);
  if (!row) return null;
  const lost =
    row.state === "queued" ? undefined : await tx.one<RunTurnRow>(LOSE_TURN, [row.id, row.current_turn, tx.now]);
  const claim = claimWrite(row, workerId, leaseMs, tx.now, lost ? lost.turn : null);
  const run = await write(tx, row, claim.changes, claim.events);
  return {
    run,
    lease: leaseOf(run.id, claim.changes),
    takeover: claim.takeover ? { previousWorkerId: row.lease_owner, lostTurn: lost ? toRunTurn(lost) : null } : null,
  };
}

export async function heartbeatRun(tx: Tx, lease: RunLease, leaseMs: number): Promise<Run | null> {
  const row = await tx.one<RunRow>(EXTEND_LEASE, [tx.now + leaseMs, lease.runId, lease.workerId, lease.token]);
  return row ? toRun(row) : null;
}

export async function updateRun(tx: Tx, lease: RunLease, update: RunUpdate): Promise<Run | null> {
  const row = await tx.one<RunRow>(GET_RUN_FOR_UPDATE, [lease.runId]);
  if (!row || !holds(row, lease)) return null;
  // Decided before anything is written; a throw below rolls the whole update back anyway.
  const { changes, events } = updateWrite(row, lease, update, tx.now);
  if (update.turnStarted) {
    const t = update.turnStarted;
    await tx.run(INSERT_TURN, [row.id, t.turn, t.pid, t.host, lease.workerId, tx.now]);
  }
  if (update.output) await appendOutput(tx, row.id, update.output);
  if (update.turnFinished) {
    const t = update.turnFinished;
    await tx.run(FINISH_TURN, [row.id, t.turn, t.outcome, t.exitCode, t.signal, tx.now]);
  }
  return write(tx, row, changes, events);
}

/** Whether the lease was held (and is now given up). */
export async function releaseRun(tx: Tx, lease: RunLease): Promise<boolean> {
  const row = await tx.one<RunRow>(GET_RUN_FOR_UPDATE, [lease.runId]);
  if (!row || !holds(row, lease)) return false;
  const { changes, events } = releaseWrite(row, lease);
  await write(tx, row, changes, events);
  return true;
}

export async function listRunTurns(conn: PgConnection, runId: string): Promise<RunTurn[]> {
  return (await conn.rows<RunTurnRow>(LIST_TURNS, [runId])).map(toRunTurn);
}

export async function readRunOutput(
  conn: PgConnection,
  runId: string,
  turn: number,
  start: number,
  end: number | undefined,
): Promise<{ data: Buffer; size: number } | null> {
  const row = await conn.one<RunTurnRow>(GET_TURN, [runId, turn]);
  if (!row) return null;
  const size = row.output_bytes;
  const to = Math.min(size, end ?? size);
  if (start >= to) return { data: Buffer.alloc(0), size };
  const chunks = await conn.rows<{ offset: number; data: Buffer }>(READ_OUTPUT, [runId, turn, start, to]);
  return { data: sliceOutput(chunks, size, start, to), size };
}

/** Writes the run's changed row and buffers its events, with the run's id. */
async function write(tx: Tx, row: RunRow, changes: RunChanges, events: readonly RunEvent[]): Promise<Run> {
  const updated = await tx.one<RunRow>(UPDATE_RUN, [...runChangeParams(changes), tx.now, row.id, row.version]);
  if (!updated) throw new Error(`run ${row.id} changed under its write transaction`);
  for (const e of events) tx.event(e.kind, null, e.workerId, e.data, row.id);
  return toRun(updated);
}

async function appendOutput(tx: Tx, runId: string, output: NonNullable<RunUpdate["output"]>): Promise<void> {
  const turn = await tx.one<RunTurnRow>(GET_TURN, [runId, output.turn]);
  checkOutputOffset(runId, output.turn, turn?.output_bytes, output.offset);
  if (output.data.length === 0) return;
  await tx.run(INSERT_OUTPUT, [runId, output.turn, output.offset, output.data]);
  await tx.run(ADD_OUTPUT_BYTES, [runId, output.turn, output.data.length]);
}
