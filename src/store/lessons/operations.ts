/**
 * Lessons, written once for both backends (see ../tx.ts). A lesson is inserted with its tags in
 * one transaction and never updated; deleting one takes its tags and its search entry with it.
 * Search is the one place the dialects differ: the query text is FTS5's syntax on SQLite and
 * `to_tsquery`'s on PostgreSQL, built here from the same words.
 */
import { jobNotFound, OverseerError, runNotFound } from "../../core/errors.js";
import {
  cosine,
  type Lesson,
  type LessonFilter,
  matchedTerms,
  type NewLesson,
  type ParsedSimilarQuery,
  type SimilarLesson,
} from "../../core/lesson.js";
import type { Db, Op, Tx } from "../tx.js";
import { type LessonRow, lessonValues, type ScoredLessonRow, toLesson } from "./rows.js";
import * as q from "./statements.js";

/** Stores the lesson, or returns the one already stored under its key. JOB_NOT_FOUND / RUN_NOT_FOUND for a source that does not exist. */
export function* recordLesson(tx: Tx, lesson: NewLesson): Op<Lesson> {
  if (lesson.jobId !== null && !(yield* tx.one(q.JOB_EXISTS, [lesson.jobId]))) throw jobNotFound(lesson.jobId);
  if (lesson.runId !== null && !(yield* tx.one(q.RUN_EXISTS, [lesson.runId]))) throw runNotFound(lesson.runId);
  if ((yield* tx.run(q.INSERT_LESSON, lessonValues(lesson, tx.at))) === 0) {
    const existing = yield* tx.one<LessonRow>(q.GET_LESSON_BY_KEY, [lesson.key]);
    // Gone again already (deleted since the insert saw it): the key is free once more.
    return existing ? toLesson(existing) : yield* recordLesson(tx, lesson);
  }
  for (const tag of lesson.tags) yield* tx.run(q.INSERT_LESSON_TAG, [lesson.id, tag]);
  tx.event(
    "lesson.recorded",
    lesson.jobId,
    null,
    { lesson: lesson.id, title: lesson.title, tags: lesson.tags },
    lesson.runId,
  );
  return toLesson((yield* tx.one<LessonRow>(q.GET_LESSON, [lesson.id])) as LessonRow);
}

export function* getLesson(db: Db, id: string): Op<Lesson | null> {
  const row = yield* db.one<LessonRow>(q.GET_LESSON, [id]);
  return row ? toLesson(row) : null;
}

export function* listLessons(db: Db, filter: LessonFilter): Op<Lesson[]> {
  const cursor = filter.afterId === undefined ? undefined : yield* db.one<LessonRow>(q.GET_LESSON, [filter.afterId]);
  if (filter.afterId !== undefined && cursor === undefined) return [];
  const params = [
    filter.tag ?? null,
    filter.jobId ?? null,
    filter.runId ?? null,
    cursor ? Number(cursor.created_at) : null,
    cursor?.id ?? "",
    filter.limit ?? 50,
  ];
  return (yield* db.rows<LessonRow>(q.LIST_LESSONS, params)).map(toLesson);
}

/** Deletes the lesson by hand, with `lesson.deleted`; false if there was none. */
export function* deleteLesson(tx: Tx, id: string): Op<boolean> {
  if (!(yield* deleteLessonRows(tx, id))) return false;
  tx.event("lesson.deleted", null, null, { lesson: id });
  return true;
}

/** Deletes the lessons a job recorded (call in the transaction that deletes the job). */
export function* deleteJobLessons(tx: Tx, jobId: string): Op<void> {
  for (const { id } of yield* tx.rows<{ id: string }>(q.LESSON_IDS_OF_JOB, [jobId])) yield* deleteLessonRows(tx, id);
}

/** A lesson's row and its tags (its search entry goes with the row); false if there was none. */
export function* deleteLessonRows(tx: Tx, id: string): Op<boolean> {
  yield* tx.run(q.DELETE_LESSON_TAGS, [id]);
  return (yield* tx.run(q.DELETE_LESSON, [id])) === 1;
}

export function* getLessonByKey(db: Db, key: string): Op<Lesson | null> {
  const row = yield* db.one<LessonRow>(q.GET_LESSON_BY_KEY, [key]);
  return row ? toLesson(row) : null;
}

/** Lessons ranked by the database's full-text search, with the words each matched. */
export function* similarLessons(db: Db, query: ParsedSimilarQuery): Op<SimilarLesson[]> {
  if (!(yield* tagsKnown(db, query))) return [];
  const text =
    db.dialect === "sqlite"
      ? query.terms.map((t) => `"${t}"`).join(" OR ")
      : query.terms.map((t) => `'${t}'`).join(" | ");
  const params = [text, db.list(query.tags), query.tags.length, query.excludeJobId, query.limit];
  return (yield* db.rows<ScoredLessonRow>(q.SIMILAR_LESSONS, params)).map((row) => {
    const lesson = toLesson(row);
    return {
      lesson,
      score: Number(row.score),
      reason: {
        terms: matchedTerms([row.hl_title, row.hl_outcome, row.hl_body, row.hl_tags]),
        tags: lesson.tags.filter((t) => query.tags.includes(t)),
      },
    };
  });
}

/** How many numbers the stored vectors have, or null before the first. */
export function* embeddingDimensions(db: Db): Op<number | null> {
  const row = yield* db.one<{ embedding: string }>(q.EMBEDDING_SAMPLE);
  return row ? (JSON.parse(row.embedding) as number[]).length : null;
}

/** The newest lessons with a vector (at most `candidates`), ranked by cosine similarity to `vector`. */
export function* lessonsByEmbedding(
  db: Db,
  query: ParsedSimilarQuery,
  vector: readonly number[],
  candidates: number,
): Op<SimilarLesson[]> {
  if (!(yield* tagsKnown(db, query))) return [];
  const params = [db.list(query.tags), query.tags.length, query.excludeJobId, candidates];
  const rows = yield* db.rows<LessonRow & { embedding: string }>(q.EMBEDDED_LESSONS, params);
  return rows
    .map((row) => {
      const similarity = cosine(vector, JSON.parse(row.embedding) as number[]);
      const lesson = toLesson(row);
      return {
        lesson,
        score: similarity,
        reason: { terms: [], tags: lesson.tags.filter((t) => query.tags.includes(t)), similarity },
      };
    })
    .sort((a, b) => b.score - a.score)
    .slice(0, query.limit);
}

/**
 * Whether some lesson carries each tag of the filter. If not, nothing can match; asked to
 * refuse (the API, where it is a typo far more often than a question whose answer is "none"),
 * INVALID_ARGUMENT with the tags in use that start like it.
 */
function* tagsKnown(db: Db, query: ParsedSimilarQuery): Op<boolean> {
  const { tags } = query;
  if (tags.length === 0) return true;
  const known = new Set((yield* db.rows<{ tag: string }>(q.KNOWN_TAGS, [db.list(tags)])).map((r) => r.tag));
  const unknown = tags.find((t) => !known.has(t));
  if (unknown === undefined) return true;
  if (!query.refuseUnknownTags) return false;
  const like = (yield* db.rows<{ tag: string }>(q.TAGS_LIKE, [unknown.slice(0, 1)])).map((r) => r.tag);
  throw new OverseerError(
    "INVALID_ARGUMENT",
    `no lesson has the tag ${JSON.stringify(unknown)}${like.length > 0 ? `; tags in use like it: ${like.join(", ")}` : ""}`,
    { field: "tags", tag: unknown, suggestions: like },
  );
}
