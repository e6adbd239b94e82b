/**
 * /api/v1/lessons over real HTTP, on each backend: recording (idempotent by key), listing,
 * reading, deleting, and finding similar lessons by text or by job, through GET and POST; after
 * three resolved incidents a new similar one finds its lesson first; bad input gets 400s that
 * say what is wrong.
 */
import { describe, expect, it } from "vitest";
import { testApi } from "../test-support/http.js";

const INCIDENTS = [
  {
    title: "checkout api returns 502 after deploy",
    body: "New pods crash-looped on a missing env var.",
    outcome: "resolved by rolling back the deployment",
    tags: ["service:checkout", "deploy"],
  },
  {
    title: "postgres disk full on the primary",
    body: "WAL archiving stalled until the volume filled.",
    outcome: "resolved by fixing archive_command",
    tags: ["service:postgres", "disk"],
  },
  {
    title: "search pods OOMKilled under load",
    body: "Memory limit too low; pods restarted during peak traffic.",
    outcome: "resolved by raising the memory limit",
    tags: ["service:search", "oom"],
  },
];

describe("/api/v1/lessons", () => {
  it("records lessons, finds the one like a new incident first by text or by job, and deletes", async () => {
    const t = await testApi();
    const op = { token: t.tokens.operator };
    const ids: string[] = [];
    for (const lesson of INCIDENTS) {
      const created = await t.request("POST", "/api/v1/lessons", { ...op, body: lesson });
      expect(created.status).toBe(201);
      expect(created.body.lesson).toMatchObject({ ...lesson, createdBy: "test-operator", jobId: null });
      expect(created.headers.get("location")).toBe(`/api/v1/lessons/${created.body.lesson.id}`);
      ids.push(created.body.lesson.id);
    }
    const viewer = { token: t.tokens.viewer };
    const text = "pods on search restarting, memory exhausted";
    const found = await t.request("GET", `/api/v1/lessons/similar?text=${encodeURIComponent(text)}&limit=2`, viewer);
    expect(found.status).toBe(200);
    expect(found.body.items[0]).toMatchObject({
      lesson: { id: ids[2], title: "search pods OOMKilled under load" },
      reason: { tags: [] },
    });
    expect(found.body.items[0].reason.terms).toEqual(expect.arrayContaining(["search", "pods", "memory"]));
    const posted = await t.request("POST", "/api/v1/lessons/similar", { ...viewer, body: { text, tags: ["oom"] } });
    expect(posted.body.items.map((i: { lesson: { id: string } }) => i.lesson.id)).toEqual([ids[2]]);

    // Lessons like a job: its task and payload are the query.
    t.overseer.defineTask("triage", async () => null);
    const job = await t.overseer.enqueue("triage", { title: "checkout 502s after the 2.0 deploy" });
    const like = await t.request("GET", `/api/v1/lessons/similar?jobId=${job.id}`, viewer);
    expect(like.body.items[0].lesson.id).toBe(ids[0]);

    const listed = await t.request("GET", "/api/v1/lessons?tag=disk", viewer);
    expect(listed.body).toEqual({ items: [expect.objectContaining({ id: ids[1] })], nextCursor: null });
    const page = await t.request("GET", "/api/v1/lessons?limit=2", viewer);
    expect(page.body.items.map((l: { id: string }) => l.id)).toEqual([ids[2], ids[1]]);
    const next = await t.request("GET", `/api/v1/lessons?limit=2&cursor=${page.body.nextCursor}`, viewer);
    expect(next.body).toEqual({ items: [expect.objectContaining({ id: ids[0] })], nextCursor: null });

    expect((await t.request("POST", `/api/v1/lessons/${ids[1]}/delete`, viewer)).status).toBe(403);
    expect((await t.request("POST", `/api/v1/lessons/${ids[1]}/delete`, op)).status).toBe(204);
    const gone = await t.request("GET", `/api/v1/lessons/${ids[1]}`, viewer);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe("LESSON_NOT_FOUND");
    expect((await t.request("POST", `/api/v1/lessons/${ids[1]}/delete`, op)).status).toBe(404);
  });

  it("a key makes recording idempotent: the second answers 200 with the first lesson", async () => {
    const t = await testApi();
    const op = { token: t.tokens.operator };
    const body = { title: "t", outcome: "o", key: "incident:42" };
    const first = await t.request("POST", "/api/v1/lessons", { ...op, body });
    const second = await t.request("POST", "/api/v1/lessons", { ...op, body: { ...body, title: "other" } });
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.body.lesson).toEqual(first.body.lesson);
  });

  it.each([
    ["GET", "/api/v1/lessons/similar?text=", undefined, "text is required"],
    ["GET", "/api/v1/lessons/similar?text=%20the%20and%20", undefined, "text has no words to search for"],
    ["POST", "/api/v1/lessons/similar", { text: "x".repeat(1024 * 1024) }, "text must be at most 8000 characters"],
    ["POST", "/api/v1/lessons/similar", { text: "disk", tags: ["dsik"] }, 'no lesson has the tag "dsik"'],
    ["GET", "/api/v1/lessons/similar?text=disk&tags=dsik", undefined, 'no lesson has the tag "dsik"'],
    ["GET", "/api/v1/lessons/similar?text=disk&tags=Bad%20Tag", undefined, "tags must hold tags of 1-64"],
    ["GET", "/api/v1/lessons/similar?text=disk&limit=99", undefined, "limit must be a whole number from 1 to 50"],
    ["GET", "/api/v1/lessons/similar?text=disk&jobId=x", undefined, "give text or jobId, not both"],
    ["GET", "/api/v1/lessons/similar?text=disk&tag=disk", undefined, 'querystring: unknown field "tag"'],
    ["POST", "/api/v1/lessons", { title: "", outcome: "o" }, "title is required and may not be blank"],
    ["POST", "/api/v1/lessons", { title: "t", outcome: "o", body: "x".repeat(16_001) }, "body must be at most 16000"],
    ["POST", "/api/v1/lessons", { title: "a\nb", outcome: "o" }, "title must be one line"],
    ["POST", "/api/v1/lessons", { title: "t", outcome: "o", tags: ["ok", "not ok"] }, "tags must hold tags"],
  ])("%s %s answers 400 naming what is wrong", async (method, path, body, message) => {
    const t = await testApi();
    await t.request("POST", "/api/v1/lessons", {
      token: t.tokens.operator,
      body: { title: "disk full", outcome: "resolved", tags: ["disk"] },
    });
    const answer = await t.request(method, path, { token: t.tokens.operator, body });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("INVALID_ARGUMENT");
    expect(answer.body.error.message).toContain(message);
  });

  it("a lesson naming a job that does not exist is refused with 404, and nothing is stored", async () => {
    const t = await testApi();
    const answer = await t.request("POST", "/api/v1/lessons", {
      token: t.tokens.operator,
      body: { title: "t", outcome: "o", jobId: "01NOPE" },
    });
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe("JOB_NOT_FOUND");
    expect((await t.request("GET", "/api/v1/lessons", { token: t.tokens.viewer })).body.items).toEqual([]);
  });
});
