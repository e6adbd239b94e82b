/**
 * Lessons as the SDK, the HTTP API, the CLI and handlers use them (see core/lesson.ts): input
 * checked before anything is stored, the optional embedder applied, and "lessons like this job"
 * turned into a search. One instance per Overseer, shared with its workers for `ctx.recordLesson`.
 */
import { jobNotFound, OverseerError } from "../core/errors.js";
import { newId } from "../core/ids.js";
import {
  buildNewLesson,
  checkEmbedding,
  type Lesson,
  type LessonFilter,
  type LessonInput,
  lessonTextOf,
  parseSimilarQuery,
  parseTags,
  type SimilarLesson,
  type SimilarQuery,
} from "../core/lesson.js";
import { type Logger, silentLogger } from "../core/logger.js";
import type { Store } from "../store/store.js";

/** Turns a text into a vector (a model's embedding); lessons then rank by cosine similarity. */
export type LessonEmbedder = (text: string) => readonly number[] | Promise<readonly number[]>;

export interface LessonsOptions {
  /**
   * Ranks similar lessons by this embedder's vectors instead of full-text search. Nothing needs
   * one. If it fails at search time the search falls back to full text (logged); a lesson
   * recorded while it fails is refused, so that no lesson is stored without its vector.
   */
  embed?: LessonEmbedder;
  /** With an embedder: how many of the newest lessons are compared. Default 5,000. */
  candidates?: number;
}

/** A search by text, or (with `jobId` instead) for lessons like a job: its task and payload, its own lessons left out. */
export interface SimilarRequest extends Omit<SimilarQuery, "text"> {
  text?: string;
  jobId?: string;
}

export interface RecordedLesson {
  lesson: Lesson;
  /** False when a lesson with the same key was already stored: that one is returned, unchanged. */
  created: boolean;
}

const MAX_LIST_LIMIT = 1_000;

export class Lessons {
  constructor(
    private readonly store: Store,
    private readonly options: LessonsOptions = {},
    private readonly logger: Logger = silentLogger,
  ) {}

  /** Stores a lesson (INVALID_ARGUMENT naming the field; JOB_NOT_FOUND / RUN_NOT_FOUND for a missing source). */
  async record(input: LessonInput): Promise<RecordedLesson> {
    let lesson = buildNewLesson(input, newId());
    const { embed } = this.options;
    if (embed !== undefined) {
      // A key already used needs no vector: the stored lesson comes back (and an embedder
      // that is down cannot fail a retried handler whose lesson is already kept).
      const existing = lesson.key === null ? null : await this.store.getLessonByKey(lesson.key);
      if (existing !== null) return { lesson: existing, created: false };
      const vector = await embed(`${lesson.title}\n${lesson.outcome}\n${lesson.body}`);
      lesson = { ...lesson, embedding: checkEmbedding(vector, await this.store.lessonEmbeddingDimensions()) };
    }
    const stored = await this.store.recordLesson(lesson);
    return { lesson: stored, created: stored.id === lesson.id };
  }

  /** LESSON_NOT_FOUND when no lesson has the id. */
  async get(id: string): Promise<Lesson> {
    const lesson = await this.store.getLesson(id);
    if (lesson === null) throw lessonNotFound(id);
    return lesson;
  }

  /** Newest first; `afterId` pages; `limit` 1-1,000 (default 50). */
  list(filter: LessonFilter = {}): Promise<Lesson[]> {
    const { limit = 50 } = filter;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw new OverseerError("INVALID_ARGUMENT", `limit must be a whole number from 1 to ${MAX_LIST_LIMIT}`, {
        field: "limit",
      });
    }
    const tag = filter.tag === undefined ? undefined : parseTags([filter.tag], "tag")[0];
    return this.store.listLessons({ ...filter, limit, ...(tag === undefined ? {} : { tag }) });
  }

  /** LESSON_NOT_FOUND when no lesson has the id. */
  async delete(id: string): Promise<void> {
    if (!(await this.store.deleteLesson(id))) throw lessonNotFound(id);
  }

  /**
   * The lessons most like the text (or the job), best first, each with why it matched.
   * INVALID_ARGUMENT for an empty or oversized text, a bad limit, or (with `unknownTags:
   * "refuse"`) a tag no lesson has. A job with nothing to search for has no lessons like it.
   */
  async similar(request: SimilarRequest): Promise<SimilarLesson[]> {
    const query = parseSimilarQuery(await this.queryOf(request), request?.jobId !== undefined);
    if (query.terms.length === 0) return [];
    const vector = await this.embedQuery(query.text);
    if (vector !== null) return this.store.lessonsByEmbedding(query, vector, this.options.candidates ?? 5_000);
    return this.store.similarLessons(query);
  }

  /** The query's vector, or null to rank by full text: no embedder, or one that failed or changed its length. */
  private async embedQuery(text: string): Promise<number[] | null> {
    if (this.options.embed === undefined) return null;
    try {
      return checkEmbedding(await this.options.embed(text), await this.store.lessonEmbeddingDimensions());
    } catch (err) {
      this.logger.warn({ err }, "the lesson embedder failed; ranking similar lessons by full text instead");
      return null;
    }
  }

  private async queryOf(request: SimilarRequest): Promise<SimilarQuery> {
    if (request === null || typeof request !== "object") return request as unknown as SimilarQuery;
    const { jobId, text, ...rest } = request;
    if (jobId === undefined) return { ...rest, text: text as string };
    if (text !== undefined)
      throw new OverseerError("INVALID_ARGUMENT", "give text or jobId, not both", { field: "jobId" });
    const job = await this.store.getJob(jobId);
    if (job === null) throw jobNotFound(jobId);
    return { ...rest, text: lessonTextOf(job.task, job.payload), excludeJobId: jobId };
  }
}

function lessonNotFound(id: string): OverseerError {
  return new OverseerError("LESSON_NOT_FOUND", `no lesson has id ${JSON.stringify(id)}`, { id });
}
