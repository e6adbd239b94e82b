/**
 * The lessons part of the store conformance suite (see suite.ts): recording with tags and an
 * idempotency key, listing newest first, deleting (and a discarded job's lessons going with it),
 * and the ranking of similar lessons by each database's full-text search: a dozen lessons with
 * near misses, where the one that fits must come first on every backend, with the words it
 * matched. Only the `Store` interface is used.
 */
import { describe, expect } from "vitest";
import { newId } from "../../core/ids.js";
import { buildNewLesson, type LessonInput, parseSimilarQuery, type SimilarQuery } from "../../core/lesson.js";
import type { ConformanceTest } from "./runs.js";
import { type Ctx, rejectsWith } from "./suite.js";

const record = (ctx: Ctx, input: LessonInput, embedding: number[] | null = null) =>
  ctx.store.recordLesson(buildNewLesson(input, newId(), embedding));

const similar = (ctx: Ctx, query: SimilarQuery) => ctx.store.similarLessons(parseSimilarQuery(query));

/** Three resolved incidents and the near misses around them: same words in other senses, other services, other causes. */
const CORPUS: LessonInput[] = [
  {
    title: "checkout api returns 502 after deploy",
    body: "Error rate jumped right after the 1.8.0 rollout. Logs showed the new pods crash-looping on a missing env var.",
    outcome: "resolved by rolling back the checkout deployment to 1.7.3",
    tags: ["service:checkout", "deploy"],
  },
  {
    title: "postgres disk full on the primary",
    body: "WAL archiving stalled; pg_wal grew until the volume filled. Freed space by fixing the archive command.",
    outcome: "resolved by repairing archive_command and expanding the volume",
    tags: ["service:postgres", "disk"],
  },
  {
    title: "search pods OOMKilled under load",
    body: "Memory limit 512Mi too low for the new index; pods restarted every few minutes during peak traffic.",
    outcome: "resolved by raising the memory limit to 1Gi",
    tags: ["service:search", "oom"],
  },
  {
    title: "certificate expired on the public gateway",
    body: "Browsers refused TLS; cert-manager renewal had failed silently for two weeks.",
    outcome: "resolved by renewing the certificate and alerting on expiry",
    tags: ["service:gateway", "tls"],
  },
  {
    title: "slow checkout page",
    body: "Frontend bundle too large; no errors, no deploy involved.",
    outcome: "resolved by splitting the bundle",
    tags: ["service:web"],
  },
  {
    title: "deploy pipeline stuck",
    body: "CI runners out of disk; no production impact.",
    outcome: "resolved by cleaning the runner cache",
    tags: ["ci"],
  },
  {
    title: "redis latency spikes",
    body: "A KEYS command in a cron job blocked the server.",
    outcome: "resolved by replacing KEYS with SCAN",
    tags: ["service:redis"],
  },
  {
    title: "api rate limits hit by a partner",
    body: "A partner retried in a tight loop and exhausted its quota.",
    outcome: "escalated to the partner team",
    tags: ["partner"],
  },
  {
    title: "dns resolution failures in one zone",
    body: "CoreDNS pods scheduled on a single node that lost network.",
    outcome: "resolved by spreading coredns across nodes",
    tags: ["dns"],
  },
  {
    title: "queue backlog on the mailer",
    body: "SMTP provider throttled us after a campaign.",
    outcome: "waited it out; escalated to marketing",
    tags: ["service:mailer"],
  },
  {
    title: "billing job double-charged customers",
    body: "A retried job was not idempotent.",
    outcome: "resolved by adding an idempotency key",
    tags: ["service:billing"],
  },
  {
    title: "log volume doubled",
    body: "Debug logging left on after an incident.",
    outcome: "resolved by turning debug logging off",
    tags: ["logging"],
  },
];

export function runLessonConformance(test: ConformanceTest): void {
  describe("lessons", () => {
    test("recordLesson stores a lesson with its tags and source, once per key", async (ctx) => {
      const job = await ctx.addSucceeded();
      const input: LessonInput = {
        title: "api 502s",
        outcome: "resolved by rollback",
        tags: ["Service:API", "deploy", "deploy"],
        jobId: job.id,
        key: `job:${job.id}:lesson:1`,
        createdBy: "triage",
      };
      const first = await record(ctx, input);
      expect(first).toEqual({
        id: first.id,
        title: "api 502s",
        body: "",
        outcome: "resolved by rollback",
        tags: ["service:api", "deploy"],
        jobId: job.id,
        runId: null,
        createdBy: "triage",
        createdAt: new Date(ctx.clock.now).toISOString(),
      });
      // A retried handler records it again under the same key: the first one comes back.
      ctx.clock.advance(1_000);
      expect(await record(ctx, { ...input, title: "changed" })).toEqual(first);
      expect(await ctx.store.listLessons({})).toEqual([first]);
      expect(await ctx.store.getLesson(first.id)).toEqual(first);
      const kinds = (await ctx.store.readEvents({ jobId: job.id })).map((e) => e.kind);
      expect(kinds.filter((k) => k === "lesson.recorded")).toHaveLength(1);
    });

    test("recordLesson refuses a job or run that does not exist", async (ctx) => {
      await rejectsWith(() => record(ctx, { title: "t", outcome: "o", jobId: "nope" }), "JOB_NOT_FOUND");
      await rejectsWith(() => record(ctx, { title: "t", outcome: "o", runId: "nope" }), "RUN_NOT_FOUND");
      expect(await ctx.store.listLessons({})).toEqual([]);
    });

    test("listLessons is newest first, filters by tag and job, and pages by id", async (ctx) => {
      const job = await ctx.addSucceeded();
      const made = [];
      for (let i = 0; i < 5; i++) {
        made.push(
          await record(ctx, {
            title: `l${i}`,
            outcome: "o",
            tags: i % 2 ? ["odd"] : [],
            jobId: i === 4 ? job.id : null,
          }),
        );
        ctx.clock.advance(10);
      }
      const ids = (ls: Array<{ title: string }>) => ls.map((l) => l.title);
      expect(ids(await ctx.store.listLessons({}))).toEqual(["l4", "l3", "l2", "l1", "l0"]);
      expect(ids(await ctx.store.listLessons({ tag: "odd" }))).toEqual(["l3", "l1"]);
      expect(ids(await ctx.store.listLessons({ jobId: job.id }))).toEqual(["l4"]);
      expect(ids(await ctx.store.listLessons({ limit: 2, afterId: made[3]?.id }))).toEqual(["l2", "l1"]);
      expect(await ctx.store.listLessons({ afterId: "gone" })).toEqual([]);
    });

    test("deleteLesson removes it from lists and searches; discarding a job deletes its lessons", async (ctx) => {
      const job = await ctx.addSucceeded();
      const kept = await record(ctx, { title: "disk full on primary", outcome: "resolved", tags: ["disk"] });
      const own = await record(ctx, {
        title: "disk full on replica",
        outcome: "resolved",
        tags: ["disk"],
        jobId: job.id,
      });
      expect(await ctx.store.deleteLesson(kept.id)).toBe(true);
      expect(await ctx.store.deleteLesson(kept.id)).toBe(false);
      expect((await similar(ctx, { text: "disk full" })).map((s) => s.lesson.id)).toEqual([own.id]);
      await ctx.store.discardJob(job.id);
      expect(await ctx.store.getLesson(own.id)).toBeNull();
      expect(await ctx.store.listLessons({})).toEqual([]);
      // Their tags went with them: no lesson carries "disk" any more.
      expect(await similar(ctx, { text: "disk full", tags: ["disk"] })).toEqual([]);
      await rejectsWith(
        () => similar(ctx, { text: "disk full", tags: ["disk"], unknownTags: "refuse" }),
        "INVALID_ARGUMENT",
      );
      expect(await similar(ctx, { text: "disk full" })).toEqual([]);
    });

    test("similarLessons ranks the lesson that fits first among a dozen, with the words it matched", async (ctx) => {
      for (const lesson of CORPUS) {
        await record(ctx, lesson);
        ctx.clock.advance(1_000);
      }
      const top = async (query: SimilarQuery) => (await similar(ctx, query)).map((s) => s.lesson.title);
      expect((await top({ text: "Checkout API 502 errors right after deploying 1.8.1", limit: 3 }))[0]).toBe(
        "checkout api returns 502 after deploy",
      );
      expect((await top({ text: "primary database volume is full, postgres refusing writes" }))[0]).toBe(
        "postgres disk full on the primary",
      );
      expect((await top({ text: "search service pods keep restarting, OOMKilled" }))[0]).toBe(
        "search pods OOMKilled under load",
      );
      const [best] = await similar(ctx, { text: "pods restarting because of memory" });
      expect(best?.lesson.title).toBe("search pods OOMKilled under load");
      // Stemmed: "restarting" found "restarted"; the reason shows the lesson's own words.
      expect(best?.reason.terms).toEqual(expect.arrayContaining(["pods", "memory", "restarted"]));
      expect(best?.score).toBeGreaterThan(0);
      // Nothing in common: nothing found.
      expect(await similar(ctx, { text: "kafka partition rebalancing" })).toEqual([]);
    });

    test("similarLessons finds words joined by punctuation, quotes and dashes, on both backends", async (ctx) => {
      const lesson = await record(ctx, {
        title: "payments api errors",
        body: "Ran \u201ckubectl rollout undo\u201d \u2014 see deployment/payments-api and docs.example.com",
        outcome: "fixed",
        tags: ["deploy.rollback"],
      });
      await record(ctx, { title: "unrelated", outcome: "nothing in common" });
      const [found] = await similar(ctx, { text: "rollback kubectl undo example" });
      expect(found?.lesson.id).toBe(lesson.id);
      expect(found?.reason.terms).toEqual(expect.arrayContaining(["rollback", "kubectl", "undo", "example"]));
    });

    test("similarLessons filters by tags (all of them), leaves out the asking job, and refuses unknown tags if asked", async (ctx) => {
      const job = await ctx.addSucceeded();
      await record(ctx, { title: "api errors after deploy", outcome: "rolled back", tags: ["service:api", "deploy"] });
      await record(ctx, { title: "api errors after config change", outcome: "reverted", tags: ["service:api"] });
      await record(ctx, { title: "api errors again", outcome: "same fix", tags: ["service:api"], jobId: job.id });
      const titles = async (query: SimilarQuery) => (await similar(ctx, query)).map((s) => s.lesson.title).sort();
      expect(await titles({ text: "api errors", tags: ["service:api", "deploy"] })).toEqual([
        "api errors after deploy",
      ]);
      const tagged = await similar(ctx, { text: "api errors", tags: ["deploy"] });
      expect(tagged[0]?.reason.tags).toEqual(["deploy"]);
      expect(await titles({ text: "api errors", excludeJobId: job.id })).toEqual([
        "api errors after config change",
        "api errors after deploy",
      ]);
      expect(await similar(ctx, { text: "api errors", tags: ["service:api", "deplyo"] })).toEqual([]);
      const err = await rejectsWith(
        () => similar(ctx, { text: "api errors", tags: ["deplyo"], unknownTags: "refuse" }),
        "INVALID_ARGUMENT",
      );
      expect(err.message).toBe('no lesson has the tag "deplyo"; tags in use like it: deploy');
      expect(err.details).toMatchObject({ field: "tags", tag: "deplyo" });
    });

    test("prune deletes lessons recorded before maxAgeMs, and beyond maxCount, archiving them first", async (ctx) => {
      const old = await record(ctx, { title: "old", outcome: "o", tags: ["t"] });
      ctx.clock.advance(10 * 86_400_000);
      const mid = await record(ctx, { title: "mid", outcome: "o", tags: ["t"] });
      ctx.clock.advance(1_000);
      const fresh = await record(ctx, { title: "fresh", outcome: "o" });
      const archived: string[] = [];
      const result = await ctx.store.prune(
        { jobs: {}, lessons: { maxAgeMs: 86_400_000 } },
        { archive: (b) => void archived.push(...b.lessons.map((l) => l.title)) },
      );
      expect(result.lessons).toBe(1);
      expect(archived).toEqual(["old"]);
      expect(await ctx.store.getLesson(old.id)).toBeNull();
      expect((await ctx.store.prune({ jobs: {}, lessons: { maxCount: 1 } }, { dryRun: true })).lessons).toBe(1);
      expect((await ctx.store.prune({ jobs: {}, lessons: { maxCount: 1 } })).lessons).toBe(1);
      expect((await ctx.store.listLessons({})).map((l) => l.id)).toEqual([fresh.id]);
      expect(await ctx.store.getLesson(mid.id)).toBeNull();
      // Its tags went with it: no lesson has "t" any more.
      await rejectsWith(() => similar(ctx, { text: "mid", tags: ["t"], unknownTags: "refuse" }), "INVALID_ARGUMENT");
    });

    test("lessonsByEmbedding ranks by cosine similarity, and says how long the vectors are", async (ctx) => {
      expect(await ctx.store.lessonEmbeddingDimensions()).toBeNull();
      await record(ctx, { title: "north", outcome: "o" }, [1, 0, 0]);
      await record(ctx, { title: "east", outcome: "o" }, [0, 1, 0]);
      await record(ctx, { title: "no vector", outcome: "o" });
      await record(ctx, { title: "north-east", outcome: "o" }, [1, 1, 0]);
      expect(await ctx.store.lessonEmbeddingDimensions()).toBe(3);
      const ranked = await ctx.store.lessonsByEmbedding(
        parseSimilarQuery({ text: "anything", limit: 2 }),
        [1, 0.2, 0],
        100,
      );
      expect(ranked.map((s) => s.lesson.title)).toEqual(["north", "north-east"]);
      expect(ranked[0]?.reason.similarity).toBeCloseTo(1 / Math.sqrt(1.04), 6);
    });
  });
}
