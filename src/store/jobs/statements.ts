/**
 * Job statements that both backends run, for the store areas written once (see ../tx.ts):
 * parameters listed as `$n`, dialect fragments (row locks, SQLite's index hints) where the two
 * differ. State guards are compiled from `core/job-state.ts`, so the state machine lives in one place.
 */
import { DISCARDABLE, TRANSITIONS, type TransitionName } from "../../core/job-state.js";
import { checkPayloadMatches, JSON_NUMBER, type PayloadMatch } from "../../core/payload-filter.js";
import { FINISHED_STATES, JOB_STATES, type JobState } from "../../core/types.js";
import type { JobFilter } from "../store.js";
import { type Dialect, FOR_UPDATE, indexedBy, type Sql, sql, sqlFor, unionAll } from "../tx.js";

/**
 * The guard for the states a transition may start from. A single state is written `state = 'x'`
 * so that both databases can prove the partial indexes (`WHERE state = 'x'`) apply.
 */
export function from(name: TransitionName): string {
  const states: readonly string[] = TRANSITIONS[name].from;
  return states.length === 1 ? `state = '${states[0]}'` : `state IN (${states.map((s) => `'${s}'`).join(",")})`;
}

/** The state a transition leads to, as an SQL literal. */
export function to(name: TransitionName): string {
  return `'${TRANSITIONS[name].to}'`;
}

/** $1 job id, $2 token: the job, locked, if this lease still runs it. */
export const LOCK_LEASED_JOB = sql`SELECT * FROM jobs WHERE id = $1 AND lease_token = $2 AND state = 'running' ${FOR_UPDATE}`;

/** $1 job id: the job's row, to lock it (first, before the rows that hang off it). */
export const JOB_ID = "SELECT id FROM jobs WHERE id = $1";

/**
 * $1 finished at, $2 outcome, $3 error JSON, $4 job id, $5 attempt number, $6 worker id. An
 * attempt's row is written once, when it ends; it started when its job last did. While it runs
 * it is read from the job's row (see LIST_ATTEMPTS), so a claim and a start write no attempt
 * rows (migration 017 removed those earlier versions wrote).
 */
export const RECORD_ATTEMPT = `
INSERT INTO attempts (job_id, number, worker_id, started_at, finished_at, outcome, error)
VALUES ($4, $5, $6, (SELECT started_at FROM jobs WHERE id = $4), $1, $2, $3)`;

/** $1 now, $2 error JSON or NULL, $3 job id, $4 token. */
export const CANCEL_RUNNING_JOB = `
UPDATE jobs SET state = ${to("cancelRunning")}, finished_at = $1, last_error = coalesce($2, last_error),
  lease_owner = NULL, lease_expires_at = NULL,
  idempotency_expires_at = CASE WHEN idempotency_key IS NULL THEN NULL ELSE $1 + idempotency_ttl_ms END,
  version = version + 1
WHERE id = $3 AND lease_token = $4 AND ${from("cancelRunning")}
RETURNING attempts`;

// -- operating (see operations.ts) --------------------------------------------------------

/** $1 job id. */
export const GET_JOB = "SELECT * FROM jobs WHERE id = $1";

/** $1 job id: read before a change, locked until commit so that the change sees what was read. */
export const LOCK_JOB = sql`${GET_JOB} ${FOR_UPDATE}`;

/** $1 job id: its ended attempts, and the one running now, read from the job (see RECORD_ATTEMPT). */
export const LIST_ATTEMPTS = `
SELECT job_id, number, worker_id, started_at, finished_at, outcome, error FROM attempts WHERE job_id = $1
UNION ALL
SELECT id, lease_token, lease_owner, started_at, NULL, 'running', NULL FROM jobs
WHERE id = $1 AND state = 'running'
ORDER BY number`;

/** The finished states, written as `jobs_ended`'s condition (see COUNT_BY_QUEUE_STATE). */
const FINISHED = `state IN (${FINISHED_STATES.map((s) => `'${s}'`).join(",")})`;

/** The jobs in one waiting or running state, counted by queue from that state's partial index. */
function countInState(state: JobState, index: string): Sql {
  return sql`SELECT queue, '${state}' AS state, count(*) AS n FROM jobs ${indexedBy(index)} WHERE state = '${state}' GROUP BY queue`;
}

/** $1 the mark: the finished jobs that finished after it (see migration 034), from `jobs_finished`. */
const FINISHED_AFTER_MARK = sql`SELECT queue, state, count(*) AS n FROM jobs ${indexedBy("jobs_finished")}
  WHERE ${FINISHED} AND finished_at IS NOT NULL AND finished_at > $1
  GROUP BY queue, state`;

/**
 * $1 the mark as last read: finished jobs by queue and state, those counted through the mark, kept
 * in `finished_counts`, plus those that finished after it. A long history is not walked; only the
 * jobs finished since the mark last moved are read. The mark is given, not read by a subquery, so
 * that PostgreSQL plans the range on `jobs_finished` knowing how short it is.
 */
const COUNT_FINISHED = sql`SELECT queue, state, CAST(sum(n) AS BIGINT) AS n FROM (
  SELECT queue, state, n FROM finished_counts
  UNION ALL
  ${FINISHED_AFTER_MARK}
) AS finished GROUP BY queue, state HAVING sum(n) <> 0`;

/**
 * $1 the mark as last read: jobs counted by queue and state, each waiting or running state from
 * the partial index that holds its jobs: no index covers every job (see migration 025), since one
 * that did would be written at every enqueue, claim and finish. Each condition is written as its
 * index's, so neither database tests it row by row. Finished jobs are counted as COUNT_FINISHED
 * says, and one more row (queue NULL, state 'mark') gives the mark the statement saw: counts
 * read with another mark than $1 are read again (see finished-counts.ts).
 */
export const COUNT_BY_QUEUE_STATE = unionAll([
  countInState("queued", "jobs_ready"),
  countInState("scheduled", "jobs_scheduled"),
  countInState("running", "jobs_leases"),
  countInState("awaiting_approval", "jobs_awaiting"),
  COUNT_FINISHED,
  "SELECT NULL, 'mark', counted_through FROM finished_counts_mark WHERE id = 1",
]);

/** The mark finished jobs are counted through (see finished-counts.ts). */
export const READ_FINISHED_MARK = "SELECT counted_through FROM finished_counts_mark WHERE id = 1";

/** The mark finished jobs are counted through, locked until commit: moving it and subtracting from its counts take turns. */
export const LOCK_FINISHED_MARK = sql`SELECT counted_through FROM finished_counts_mark WHERE id = 1 ${FOR_UPDATE}`;

/** $1 queue, $2 state, $3 how many: added to the counted finished jobs (negative to subtract). */
export const ADD_FINISHED_COUNT = `
INSERT INTO finished_counts (queue, state, n) VALUES ($1, $2, $3)
ON CONFLICT (queue, state) DO UPDATE SET n = finished_counts.n + excluded.n`;

/** $1 old mark, $2 new mark: the jobs that finished between them, by queue and state, from `jobs_finished`. */
export const FINISHED_BETWEEN = sql`SELECT queue, state, count(*) AS n FROM jobs ${indexedBy("jobs_finished")}
  WHERE ${FINISHED} AND finished_at IS NOT NULL AND finished_at > $1 AND finished_at <= $2
  GROUP BY queue, state`;

/** $1 new mark. */
export const SET_FINISHED_MARK = "UPDATE finished_counts_mark SET counted_through = $1 WHERE id = 1";

/**
 * $1 cap: dead jobs counted from `jobs_finished` (state, finished_at, id), whose dead entries sit
 * side by side, up to $1: PostgreSQL may visit each counted row's page (a bitmap heap scan), so a
 * count past the cap would cost a read of every dead job; capped, it stays a few milliseconds.
 */
export const COUNT_DEAD = sql`
SELECT count(*) AS n FROM (
  SELECT 1 AS one FROM jobs ${indexedBy("jobs_finished")} WHERE state = 'dead' AND finished_at IS NOT NULL LIMIT $1
) capped`;

/**
 * $1 sample size: the newest $1 dead jobs (by finish time, from `jobs_finished`) grouped by task
 * and queue, most first. A bounded read: with many dead jobs the groups describe the newest only.
 */
export const DEAD_GROUPS = sql`
SELECT task, queue, count(*) AS n, max(finished_at) AS newest FROM (
  SELECT task, queue, finished_at FROM jobs ${indexedBy("jobs_finished")}
  WHERE state = 'dead' AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT $1
) newest_dead GROUP BY task, queue ORDER BY n DESC, task, queue`;

/**
 * Where a page of one state's jobs is read from: the index that holds the state's jobs (named
 * for SQLite, whose planner would otherwise walk every job kept; PostgreSQL plans alone), with
 * the condition that lets either database use it. Succeeded jobs, most of those kept, are read
 * newest first along the primary key, which finds a page at once.
 */
const STATE_PAGES: Record<JobState, { index: string | null; where: string }> = {
  queued: { index: "jobs_ready", where: "state = 'queued'" },
  scheduled: { index: "jobs_scheduled", where: "state = 'scheduled'" },
  running: { index: "jobs_leases", where: "state = 'running'" },
  awaiting_approval: { index: "jobs_awaiting", where: "state = 'awaiting_approval'" },
  succeeded: { index: null, where: "state = 'succeeded'" },
  dead: { index: "jobs_finished", where: "state = 'dead' AND finished_at IS NOT NULL" },
  cancelled: { index: "jobs_finished", where: "state = 'cancelled' AND finished_at IS NOT NULL" },
};

/** $1 since, $2 limit: finished jobs' times, the latest first, from the finished-jobs index. */
export const LIST_FINISHED_TIMES = `
SELECT state, run_at, started_at, finished_at FROM jobs
WHERE ${FINISHED} AND finished_at >= $1
ORDER BY finished_at DESC LIMIT $2`;

/** Earliest scheduled run time. */
export const NEXT_SCHEDULED = sql`
SELECT min(run_at) AS at FROM jobs ${indexedBy("jobs_scheduled")} WHERE state = 'scheduled'`;

/** $1 progress JSON, $2 job id, $3 token. */
export const SET_PROGRESS = `
UPDATE jobs SET progress = $1, version = version + 1 WHERE id = $2 AND lease_token = $3 AND state = 'running'`;

/** $1 now, $2 job id. */
export const CANCEL_WAITING_JOB = `
UPDATE jobs SET state = ${to("cancel")}, finished_at = $1,
  idempotency_expires_at = CASE WHEN idempotency_key IS NULL THEN NULL ELSE $1 + idempotency_ttl_ms END,
  version = version + 1
WHERE id = $2 AND ${from("cancel")}`;

/** $1 job id. */
export const REQUEST_CANCEL = `
UPDATE jobs SET cancel_requested = 1, version = version + 1 WHERE id = $1 AND state = 'running'`;

/** $1 now, $2 job id. A fresh set of attempts; history stays in the attempts table. */
export const RETRY_JOB = `
UPDATE jobs SET state = ${to("retry")}, attempts = 0, run_at = $1, finished_at = NULL, result = NULL,
  cancel_requested = 0, idempotency_expires_at = NULL, version = version + 1
WHERE id = $2 AND ${from("retry")}`;

/** $1 queue or NULL, $2 task or NULL, $3 limit. Read from `jobs_finished` (see STATE_PAGES). */
export const SELECT_DEAD_IDS = sql`
SELECT id FROM jobs ${indexedBy("jobs_finished")}
WHERE ${STATE_PAGES.dead.where} AND (CAST($1 AS TEXT) IS NULL OR queue = $1) AND (CAST($2 AS TEXT) IS NULL OR task = $2)
ORDER BY id LIMIT $3`;

/** $1 job id: the job deleted if it is finished, with what the finished counts need of it (see finished-counts.ts). */
export const DELETE_FINISHED_JOB = `
DELETE FROM jobs WHERE id = $1 AND state IN (${DISCARDABLE.map((s) => `'${s}'`).join(",")})
RETURNING queue, state, finished_at`;

/** $1 job id. */
export const DELETE_ATTEMPTS = "DELETE FROM attempts WHERE job_id = $1";

/** A statement built at run time, with its parameters. */
export interface Statement {
  sql: Sql;
  params: unknown[];
}

/** `instr` (SQLite) and `strpos` (PostgreSQL): where text occurs in text, matched literally (no LIKE wildcards to escape). */
const POSITION: Sql = { sqlite: "instr", postgres: "strpos" };

/**
 * The payload field a match reads, as SQL an expression index can be built on (the path is
 * written into the text: `checkPayloadMatches` allows only letters, digits, `_` and `-` in its
 * keys, never only digits). SQLite: the field's SQL value (text for a string, a number for a
 * number); PostgreSQL: its jsonb, object keys only (a key on an array gives NULL).
 */
export function payloadField(path: readonly string[]): { sqlite: string; postgres: string } {
  return {
    sqlite: `json_extract(payload, '${jsonPath(path)}')`,
    postgres: `(payload::jsonb${path.map((key) => ` -> '${key}'`).join("")})`,
  };
}

/**
 * A string field equal to the value, or a number field equal to it as a number (never a
 * boolean, an object or an array: on SQLite, json_type tells them apart, since json_extract
 * gives true as 1 and an object as its text). Both dialects read the same parameters, the value
 * as JSON: a string, and a number if it is one.
 */
function payloadCondition(match: PayloadMatch, param: (value: unknown) => string): Sql {
  const field = payloadField(match.path);
  const type = `json_type(payload, '${jsonPath(match.path)}')`;
  const asString = param(JSON.stringify(match.value));
  const stringMatch = {
    sqlite: `(${field.sqlite} = json_extract(${asString}, '$') AND ${type} = 'text')`,
    postgres: `${field.postgres} = ${asString}::jsonb`,
  };
  const number = JSON_NUMBER.test(match.value) ? Number(match.value) : Number.NaN;
  if (!Number.isFinite(number)) return stringMatch;
  const asNumber = param(JSON.stringify(number));
  return {
    sqlite: `(${stringMatch.sqlite} OR (${field.sqlite} = json_extract(${asNumber}, '$') AND ${type} IN ('integer', 'real')))`,
    postgres: `${field.postgres} IN (${asString}::jsonb, ${asNumber}::jsonb)`,
  };
}

function jsonPath(path: readonly string[]): string {
  return `$.${path.map((key) => `"${key}"`).join(".")}`;
}

/**
 * Where a page of one state's jobs is read from (see STATE_PAGES); for one queue's, its finished
 * jobs of that state from `jobs_ended` (queue, state, id), already in id order. The state comes
 * before the index's condition: SQLite seeks on the first term it meets for a column, and
 * seeking on the list of finished states would lose the id order (a sort of every finished job
 * of the queue instead of a page).
 */
function statePage(state: JobState, oneQueue: boolean): { index: string | null; where: string } {
  if (!oneQueue || !FINISHED_STATES.includes(state)) return STATE_PAGES[state];
  return { index: "jobs_ended", where: `state = '${state}' AND ${FINISHED}` };
}

/**
 * The jobs a filter selects (see `JobFilter`), newest first or oldest first, one page: the
 * statement and its parameters. With states, each state's page is read from its own index (see
 * STATE_PAGES) and the pages merged; states the store does not know match nothing.
 */
export function listJobs(filter: JobFilter): Statement {
  return selectJobs(filter, "*");
}

/**
 * How many jobs the filter matches, counting no further than `cap` (its `limit` and paging
 * fields are ignored): the listing's own query, reading ids only, in no order, under a LIMIT of
 * `cap`, so the reading stops after `cap` matches (with no sort of every match first).
 */
export function countMatchingJobs(filter: JobFilter, cap: number): Statement {
  const { beforeId: _before, afterId: _after, oldestFirst: _order, ...rest } = filter;
  const inner = selectJobs({ ...rest, limit: cap }, "id", false);
  const text = (dialect: Dialect) => `SELECT count(*) AS n FROM (${sqlFor(inner.sql, dialect)}) AS matched`;
  return { sql: { sqlite: text("sqlite"), postgres: text("postgres") }, params: inner.params };
}

function selectJobs(filter: JobFilter, columns: "*" | "id", ordered = true): Statement {
  const where: Sql[] = [];
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.queue !== undefined) where.push(`queue = ${param(filter.queue)}`);
  if (filter.task !== undefined) where.push(`task = ${param(filter.task)}`);
  if (filter.search !== undefined) {
    const text = param(filter.search);
    where.push(sql`(${POSITION}(id, ${text}) > 0 OR ${POSITION}(coalesce(idempotency_key, ''), ${text}) > 0)`);
  }
  for (const match of checkPayloadMatches(filter.payload ?? [])) where.push(payloadCondition(match, param));
  if (filter.createdAfter !== undefined) where.push(`created_at >= ${param(filter.createdAfter)}`);
  if (filter.createdBefore !== undefined) where.push(`created_at < ${param(filter.createdBefore)}`);
  if (filter.finishedAfter !== undefined) where.push(`finished_at >= ${param(filter.finishedAfter)}`);
  if (filter.finishedBefore !== undefined) where.push(`finished_at < ${param(filter.finishedBefore)}`);
  if (filter.beforeId !== undefined && !filter.oldestFirst) where.push(`id < ${param(filter.beforeId)}`);
  if (filter.afterId !== undefined && filter.oldestFirst) where.push(`id > ${param(filter.afterId)}`);
  const limit = param(filter.limit ?? 50);
  const order = `${ordered ? `ORDER BY id ${filter.oldestFirst ? "ASC" : "DESC"} ` : ""}LIMIT ${limit}`;
  const conditions = (dialect: Dialect, first: readonly string[] = []) => {
    const all = [...first, ...where.map((w) => sqlFor(w, dialect))];
    return all.length > 0 ? `WHERE ${all.join(" AND ")}` : "";
  };
  // A queue's jobs are read state by state too: no index starts with the queue but those of a
  // state (and `jobs_ended`, the finished ones').
  const oneQueue = filter.queue !== undefined;
  const states = filter.states && filter.states.length > 0 ? filter.states : oneQueue ? JOB_STATES : null;
  const text = (dialect: Dialect) => {
    if (states === null) return `SELECT ${columns} FROM jobs ${conditions(dialect)} ${order}`;
    const pages = JOB_STATES.filter((s) => states.includes(s)).map((state, i) => {
      const { index, where: inState } = statePage(state, oneQueue);
      const from = index === null ? "jobs" : `jobs ${sqlFor(indexedBy(index), dialect)}`;
      return `SELECT id FROM (SELECT id FROM ${from} ${conditions(dialect, [inState])} ${order}) AS page${i}`;
    });
    if (pages.length === 0) return `SELECT ${columns} FROM jobs ${conditions(dialect, ["0 = 1"])} ${order}`;
    return `SELECT ${columns} FROM jobs WHERE id IN (${pages.join(" UNION ALL ")}) ${order}`;
  };
  return { sql: { sqlite: text("sqlite"), postgres: text("postgres") }, params };
}
