/**
 * POST /api/v1/signals over real HTTP: a signal wakes the job waiting for it, one nobody waits
 * for is kept, and bad input is refused with the envelope.
 */
import { describe, expect, it } from "vitest";
import { testApi } from "../test-support/http.js";
import { waitFor } from "../test-support/wait.js";

describe("POST /api/v1/signals", () => {
  it("wakes the job waiting for it, or keeps it for a later wait", async () => {
    const api = await testApi();
    api.overseer.defineTask("await-approval", async (doc: { id: string }, ctx) => {
      const verdict = await ctx.waitForEvent<{ ok: boolean }>("review.done", {
        match: { docId: doc.id },
        timeout: "1h",
      });
      return { ok: verdict?.ok ?? null };
    });
    await api.overseer.worker({ pollMs: 20 }).start();
    const job = await api.overseer.enqueue("await-approval", { id: "d-1" });
    await waitFor("the job to park", async () => (await api.overseer.getJob(job.id))?.state === "scheduled");

    const send = (body: unknown, token = api.tokens.operator) =>
      api.request("POST", "/api/v1/signals", { token, body });
    const kept = await send({ name: "review.done", payload: { docId: "d-2", ok: false } });
    expect(kept.status).toBe(202);
    expect(kept.body).toMatchObject({ deliveredTo: null, signal: { name: "review.done", consumedBy: null } });
    const woke = await send({ name: "review.done", payload: { docId: "d-1", ok: true } });
    expect(woke.body).toMatchObject({ deliveredTo: job.id, signal: { consumedBy: { jobId: job.id } } });
    await waitFor("the job to finish", async () => (await api.overseer.getJob(job.id))?.state === "succeeded");
    expect((await api.overseer.getJob(job.id))?.result).toEqual({ ok: true });

    // The kept one is taken by the next job that waits for it, at once.
    const later = await api.overseer.enqueue("await-approval", { id: "d-2" });
    await waitFor("the second job to finish", async () => (await api.overseer.getJob(later.id))?.state === "succeeded");
    expect((await api.overseer.getJob(later.id))?.result).toEqual({ ok: false });
  });

  it("refuses bad input and callers without operator scope", async () => {
    const api = await testApi();
    const send = (body: unknown, token = api.tokens.operator) =>
      api.request("POST", "/api/v1/signals", { token, body });
    expect((await send({})).status).toBe(400);
    expect((await send({ name: "" })).status).toBe(400);
    expect((await send({ name: "x", extra: 1 })).status).toBe(400);
    expect((await send({ name: "x".repeat(201) })).status).toBe(400);
    const viewer = await send({ name: "x" }, api.tokens.viewer);
    expect(viewer.status).toBe(403);
    expect(viewer.body.error.code).toBe("FORBIDDEN");
  });
});
