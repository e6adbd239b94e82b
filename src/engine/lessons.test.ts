/**
 * Lessons from handlers and through the SDK, on a real store of the test backend: ctx.recordLesson
 * records once however often the handler runs again, links the job and names the task;
 * ctx.similarLessons leaves the job's own lessons out; an embedder ranks instead of full text,
 * and a failing one falls back to it.
 */
import { describe, expect, it } from "vitest";
import type { SimilarLesson } from "../core/lesson.js";
import { TEST_BACKEND, testDatabase } from "../test-support/test-backend.js";
import { waitFor } from "../test-support/wait.js";

const titles = (found: SimilarLesson[]) => found.map((s) => s.lesson.title);

describe(`lessons on ${TEST_BACKEND}`, () => {
  it("ctx.recordLesson records once across retries; ctx.similarLessons finds others' lessons, not the job's own", async () => {
    const overseer = await (await testDatabase("overseer-lessons-")).open();
    await overseer.lessons.record({ title: "disk full on the replica", outcome: "expanded the volume" });
    let runs = 0;
    let seen: string[] = [];
    overseer.defineTask(
      "fix-disk",
      async (_p: { title: string }, ctx) => {
        runs++;
        await ctx.recordLesson({ title: "disk full on the primary", outcome: "freed WAL", tags: ["disk"] });
        seen = titles(await ctx.similarLessons("job"));
        if (runs === 1) throw new Error("the check failed once");
        return "ok";
      },
      { backoff: { type: "fixed", delay: 0 } },
    );
    await overseer.worker({ pollMs: 20 }).start();
    const job = await overseer.enqueue("fix-disk", { title: "disk full" });
    await waitFor("the job", async () => (await overseer.getJob(job.id))?.state === "succeeded", { timeoutMs: 15_000 });
    expect(runs).toBe(2);
    const own = await overseer.lessons.list({ jobId: job.id });
    expect(own).toEqual([
      expect.objectContaining({
        title: "disk full on the primary",
        jobId: job.id,
        createdBy: "fix-disk",
        tags: ["disk"],
      }),
    ]);
    expect(seen).toEqual(["disk full on the replica"]);
    const events = await overseer.readEvents({ jobId: job.id });
    expect(events.filter((e) => e.kind === "lesson.recorded")).toHaveLength(1);
  });

  it("a lesson recorded inside a step that does not run again is not lost, nor recorded twice", async () => {
    const overseer = await (await testDatabase("overseer-lessons-")).open();
    let runs = 0;
    overseer.defineTask(
      "two-lessons",
      async (_p, ctx) => {
        runs++;
        await ctx.step("first", () => ctx.recordLesson({ title: "first lesson", outcome: "a" }));
        if (runs === 1) throw new Error("fails between the two");
        await ctx.recordLesson({ title: "second lesson", outcome: "b" });
        return "ok";
      },
      { backoff: { type: "fixed", delay: 0 } },
    );
    await overseer.worker({ pollMs: 20 }).start();
    const job = await overseer.enqueue("two-lessons");
    await waitFor("the job", async () => (await overseer.getJob(job.id))?.state === "succeeded", { timeoutMs: 15_000 });
    expect((await overseer.lessons.list({ jobId: job.id })).map((l) => l.title).sort()).toEqual([
      "first lesson",
      "second lesson",
    ]);
  });

  it("an embedder ranks by meaning; when it fails at search time, full text ranks instead", async () => {
    // A toy embedder: which of three topics the text is about.
    const topics = [/disk|volume|storage/, /memory|oom/, /deploy|release|rollout/];
    let failing = false;
    const embed = (text: string) => {
      if (failing) throw new Error("the model is down");
      return topics.map((t) => (t.test(text.toLowerCase()) ? 1 : 0));
    };
    const overseer = await (await testDatabase("overseer-lessons-")).open({ lessons: { embed } });
    await overseer.lessons.record({ title: "storage exhausted", outcome: "added capacity" });
    await overseer.lessons.record({ title: "bad release", outcome: "rolled back" });
    const byMeaning = await overseer.lessons.similar({ text: "the volume is at 100%", limit: 1 });
    expect(titles(byMeaning)).toEqual(["storage exhausted"]);
    expect(byMeaning[0]?.reason).toEqual({ terms: [], tags: [], similarity: 1 });
    failing = true;
    expect(titles(await overseer.lessons.similar({ text: "bad release again" }))).toEqual(["bad release"]);
    // Recording needs the vector: refused while the model is down, nothing stored; a key already
    // used needs none, so a retried handler's lesson comes back.
    await expect(overseer.lessons.record({ title: "x", outcome: "y" })).rejects.toThrow("the model is down");
    failing = false;
    const kept = await overseer.lessons.record({ title: "disk again", outcome: "z", key: "k1" });
    failing = true;
    expect(await overseer.lessons.record({ title: "disk again", outcome: "z", key: "k1" })).toEqual({
      lesson: kept.lesson,
      created: false,
    });
    expect(await overseer.lessons.list()).toHaveLength(3);
  });

  it("a query vector of another length than the stored ones (the model changed) ranks by full text", async () => {
    const db = await testDatabase("overseer-lessons-");
    const before = await db.open({ lessons: { embed: () => [1, 0, 0, 0] } });
    await before.lessons.record({ title: "storage exhausted", outcome: "added capacity" });
    await before.lessons.record({ title: "bad release", outcome: "rolled back" });
    const after = await db.open({ lessons: { embed: () => [1, 0] } });
    const found = await after.lessons.similar({ text: "a bad release" });
    expect(titles(found)).toEqual(["bad release"]);
    expect(found[0]?.reason.terms).toEqual(["bad", "release"]);
    await expect(after.lessons.record({ title: "x", outcome: "y" })).rejects.toMatchObject({ code: "INTERNAL_ERROR" });
  });
});
