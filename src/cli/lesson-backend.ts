/**
 * What `overseer lessons ...` does, from the local database or through a server's HTTP API
 * (`--url`), behind one interface, as `claim-backend.ts` does for claims.
 */
import type { OverseerClient } from "../client/index.js";
import type { Lesson, SimilarLesson } from "../core/lesson.js";
import type { Overseer } from "../sdk/overseer.js";
import { closing, type GlobalOptions, openOverseer } from "./context.js";
import { remoteClient } from "./remote.js";

export interface LessonQuery {
  text?: string;
  jobId?: string;
  tags?: string[];
  limit?: number;
}

export interface LessonBackend {
  list(filter: { tag?: string; jobId?: string; limit: number }): Promise<Lesson[]>;
  get(id: string): Promise<Lesson>;
  similar(query: LessonQuery): Promise<SimilarLesson[]>;
  delete(id: string): Promise<void>;
  close(): Promise<void>;
}

export async function withLessonBackend<T>(
  options: GlobalOptions,
  fn: (backend: LessonBackend) => Promise<T>,
): Promise<T> {
  const client = remoteClient(options);
  const backend = client ? new RemoteLessons(client) : new LocalLessons(await openOverseer(options));
  return closing(backend, fn);
}

class LocalLessons implements LessonBackend {
  constructor(private readonly o: Overseer) {}

  list(filter: { tag?: string; jobId?: string; limit: number }) {
    return this.o.lessons.list(filter);
  }
  get(id: string) {
    return this.o.lessons.get(id);
  }
  similar(query: LessonQuery) {
    // As the API does: a tag no lesson has is refused, naming the tags in use like it.
    return this.o.lessons.similar({ ...query, unknownTags: "refuse" });
  }
  delete(id: string) {
    return this.o.lessons.delete(id);
  }
  close() {
    return this.o.close();
  }
}

class RemoteLessons implements LessonBackend {
  constructor(private readonly api: OverseerClient) {}

  async list(filter: { tag?: string; jobId?: string; limit: number }) {
    return (await this.api.lessons.list(filter)).items;
  }
  get(id: string) {
    return this.api.lessons.get(id);
  }
  similar(query: LessonQuery) {
    return this.api.lessons.similar(query);
  }
  delete(id: string) {
    return this.api.lessons.delete(id);
  }
  async close() {
    // Nothing to release: each request is its own fetch.
  }
}
