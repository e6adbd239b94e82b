/** Lessons as both backends store them (times in epoch ms, tags and vectors as JSON text). */
import type { Lesson, NewLesson } from "../../core/lesson.js";
import { iso } from "../rows.js";

export interface LessonRow {
  id: string;
  key: string | null;
  title: string;
  body: string;
  outcome: string;
  tags: string;
  job_id: string | null;
  run_id: string | null;
  created_by: string | null;
  created_at: number | string;
}

/** A row of a similar-lessons search: the lesson, its score, and its texts with the matched words marked. */
export interface ScoredLessonRow extends LessonRow {
  score: number | string;
  hl_title: string | null;
  hl_outcome: string | null;
  hl_body: string | null;
  hl_tags: string | null;
}

/** The columns a read returns: every one but the vector (and, on PostgreSQL, the search vector). */
export const LESSON_COLUMNS = "id, key, title, body, outcome, tags, job_id, run_id, created_by, created_at";

export function toLesson(r: LessonRow): Lesson {
  return {
    id: r.id,
    title: r.title,
    body: r.body,
    outcome: r.outcome,
    tags: JSON.parse(r.tags) as string[],
    jobId: r.job_id,
    runId: r.run_id,
    createdBy: r.created_by,
    createdAt: iso(Number(r.created_at)),
  };
}

/** INSERT_LESSON's parameters. */
export function lessonValues(l: NewLesson, at: number): unknown[] {
  return [
    l.id,
    l.key,
    l.title,
    l.body,
    l.outcome,
    JSON.stringify(l.tags),
    l.jobId,
    l.runId,
    l.createdBy,
    at,
    l.embedding === null ? null : JSON.stringify(l.embedding),
  ];
}
