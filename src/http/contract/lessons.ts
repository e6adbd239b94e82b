/**
 * /api/v1/lessons: what finished sessions taught (see core/lesson.ts), recording, listing,
 * deleting, and finding the lessons like a text or a job by full-text search.
 */
import {
  MAX_LESSON_BODY,
  MAX_LESSON_OUTCOME,
  MAX_LESSON_TAGS,
  MAX_LESSON_TITLE,
  MAX_SIMILAR_LIMIT,
  MAX_SIMILAR_TEXT,
} from "../../core/lesson.js";
import {
  type Accepted,
  errorResponses,
  idParams,
  isoTime,
  nullableString,
  pageSchema,
  ref,
  type Served,
  string,
} from "./schema.js";

const tag = {
  type: "string",
  description: "1-64 letters, digits, '.', '_', ':', '/' or '-' (stored lower-case).",
} as const;

export const lessonSchema = {
  $id: "Lesson",
  type: "object",
  required: ["id", "title", "body", "outcome", "tags", "jobId", "runId", "createdBy", "createdAt"],
  properties: {
    id: string,
    title: { type: "string", description: "What the session was about." },
    body: { type: "string", description: "What was tried (may be empty)." },
    outcome: { type: "string", description: "How it ended." },
    tags: { type: "array", items: string },
    jobId: {
      ...nullableString,
      description: "The job it came from; its lessons are deleted if that job is discarded.",
    },
    runId: { ...nullableString, description: "The run it came from." },
    createdBy: nullableString,
    createdAt: isoTime,
  },
} as const;

export const similarLessonSchema = {
  $id: "SimilarLesson",
  type: "object",
  required: ["lesson", "score", "reason"],
  properties: {
    lesson: ref("Lesson"),
    score: { type: "number", description: "Higher is more similar; compare within one answer only." },
    reason: {
      type: "object",
      required: ["terms", "tags"],
      properties: {
        terms: {
          type: "array",
          items: string,
          description: "The query's words found in the lesson, as the lesson writes them.",
        },
        tags: { type: "array", items: string, description: "The filter's tags the lesson carries." },
        similarity: { type: "number", description: "With an embedder: the cosine similarity." },
      },
    },
  },
} as const;

const recordBody = {
  type: "object",
  required: ["title", "outcome"],
  additionalProperties: false,
  properties: {
    title: { type: "string", description: `1-${MAX_LESSON_TITLE} characters, one line.` },
    body: { type: "string", description: `What was tried; up to ${MAX_LESSON_BODY} characters.` },
    outcome: { type: "string", description: `How it ended; 1-${MAX_LESSON_OUTCOME} characters.` },
    tags: { type: "array", items: tag, description: `Up to ${MAX_LESSON_TAGS}.` },
    jobId: { type: "string", description: "The job it came from (404 JOB_NOT_FOUND if none has the id)." },
    runId: { type: "string", description: "The run it came from (404 RUN_NOT_FOUND if none has the id)." },
    key: {
      type: "string",
      description: "Idempotency: a second lesson with the same key returns the first (200), unchanged.",
    },
  },
} as const;

const lessonAnswer = { type: "object", required: ["lesson"], properties: { lesson: ref("Lesson") } } as const;
const similarAnswer = {
  type: "object",
  required: ["items"],
  properties: { items: { type: "array", items: ref("SimilarLesson") } },
} as const;
const lessonIdParams = idParams("A lesson id (ULID).");

const similarFields = {
  text: {
    type: "string",
    description: `What the new session is about (1-${MAX_SIMILAR_TEXT} characters). Or give jobId.`,
  },
  jobId: { type: "string", description: "Lessons like this job (its task and payload); its own are left out." },
  limit: { description: `1-${MAX_SIMILAR_LIMIT}; default 5.` },
} as const;

export const recordLesson = {
  tags: ["lessons"],
  operationId: "recordLesson",
  summary: "Record a lesson: 201, or 200 with the lesson already recorded under the same key",
  body: recordBody,
  response: { 200: lessonAnswer, 201: lessonAnswer, ...errorResponses(400, 401, 403, 404) },
} as const;

export const listLessons = {
  tags: ["lessons"],
  operationId: "listLessons",
  summary: "List lessons, newest first",
  querystring: {
    type: "object",
    additionalProperties: false,
    properties: {
      tag: { ...tag, description: "Only lessons with this tag." },
      jobId: { type: "string", maxLength: 100, description: "Only the lessons of this job." },
      runId: { type: "string", maxLength: 100, description: "Only the lessons of this run." },
      limit: { type: "string", pattern: "^[0-9]{1,6}$", description: "Page size, 1-500; default 50." },
      cursor: { type: "string", maxLength: 200, description: "nextCursor of the previous page." },
    },
  },
  response: { 200: pageSchema("Lesson"), ...errorResponses(400, 401, 403) },
} as const;

export const getLesson = {
  tags: ["lessons"],
  operationId: "getLesson",
  summary: "One lesson",
  params: lessonIdParams,
  response: { 200: lessonAnswer, ...errorResponses(400, 401, 403, 404) },
} as const;

export const deleteLesson = {
  tags: ["lessons"],
  operationId: "deleteLesson",
  summary: "Delete a lesson",
  params: lessonIdParams,
  response: { 204: { type: "null", description: "Deleted." }, ...errorResponses(400, 401, 403, 404) },
} as const;

export const similarLessons = {
  tags: ["lessons"],
  operationId: "similarLessons",
  summary: "Lessons like a text or a job, best first, with the words each matched",
  description:
    "Full-text search (SQLite FTS5 with bm25, PostgreSQL tsvector with ts_rank; English stemming), or an " +
    "embedder's cosine similarity when the server has one. 400 for an empty or oversized text, a bad limit, or " +
    "a tag no lesson carries (with the tags in use like it). For texts longer than a URL holds, POST the query.",
  querystring: {
    type: "object",
    additionalProperties: false,
    properties: {
      ...similarFields,
      tags: { type: "string", maxLength: 2_000, description: "Comma-separated: only lessons with all of them." },
      limit: { type: "string", pattern: "^[0-9]{1,6}$", description: similarFields.limit.description },
    },
  },
  response: { 200: similarAnswer, ...errorResponses(400, 401, 403, 404) },
} as const;

export const similarLessonsByBody = {
  tags: ["lessons"],
  operationId: "similarLessonsByBody",
  summary: "Lessons like a text or a job (the query in the body, for long texts)",
  body: {
    type: "object",
    additionalProperties: false,
    properties: {
      ...similarFields,
      tags: { type: "array", items: tag, description: "Only lessons with all of them." },
      limit: { type: "integer", description: similarFields.limit.description },
    },
  },
  response: { 200: similarAnswer, ...errorResponses(400, 401, 403, 404) },
} as const;

export type Lesson = Served<typeof lessonSchema>;
export type SimilarLesson = Served<typeof similarLessonSchema>;
export type RecordLessonRequest = Accepted<typeof recordBody>;
