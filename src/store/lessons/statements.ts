/** The SQL of the lessons area (see operations.ts), parameters listed. */
import { inList, type Sql, sql } from "../tx.js";
import { LESSON_COLUMNS } from "./rows.js";

/**
 * What PostgreSQL's search vector turns into spaces before parsing (migration 019 writes the
 * same text): ASCII punctuation and symbols, and the Unicode punctuation blocks, whatever the
 * database's locale.
 */
export const PUNCTUATION = "[[:punct:]<>|~^$+=`\\u2010-\\u205E\\u3000-\\u303F\\uFF01-\\uFF0F]+";

/** A text as PostgreSQL's search vector reads it (see migration 019): punctuation as spaces. */
function plain(column: string): string {
  return `regexp_replace(${column}, '${PUNCTUATION}', ' ', 'g')`;
}

/** $1-$11: see lessonValues. A key already used inserts nothing. */
export const INSERT_LESSON = `
INSERT INTO lessons (id, key, title, body, outcome, tags, job_id, run_id, created_by, created_at, embedding)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (key) DO NOTHING`;

/** $1 lesson id, $2 tag. */
export const INSERT_LESSON_TAG = "INSERT INTO lesson_tags (tag, lesson_id) VALUES ($2, $1)";

/**
 * Whether the source exists, holding it until commit on PostgreSQL (FOR KEY SHARE) so that a
 * discard cannot delete it between this check and the insert: no lesson outlives its
 * discarded job.
 */
const KEY_SHARE: Sql = { sqlite: "", postgres: "FOR KEY SHARE" };
export const JOB_EXISTS: Sql = sql`SELECT 1 AS found FROM jobs WHERE id = $1 ${KEY_SHARE}`;
export const RUN_EXISTS: Sql = sql`SELECT 1 AS found FROM runs WHERE id = $1 ${KEY_SHARE}`;

export const GET_LESSON = `SELECT ${LESSON_COLUMNS} FROM lessons WHERE id = $1`;
export const GET_LESSON_BY_KEY = `SELECT ${LESSON_COLUMNS} FROM lessons WHERE key = $1`;

/** $1 lesson id. Its tags go with it; its search entry too (a trigger on SQLite, the row's own column on PostgreSQL). */
export const DELETE_LESSON_TAGS = "DELETE FROM lesson_tags WHERE lesson_id = $1";
export const DELETE_LESSON = "DELETE FROM lessons WHERE id = $1";
export const LESSON_IDS_OF_JOB = "SELECT id FROM lessons WHERE job_id = $1";

/**
 * $1 tag or null, $2 job id or null, $3 run id or null, $4/$5 the cursor's (created_at, id) or
 * null/'', $6 limit. Newest first.
 */
export const LIST_LESSONS = `
SELECT ${LESSON_COLUMNS} FROM lessons l
WHERE (CAST($1 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM lesson_tags t WHERE t.tag = $1 AND t.lesson_id = l.id))
  AND (CAST($2 AS TEXT) IS NULL OR job_id = $2) AND (CAST($3 AS TEXT) IS NULL OR run_id = $3)
  AND (CAST($4 AS BIGINT) IS NULL OR created_at < $4 OR (created_at = $4 AND id < $5))
ORDER BY created_at DESC, id DESC
LIMIT $6`;

const tagIn = inList("t.tag", "$2") as { sqlite: string; postgres: string };
const TAG_IN_SQLITE = tagIn.sqlite;
const TAG_IN_POSTGRES = tagIn.postgres;

/** $1 the tags asked for: those some lesson carries. */
export const KNOWN_TAGS: Sql = sql`SELECT DISTINCT tag FROM lesson_tags WHERE ${inList("tag", "$1")}`;
/** $1 a first letter: tags in use that start with it, to suggest for a typo. */
export const TAGS_LIKE = "SELECT DISTINCT tag FROM lesson_tags WHERE substr(tag, 1, 1) = $1 ORDER BY tag LIMIT 10";

/**
 * The lessons matching a full-text query, best first, with their texts highlighted (matched
 * words between STX and ETX). $1 the query (FTS5 syntax / a `to_tsquery` text), $2 the tags a
 * lesson must all carry, $3 how many of them, $4 a job whose lessons to leave out (or null),
 * $5 the limit. Only the rows returned are highlighted.
 *
 * The ranking weighs title and tags most, then the outcome, then the body: bm25's column weights
 * on SQLite, the search vector's A/B/C weights on PostgreSQL.
 */
export const SIMILAR_LESSONS: Sql = {
  sqlite: `
WITH top AS (
  SELECT f.rowid AS seq, bm25(lessons_fts, 4.0, 2.0, 1.0, 4.0) AS rank
  FROM lessons_fts f JOIN lessons l ON l.seq = f.rowid
  WHERE lessons_fts MATCH $1
    AND (SELECT count(*) FROM lesson_tags t WHERE t.lesson_id = l.id AND ${TAG_IN_SQLITE}) = $3
    AND (CAST($4 AS TEXT) IS NULL OR l.job_id IS NULL OR l.job_id <> $4)
  ORDER BY rank, l.created_at DESC, l.id
  LIMIT $5
)
SELECT ${prefixed("l")}, -top.rank AS score,
  highlight(lessons_fts, 0, char(2), char(3)) AS hl_title,
  highlight(lessons_fts, 1, char(2), char(3)) AS hl_outcome,
  highlight(lessons_fts, 2, char(2), char(3)) AS hl_body,
  highlight(lessons_fts, 3, char(2), char(3)) AS hl_tags
FROM top JOIN lessons_fts ON lessons_fts.rowid = top.seq JOIN lessons l ON l.seq = top.seq
WHERE lessons_fts MATCH $1
ORDER BY top.rank, l.created_at DESC, l.id`,
  postgres: `
WITH q AS (SELECT to_tsquery('english', $1) AS query,
    'HighlightAll=true, StartSel=' || chr(2) || ', StopSel=' || chr(3) AS marks),
top AS (
  SELECT ${prefixed("l")}, ts_rank(l.search, q.query) AS score
  FROM lessons l, q
  WHERE l.search @@ q.query
    AND (SELECT count(*) FROM lesson_tags t WHERE t.lesson_id = l.id AND ${TAG_IN_POSTGRES}) = $3
    AND (CAST($4 AS TEXT) IS NULL OR l.job_id IS NULL OR l.job_id <> $4)
  ORDER BY score DESC, l.created_at DESC, l.id
  LIMIT $5
)
SELECT top.*,
  ts_headline('english', ${plain("top.title")}, q.query, q.marks) AS hl_title,
  ts_headline('english', ${plain("top.outcome")}, q.query, q.marks) AS hl_outcome,
  ts_headline('english', ${plain("top.body")}, q.query, q.marks) AS hl_body,
  ts_headline('english', ${plain("top.tags")}, q.query, q.marks) AS hl_tags
FROM top, q
ORDER BY top.score DESC, top.created_at DESC, top.id`,
};

/**
 * For ranking by an embedder: the newest lessons with a vector, $1 the tags (all), $2 how many,
 * $3 a job to leave out, $4 at most this many candidates.
 */
export const EMBEDDED_LESSONS: Sql = sql`
SELECT ${LESSON_COLUMNS}, embedding FROM lessons l
WHERE embedding IS NOT NULL
  AND (SELECT count(*) FROM lesson_tags t WHERE t.lesson_id = l.id AND ${inList("t.tag", "$1")}) = $2
  AND (CAST($3 AS TEXT) IS NULL OR job_id IS NULL OR job_id <> $3)
ORDER BY created_at DESC, id DESC
LIMIT $4`;

/** How many numbers the stored vectors have (they must all have one length), or no row. */
export const EMBEDDING_SAMPLE = "SELECT embedding FROM lessons WHERE embedding IS NOT NULL LIMIT 1";

function prefixed(table: string): string {
  return LESSON_COLUMNS.split(", ")
    .map((c) => `${table}.${c}`)
    .join(", ");
}
