/** GET /api/v1/jobs/:id/retry-preview: the retry policy's decision before anyone clicks Retry. */
import { describe, expect, it } from "vitest";
import type { Overseer } from "../sdk/overseer.js";
import { testApi } from "../test-support/http.js";
import { waitFor } from "../test-support/wait.js";

async function settle(o: Overseer, id: string, state: string): Promise<void> {
  const worker = o.worker({ concurrency: 1, pollMs: 50 });
  await worker.start();
  try {
    await waitFor(`job ${id} to be ${state}`, async () => (await o.getJob(id))?.state === state, { timeoutMs: 5_000 });
  } finally {
    await worker.stop();
  }
}

describe("GET /api/v1/jobs/:id/retry-preview", () => {
  it("shows an automatic retry, a permanent error and a spent budget under the task's policy", async () => {
    const api = await testApi();
    const o = api.overseer;
    o.defineTask(
      "call",
      (payload: { code: string }) => {
        throw Object.assign(new Error(`failed with ${payload.code}`), { code: payload.code });
      },
      { maxAttempts: 2, backoff: { type: "fixed", delay: "30s" }, retry: { permanentCodes: ["NUMBER_INVALID"] } },
    );
    const waiting = await o.enqueue("call", { code: "BUSY" });
    await settle(o, waiting.id, "scheduled");
    const res = await api.request("GET", `/api/v1/jobs/${waiting.id}/retry-preview`, { token: api.tokens.viewer });
    expect(res.status).toBe(200);
    const runAt = (await o.getJob(waiting.id))?.runAt;
    expect(res.body).toEqual({
      job: waiting.id,
      state: "scheduled",
      attempts: 1,
      maxAttempts: 2,
      policy: "task",
      classification: { errorClass: "transient", rule: "defaultClass" },
      decision: { retry: true, reason: "auto_retry", delayMs: 30_000 },
      retryAt: runAt,
      nextDelaysMs: [],
      manualRetry: {
        allowed: false,
        reason: "not_finished",
        message: "Only dead or cancelled jobs can be retried by hand; this one is scheduled.",
      },
      summary: `will retry automatically at ${runAt} (auto_retry), attempt 2 of 2`,
    });

    const invalid = await o.enqueue("call", { code: "NUMBER_INVALID" });
    await settle(o, invalid.id, "dead");
    const dead = await api.request("GET", `/api/v1/jobs/${invalid.id}/retry-preview`, { token: api.tokens.viewer });
    expect(dead.body).toMatchObject({
      state: "dead",
      classification: { errorClass: "permanent", rule: "permanentCodes" },
      decision: { retry: false, reason: "permanent_error" },
      retryAt: null,
      manualRetry: { allowed: true, reason: "fresh_attempts" },
      summary: "dead: permanent_error (the last error is permanent)",
    });
    expect(dead.body.decision).not.toHaveProperty("delayMs");

    const spent = await o.enqueue("call", { code: "BUSY" }, { maxAttempts: 1 });
    await settle(o, spent.id, "dead");
    const max = await api.request("GET", `/api/v1/jobs/${spent.id}/retry-preview`, { token: api.tokens.viewer });
    expect(max.body).toMatchObject({
      decision: { retry: false, reason: "max_attempts_exceeded" },
      manualRetry: { allowed: true, message: "Retry queues the job again with a fresh set of 1 attempt." },
    });
  });

  it("says when the default policy decided, and when there is nothing to preview", async () => {
    const api = await testApi();
    const job = await api.overseer.enqueue("not-defined-here");
    const res = await api.request("GET", `/api/v1/jobs/${job.id}/retry-preview`, { token: api.tokens.viewer });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      policy: "default",
      decision: null,
      classification: null,
      summary: "queued: no failure to decide on yet",
      manualRetry: { allowed: false, reason: "not_finished" },
    });
  });

  it("404s for an unknown job", async () => {
    const api = await testApi();
    const missing = await api.request("GET", "/api/v1/jobs/01J00000000000000000000000/retry-preview", {
      token: api.tokens.viewer,
    });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("JOB_NOT_FOUND");
  });
});
