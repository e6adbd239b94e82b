/** /api/v1/lessons: what finished sessions taught, and the search for the lessons like a new one. */
import type { Transport } from "./transport.js";
import type { Lesson, RecordLessonRequest, SimilarLesson } from "./types.js";

export interface SimilarLessonsQuery {
  /** What the new session is about; or give `jobId`. */
  text?: string;
  /** Lessons like this job (its task and payload); its own are left out. */
  jobId?: string;
  /** Only lessons with all of these tags. */
  tags?: string[];
  /** 1-50; default 5. */
  limit?: number;
}

export class LessonsApi {
  constructor(private readonly t: Transport) {}

  /** Records a lesson; with a `key` already used, the lesson recorded under it comes back unchanged (`created: false`). */
  async record(lesson: RecordLessonRequest): Promise<{ lesson: Lesson; created: boolean }> {
    const answer = await this.t.json<{ lesson: Lesson }>("POST", "/api/v1/lessons", { body: lesson });
    return { lesson: answer.body.lesson, created: answer.status === 201 };
  }

  /** Newest first. */
  async list(
    query: { tag?: string; jobId?: string; runId?: string; limit?: number; cursor?: string } = {},
    signal?: AbortSignal,
  ): Promise<{ items: Lesson[]; nextCursor: string | null }> {
    return (
      await this.t.json<{ items: Lesson[]; nextCursor: string | null }>("GET", "/api/v1/lessons", { query, signal })
    ).body;
  }

  /** 404 LESSON_NOT_FOUND when no lesson has the id. */
  async get(id: string, signal?: AbortSignal): Promise<Lesson> {
    return (await this.t.json<{ lesson: Lesson }>("GET", `/api/v1/lessons/${encodeURIComponent(id)}`, { signal })).body
      .lesson;
  }

  async delete(id: string): Promise<void> {
    await this.t.json("POST", `/api/v1/lessons/${encodeURIComponent(id)}/delete`);
  }

  /** The lessons most like the text (or job), best first, each with the words it matched. Sent as a POST, so a long text fits. */
  async similar(query: SimilarLessonsQuery, signal?: AbortSignal): Promise<SimilarLesson[]> {
    return (await this.t.json<{ items: SimilarLesson[] }>("POST", "/api/v1/lessons/similar", { body: query, signal }))
      .body.items;
  }
}
