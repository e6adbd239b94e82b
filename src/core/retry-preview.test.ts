import { describe, expect, it } from "vitest";
import { resolveRetryPolicy } from "./retry-policy.js";
import { previewRetry } from "./retry-preview.js";
import type { Job, JobError } from "./types.js";

const error = (code: string, retryable = true): JobError => ({ code, message: "boom", retryable });

function job(over: Partial<Job>): Job {
  return {
    id: "J1",
    task: "t",
    queue: "default",
    state: "queued",
    payload: null,
    result: null,
    priority: 0,
    runAt: "2030-01-01T00:00:30.000Z",
    attempts: 0,
    maxAttempts: 3,
    backoff: { type: "fixed", delayMs: 30_000, jitter: 0 },
    idempotencyKey: null,
    concurrency: null,
    rateLimit: null,
    enqueuedBy: null,
    timeoutMs: null,
    traceContext: null,
    progress: null,
    lastError: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    cancelRequested: false,
    createdAt: "2030-01-01T00:00:00.000Z",
    startedAt: null,
    finishedAt: null,
    version: 1,
    ...over,
  };
}

const preview = (j: Job, retry?: Parameters<typeof resolveRetryPolicy>[1]) =>
  previewRetry(j, resolveRetryPolicy(j, retry), retry ? "task" : "default");

describe("previewRetry", () => {
  it("a retry schedule: the decided step, then the steps still ahead should the attempts fail", () => {
    const schedule = { type: "schedule" as const, delaysMs: [60_000, 300_000, 900_000], jitter: 0 };
    const failedAttempt = (attempts: number) =>
      preview(job({ state: "scheduled", attempts, maxAttempts: 4, backoff: schedule, lastError: error("NO_ANSWER") }));
    expect(failedAttempt(1)).toMatchObject({ decision: { delayMs: 60_000 }, nextDelaysMs: [300_000, 900_000] });
    expect(failedAttempt(2)).toMatchObject({ decision: { delayMs: 300_000 }, nextDelaysMs: [900_000] });
    expect(failedAttempt(3)).toMatchObject({ decision: { delayMs: 900_000 }, nextDelaysMs: [] });
    // Before any attempt: the step after each of attempts 1 to 5, the last repeated past the list.
    const fresh = preview(job({ maxAttempts: 6, backoff: schedule }));
    expect(fresh.nextDelaysMs).toEqual([60_000, 300_000, 900_000, 900_000, 900_000]);
  });

  it("lists at most 100 delays ahead, whatever maxAttempts is", () => {
    expect(preview(job({ maxAttempts: 1_000 })).nextDelaysMs).toHaveLength(100);
    expect(preview(job({ maxAttempts: 1 })).nextDelaysMs).toEqual([]);
  });

  it("a job waiting for its automatic retry: auto_retry, when, and no manual retry", () => {
    const p = preview(job({ state: "scheduled", attempts: 1, lastError: error("ETIMEDOUT") }));
    expect(p).toMatchObject({
      policy: "default",
      decision: { retry: true, reason: "auto_retry", delayMs: 30_000 },
      retryAt: "2030-01-01T00:00:30.000Z",
      classification: { errorClass: "transient", rule: "defaultClass" },
      manualRetry: { allowed: false, reason: "not_finished" },
    });
    expect(p.summary).toBe("will retry automatically at 2030-01-01T00:00:30.000Z (auto_retry), attempt 2 of 3");
  });

  it.each([
    [
      { attempts: 3, lastError: error("E") },
      undefined,
      "max_attempts_exceeded",
      "dead: max_attempts_exceeded (all 3 attempts are used)",
    ],
    [
      { attempts: 1, lastError: error("E", false) },
      undefined,
      "permanent_error",
      "dead: permanent_error (the last error is permanent)",
    ],
    [
      { attempts: 1, lastError: error("CARD") },
      { permanentCodes: ["CARD"] },
      "permanent_error",
      "dead: permanent_error (the last error is permanent)",
    ],
    [
      { attempts: 1, lastError: error("E") },
      { enabled: false },
      "retry_disabled",
      "dead: retry_disabled (retries are disabled for this task)",
    ],
  ] as const)("a dead job %o under %o: %s, and Retry starts fresh attempts", (over, retry, reason, summary) => {
    const p = preview(job({ state: "dead", ...over }), retry);
    expect(p.decision).toEqual({ retry: false, reason });
    expect(p.summary).toBe(summary);
    expect(p.retryAt).toBeNull();
    expect(p.manualRetry).toEqual({
      allowed: true,
      reason: "fresh_attempts",
      message: "Retry queues the job again with a fresh set of 3 attempts.",
    });
  });

  it("a scheduled retry that the current policy would no longer make says both", () => {
    const p = preview(job({ state: "scheduled", attempts: 1, lastError: error("CARD") }), { permanentCodes: ["CARD"] });
    expect(p.decision).toEqual({ retry: false, reason: "permanent_error" });
    expect(p.summary).toMatch(/^scheduled for .* would be final: permanent_error$/);
  });

  it.each([
    [
      { state: "running", attempts: 2, lastError: error("E") },
      "running: nothing to preview until this attempt ends",
      false,
      "not_finished",
    ],
    [{ state: "succeeded", attempts: 2, lastError: error("E") }, "succeeded: nothing to retry", false, "succeeded"],
    [
      { state: "cancelled", attempts: 1, lastError: null },
      "cancelled: not a failure, so no automatic retry",
      true,
      "fresh_attempts",
    ],
    [{ state: "queued", attempts: 0, lastError: null }, "queued: no failure to decide on yet", false, "not_finished"],
    [
      { state: "scheduled", attempts: 0, lastError: null },
      "scheduled: no failure to decide on yet",
      false,
      "not_finished",
    ],
  ] as const)("%o: no decision", (over, summary, allowed, reason) => {
    const p = preview(job(over));
    expect(p.decision).toBeNull();
    expect(p.summary).toBe(summary);
    expect(p.manualRetry).toMatchObject({ allowed, reason });
  });

  it("says a task's own policy decided", () => {
    expect(preview(job({}), { enabled: true }).policy).toBe("task");
  });
});
