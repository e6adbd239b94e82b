/** Lessons' pure parts as tables: what is accepted and refused, the words a search looks for, and the reason read back. */
import { describe, expect, it } from "vitest";
import {
  buildNewLesson,
  checkEmbedding,
  cosine,
  type LessonInput,
  lessonTextOf,
  MATCH_END,
  MATCH_START,
  matchedTerms,
  parseSimilarQuery,
  parseTags,
  searchTerms,
} from "./lesson.js";

describe("buildNewLesson", () => {
  const ok: LessonInput = { title: " api 502s ", outcome: "rolled back", tags: ["Deploy", "deploy", "service:api"] };

  it("trims, lower-cases and deduplicates tags, and fills what was left out", () => {
    expect(buildNewLesson(ok, "L1")).toEqual({
      id: "L1",
      key: null,
      title: "api 502s",
      body: "",
      outcome: "rolled back",
      tags: ["deploy", "service:api"],
      jobId: null,
      runId: null,
      createdBy: null,
      embedding: null,
    });
  });

  it.each([
    ["no title", { ...ok, title: undefined }, "title is required (text)"],
    ["a blank title", { ...ok, title: "  " }, "title is required and may not be blank"],
    ["a title of two lines", { ...ok, title: "a\nb" }, "title must be one line without control characters"],
    ["a title too long", { ...ok, title: "x".repeat(301) }, "title must be at most 300 characters (got 301)"],
    ["no outcome", { ...ok, outcome: undefined }, "outcome is required (text)"],
    ["a body too long", { ...ok, body: "x".repeat(16_001) }, "body must be at most 16000 characters"],
    ["a control character in the body", { ...ok, body: "a\u0002b" }, "body may not hold control characters"],
    ["a NUL in the outcome", { ...ok, outcome: "a\u0000b" }, "outcome may not hold control characters"],
    ["tags not a list", { ...ok, tags: "deploy" }, "tags must be a list of tags"],
    ["a tag with a space", { ...ok, tags: ["a b"] }, "tags must hold tags of 1-64 letters"],
    ["21 tags", { ...ok, tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, "tags may hold at most 20 tags"],
    ["a key with a space", { ...ok, key: "a b" }, "key must be 1-200 letters"],
    ["an empty job id", { ...ok, jobId: "" }, "jobId must be a job id"],
  ])("refuses %s", (_label, input, message) => {
    expect(() => buildNewLesson(input as LessonInput, "L1")).toThrow(message);
  });

  it("keeps a body's lines and tabs", () => {
    expect(buildNewLesson({ ...ok, body: "tried:\n\t- a\n\t- b" }, "L1").body).toBe("tried:\n\t- a\n\t- b");
  });
});

describe("searchTerms", () => {
  it.each([
    ["Checkout API returns 502 after the deploy", ["checkout", "api", "returns", "502", "deploy"]],
    ["the pods, THE PODS and the pods!", ["pods"]],
    ["a b c 1 2 3", []],
    ["Überlastung der Datenbank", ["überlastung", "der", "datenbank"]],
    ["disk-full on pg_wal", ["disk", "full", "pg", "wal"]],
  ])("%j looks for %j", (text, terms) => {
    expect(searchTerms(text)).toEqual(terms);
  });

  it("takes the first 64 distinct words", () => {
    const words = Array.from({ length: 100 }, (_, i) => `w${i}`);
    expect(searchTerms(words.join(" "))).toEqual(words.slice(0, 64));
  });
});

describe("matchedTerms", () => {
  it("reads the marked words, lower-cased, once each, in order", () => {
    const mark = (w: string) => `${MATCH_START}${w}${MATCH_END}`;
    expect(
      matchedTerms([`${mark("Pods")} restarted`, null, `the ${mark("pods")} ${mark("restarted")} again`, ""]),
    ).toEqual(["pods", "restarted"]);
  });
});

describe("parseSimilarQuery", () => {
  it("trims the text, keeps its words, and defaults the limit", () => {
    expect(parseSimilarQuery({ text: "  disk full  " })).toEqual({
      text: "disk full",
      terms: ["disk", "full"],
      tags: [],
      limit: 5,
      excludeJobId: null,
      refuseUnknownTags: false,
    });
    expect(parseSimilarQuery({ text: "disk", unknownTags: "refuse" }).refuseUnknownTags).toBe(true);
  });

  it.each([
    [{ text: "" }, "text is required"],
    [{ text: 42 }, "text is required"],
    [{ text: "the and of" }, "text has no words to search for"],
    [{ text: "x".repeat(8_001) }, "text must be at most 8000 characters (got 8001)"],
    [{ text: "disk", limit: 0 }, "limit must be a whole number from 1 to 50"],
    [{ text: "disk", limit: 1.5 }, "limit must be a whole number from 1 to 50"],
    [{ text: "disk", tags: ["Not Ok"] }, "tags must hold tags"],
    [{ text: "disk", unknownTags: "ignore" }, "unknownTags must be match-none or refuse"],
  ])("refuses %j", (query, message) => {
    expect(() => parseSimilarQuery(query as never)).toThrow(message);
  });
});

describe("parseTags", () => {
  it("names the field it checks", () => {
    expect(() => parseTags(["x y"], "--tag")).toThrow(/^--tag must hold tags/);
  });
});

describe("lessonTextOf", () => {
  it("is the task's name and the payload's strings, depth first", () => {
    expect(lessonTextOf("incident-triage", { title: "api 502s", env: { name: "prod" }, n: 3, list: ["a", "b"] })).toBe(
      "incident triage api 502s prod a b",
    );
  });

  it("stops at 8000 characters", () => {
    expect(lessonTextOf("t", { a: "x".repeat(10_000) })).toHaveLength(8_000);
  });
});

describe("cosine and checkEmbedding", () => {
  it("measures the angle, and is 0 for a zero vector", () => {
    expect(cosine([1, 0], [1, 0])).toBe(1);
    expect(cosine([1, 0], [0, 1])).toBe(0);
    expect(cosine([1, 1], [-1, -1])).toBeCloseTo(-1);
    expect(cosine([0, 0], [1, 1])).toBe(0);
  });

  it.each([
    [[], null, "a list of 1-8192 finite numbers"],
    [[1, Number.NaN], null, "a list of 1-8192 finite numbers"],
    ["1,2", null, "a list of 1-8192 finite numbers"],
    [[1, 2], 3, "returned 2 numbers, the stored lessons have 3"],
  ])("refuses %j (stored length %s)", (value, dimensions, message) => {
    expect(() => checkEmbedding(value, dimensions)).toThrow(message);
  });
});
