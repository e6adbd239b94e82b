/**
 * Lessons: what a finished session (a job or a run) taught, kept so that the next similar one
 * starts from it ("incidents like this were resolved by restarting the api pods"). A lesson is
 * written once and never changed: a title, what was tried, how it ended, tags, and a link to
 * the job or run it came from.
 *
 * Similar lessons are found with the database's own full-text search (SQLite FTS5 ranked by
 * bm25, PostgreSQL `tsvector` ranked by `ts_rank`), both stemming English words, so "restarted"
 * finds "restart". This module holds what both share: validation, the words a search looks
 * for, and the reason a lesson matched, read back from the database's highlighting.
 */
import { OverseerError } from "./errors.js";

export interface Lesson {
  id: string;
  /** What the session was about: "api 502s after deploy". */
  title: string;
  /** What was tried: the steps, the fix, what did not work. May be empty. */
  body: string;
  /** How it ended, in a few words: "resolved by rolling back to 1.4.2". */
  outcome: string;
  /** Lower-case labels (`service:api`, `oom`), for filtering. */
  tags: string[];
  /** The job the lesson came from, if any. */
  jobId: string | null;
  /** The run the lesson came from, if any. */
  runId: string | null;
  /** Who recorded it: a token's name, a task, a person. */
  createdBy: string | null;
  createdAt: string;
}

/** What `recordLesson` takes. */
export interface LessonInput {
  title: string;
  body?: string;
  outcome: string;
  tags?: readonly string[];
  jobId?: string | null;
  runId?: string | null;
  /**
   * Makes the write idempotent: a second lesson with a key already used returns the first one
   * unchanged. `ctx.recordLesson` sets one from the job and the title, so a retried handler
   * records each lesson once.
   */
  key?: string | null;
  createdBy?: string | null;
}

/** A validated lesson, as the store writes it (the store sets `createdAt`). */
export interface NewLesson extends Omit<Lesson, "createdAt"> {
  key: string | null;
  /** From the optional embedder: a vector to rank by instead of the full-text score. */
  embedding: number[] | null;
}

export interface SimilarLesson {
  lesson: Lesson;
  /** Higher is more similar. The full-text score (bm25 or ts_rank), or the cosine similarity with an embedder: compare within one answer only. */
  score: number;
  reason: LessonMatch;
}

/** Why a lesson matched: the words of the query found in it (as written in the lesson), and the tags it shares with the filter. */
export interface LessonMatch {
  terms: string[];
  tags: string[];
  /** With an embedder: the cosine similarity, and no terms. */
  similarity?: number;
}

export interface SimilarQuery {
  text: string;
  /** Only lessons carrying every one of these tags. */
  tags?: readonly string[];
  /**
   * A tag no lesson carries: `match-none` (the default) finds nothing; `refuse` throws
   * INVALID_ARGUMENT with the tags in use like it, as the API and the CLI do, where it is
   * most often a typo.
   */
  unknownTags?: "match-none" | "refuse";
  /** How many, 1-50; default 5. */
  limit?: number;
  /** Leave out the lessons of this job (the session asking). */
  excludeJobId?: string | null;
}

/** A similar-lessons query, checked, with the words the full-text search looks for. */
export interface ParsedSimilarQuery {
  text: string;
  terms: string[];
  tags: string[];
  limit: number;
  excludeJobId: string | null;
  refuseUnknownTags: boolean;
}

export interface LessonFilter {
  /** Only lessons with this tag. */
  tag?: string;
  jobId?: string;
  runId?: string;
  /** Newest first, after this lesson's id (a cursor). */
  afterId?: string;
  /** 1-500; default 50. */
  limit?: number;
}

export const MAX_LESSON_TITLE = 300;
export const MAX_LESSON_BODY = 16_000;
export const MAX_LESSON_OUTCOME = 1_000;
export const MAX_LESSON_TAGS = 20;
export const MAX_SIMILAR_TEXT = 8_000;
export const MAX_SIMILAR_LIMIT = 50;
/** A search looks for at most this many distinct words of its text, the first ones. */
export const MAX_SEARCH_TERMS = 64;

const TAG = /^[a-z0-9][a-z0-9._:/-]{0,63}$/;
/** Control characters other than tab and newline: they mean nothing in a lesson, and two of them mark matches. */
const CONTROL = /(?![\t\n])\p{Cc}/u;
const KEY = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/;

/** The marks the databases put around a matched word when they highlight one (STX and ETX). */
export const MATCH_START = "\u0002";
export const MATCH_END = "\u0003";
const MARKED = new RegExp(`${MATCH_START}([^${MATCH_END}]*)${MATCH_END}`, "g");

const bad = (field: string, message: string) => new OverseerError("INVALID_ARGUMENT", `${field} ${message}`, { field });

/** Checks a lesson; INVALID_ARGUMENT names the field. Tags are lower-cased and deduplicated. */
export function buildNewLesson(input: LessonInput, id: string, embedding: number[] | null = null): NewLesson {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw bad("lesson", "must be an object with a title and an outcome");
  }
  const title = text(input.title, "title", MAX_LESSON_TITLE, { required: true, singleLine: true });
  const body = text(input.body ?? "", "body", MAX_LESSON_BODY, { required: false, singleLine: false });
  const outcome = text(input.outcome, "outcome", MAX_LESSON_OUTCOME, { required: true, singleLine: false });
  return {
    id,
    key: optional(input.key, "key", (v) => KEY.test(v), "must be 1-200 letters, digits, '.', '_', ':', '/' or '-'"),
    title,
    body,
    outcome,
    tags: parseTags(input.tags ?? [], "tags"),
    jobId: optional(input.jobId, "jobId", (v) => v.length <= 100 && !CONTROL.test(v), "must be a job id"),
    runId: optional(input.runId, "runId", (v) => v.length <= 100 && !CONTROL.test(v), "must be a run id"),
    createdBy: optional(input.createdBy, "createdBy", (v) => v.length <= 200 && !CONTROL.test(v), "must be a name"),
    embedding,
  };
}

/** Lower-case tags, checked and deduplicated, in the order given. */
export function parseTags(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw bad(field, "must be a list of tags");
  if (value.length > MAX_LESSON_TAGS) throw bad(field, `may hold at most ${MAX_LESSON_TAGS} tags`);
  const tags: string[] = [];
  for (const raw of value) {
    const tag = typeof raw === "string" ? raw.trim().toLowerCase() : raw;
    if (typeof tag !== "string" || !TAG.test(tag)) {
      throw bad(
        field,
        `must hold tags of 1-64 letters, digits, '.', '_', ':', '/' or '-', starting with a letter or digit; got ${JSON.stringify(raw)}`,
      );
    }
    if (!tags.includes(tag)) tags.push(tag);
  }
  return tags;
}

/**
 * Checks a search. `allowNoWords`: a text with no words to search for is not an error (a job's
 * payload may have none), the caller then finds nothing; everything else is still checked.
 */
export function parseSimilarQuery(query: SimilarQuery, allowNoWords = false): ParsedSimilarQuery {
  if (query === null || typeof query !== "object") throw bad("text", "is required");
  const { limit = 5 } = query;
  const text = typeof query.text === "string" ? query.text.trim() : query.text;
  if (typeof text !== "string" || text === "") throw bad("text", "is required: what the new session is about");
  if (text.length > MAX_SIMILAR_TEXT) {
    throw bad(
      "text",
      `must be at most ${MAX_SIMILAR_TEXT} characters (got ${text.length}); send the summary, not the logs`,
    );
  }
  const terms = searchTerms(text);
  if (terms.length === 0 && !allowNoWords) {
    throw bad("text", "has no words to search for (only common words, single characters or punctuation)");
  }
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SIMILAR_LIMIT) {
    throw bad("limit", `must be a whole number from 1 to ${MAX_SIMILAR_LIMIT}`);
  }
  const { unknownTags = "match-none" } = query;
  if (unknownTags !== "match-none" && unknownTags !== "refuse")
    throw bad("unknownTags", "must be match-none or refuse");
  return {
    text,
    terms,
    tags: parseTags(query.tags ?? [], "tags"),
    limit,
    excludeJobId: query.excludeJobId ?? null,
    refuseUnknownTags: unknownTags === "refuse",
  };
}

/**
 * The words a search looks for: runs of letters and digits of two characters or more (`502`
 * counts: an HTTP status says a lot about an incident), lower-cased, each once, without the
 * common English words that would match every lesson. Both databases stem them their own way
 * (FTS5's porter tokenizer, PostgreSQL's `english` configuration).
 */
export function searchTerms(text: string): string[] {
  const terms: string[] = [];
  for (const match of text.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
    const word = match[0];
    if (word.length < 2 || STOP_WORDS.has(word) || terms.includes(word)) continue;
    terms.push(word);
    if (terms.length === MAX_SEARCH_TERMS) break;
  }
  return terms;
}

/** The words a database marked as matched in highlighted texts, lower-cased, each once. */
export function matchedTerms(highlighted: ReadonlyArray<string | null>): string[] {
  const out: string[] = [];
  for (const text of highlighted) {
    if (!text) continue;
    for (const m of text.matchAll(MARKED)) {
      const word = (m[1] ?? "").trim().toLowerCase();
      if (word !== "" && !out.includes(word)) out.push(word);
    }
  }
  return out;
}

/**
 * The text to find lessons like a job: its task's name and the strings in its payload (titles,
 * summaries, service names), depth-first, up to MAX_SIMILAR_TEXT characters.
 */
export function lessonTextOf(task: string, payload: unknown): string {
  const parts: string[] = [task.replace(/[-_.]/g, " ")];
  let length = parts[0]?.length ?? 0;
  const stack: unknown[] = [payload];
  while (stack.length > 0 && length < MAX_SIMILAR_TEXT) {
    const item = stack.pop();
    if (typeof item === "string") {
      parts.push(item);
      length += item.length + 1;
    } else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) stack.push(item[i]);
    } else if (item !== null && typeof item === "object") {
      const values = Object.values(item);
      for (let i = values.length - 1; i >= 0; i--) stack.push(values[i]);
    }
  }
  return parts.join(" ").slice(0, MAX_SIMILAR_TEXT).trim();
}

/** Cosine similarity of two vectors of one length (0 when either is all zeros). */
export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Checks what an embedder returned: a non-empty list of finite numbers, of the length the others have. */
export function checkEmbedding(value: unknown, dimensions: number | null): number[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 8_192 || !value.every(Number.isFinite)) {
    throw new OverseerError("INTERNAL_ERROR", "the lesson embedder must return a list of 1-8192 finite numbers", {
      field: "embedding",
    });
  }
  if (dimensions !== null && value.length !== dimensions) {
    // The server's embedder changed, not the caller's input: a server-side fault.
    throw new OverseerError(
      "INTERNAL_ERROR",
      `the lesson embedder returned ${value.length} numbers, the stored lessons have ${dimensions}`,
      { field: "embedding" },
    );
  }
  return value as number[];
}

function text(value: unknown, field: string, max: number, rules: { required: boolean; singleLine: boolean }): string {
  if (typeof value !== "string") throw bad(field, rules.required ? "is required (text)" : "must be text");
  const trimmed = value.trim();
  if (rules.required && trimmed === "") throw bad(field, "is required and may not be blank");
  if (trimmed.length > max) throw bad(field, `must be at most ${max} characters (got ${trimmed.length})`);
  if (CONTROL.test(trimmed) || (rules.singleLine && /[\r\n\t]/.test(trimmed))) {
    throw bad(
      field,
      rules.singleLine ? "must be one line without control characters" : "may not hold control characters",
    );
  }
  return trimmed;
}

function optional(
  value: string | null | undefined,
  field: string,
  ok: (v: string) => boolean,
  message: string,
): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string" || value === "" || !ok(value)) throw bad(field, message);
  return value;
}

/**
 * Common English words, left out of searches: they would match nearly every lesson. The list
 * PostgreSQL's `english` configuration drops (Snowball's), so that both backends search for the
 * same words.
 */
const STOP_WORDS = new Set(
  (
    "i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers " +
    "herself it its itself they them their theirs themselves what which who whom this that these those am is are " +
    "was were be been being have has had having do does did doing a an the and but if or because as until while " +
    "of at by for with about against between into through during before after above below to from up down in " +
    "out on off over under again further then once here there when where why how all any both each few more most " +
    "other some such no nor not only own same so than too very s t can will just don should now"
  ).split(" "),
);
