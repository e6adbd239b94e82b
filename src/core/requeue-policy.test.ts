import { describe, expect, it } from "vitest";
import { type RequeueCandidate, selectRequeues } from "./requeue-policy.js";
import type { Job } from "./types.js";

const NOW = Date.parse("2030-01-10T00:00:00.000Z");
const H = 3_600_000;

function dead(id: string, diedHoursAgo: number, over: Partial<Job> = {}): Job {
  return {
    id,
    task: "t",
    queue: "default",
    state: "dead",
    payload: null,
    result: null,
    priority: 0,
    runAt: "2030-01-01T00:00:00.000Z",
    attempts: 3,
    maxAttempts: 3,
    backoff: { type: "fixed", delayMs: 1_000, jitter: 0 },
    idempotencyKey: null,
    concurrency: null,
    rateLimit: null,
    enqueuedBy: null,
    timeoutMs: null,
    traceContext: null,
    progress: null,
    lastError: { code: "ETIMEDOUT", message: "slow", retryable: true },
    leaseOwner: null,
    leaseExpiresAt: null,
    cancelRequested: false,
    createdAt: "2030-01-01T00:00:00.000Z",
    startedAt: null,
    finishedAt: new Date(NOW - diedHoursAgo * H).toISOString(),
    version: 5,
    ...over,
  };
}

const OPTIONS = { maxRequeues: 3, maxAgeMs: 72 * H, max: 10, now: NOW };
const c = (job: Job, requeues = 0): RequeueCandidate => ({ job, requeues });

describe("selectRequeues", () => {
  it.each([
    ["a recent dead job, never re-queued", c(dead("A", 1)), true, "re-queue 1 of 3: dead for 1h (ETIMEDOUT)"],
    ["re-queued twice: the third and last", c(dead("A", 1), 2), true, "re-queue 3 of 3: dead for 1h (ETIMEDOUT)"],
    ["re-queued three times: left dead", c(dead("A", 1), 3), false, "re-queued 3 times already (max 3)"],
    ["exactly at the max age: still re-queued", c(dead("A", 72)), true, "re-queue 1 of 3: dead for 3d (ETIMEDOUT)"],
    ["older than the max age", c(dead("A", 73)), false, "dead for 3d, longer than the max age 3d"],
    [
      "a permanent error",
      c(dead("A", 1, { lastError: { code: "BAD_INPUT", message: "no", retryable: false } })),
      false,
      "its last error (BAD_INPUT) is permanent: running it again would fail the same way",
    ],
    ["dead without an error", c(dead("A", 2, { lastError: null })), true, "re-queue 1 of 3: dead for 2h"],
    ["not dead (any more)", c(dead("A", 1, { state: "queued" })), false, "not dead (queued)"],
    [
      "dead with no finish time",
      c(dead("A", 1, { finishedAt: null })),
      false,
      "dead with no finish time: its age is unknown",
    ],
  ])("%s", (_name, candidate, requeue, reason) => {
    expect(selectRequeues([candidate], OPTIONS)).toEqual([
      { jobId: "A", task: "t", queue: "default", requeues: candidate.requeues, requeue, reason },
    ]);
  });

  it("takes at most max per pass, oldest death first; the rest say why", () => {
    const decisions = selectRequeues([c(dead("new", 1)), c(dead("old", 50)), c(dead("mid", 10))], {
      ...OPTIONS,
      max: 2,
    });
    expect(decisions.map((d) => [d.jobId, d.requeue])).toEqual([
      ["old", true],
      ["mid", true],
      ["new", false],
    ]);
    expect(decisions[2]?.reason).toBe("over the max of 2 re-queues per pass");
  });

  it("skipped jobs do not use up the max", () => {
    const decisions = selectRequeues([c(dead("spent", 5), 3), c(dead("ok", 1))], { ...OPTIONS, max: 1 });
    expect(decisions.map((d) => [d.jobId, d.requeue])).toEqual([
      ["spent", false],
      ["ok", true],
    ]);
  });

  it("max 0 or maxRequeues 0 re-queue nothing", () => {
    expect(selectRequeues([c(dead("A", 1))], { ...OPTIONS, max: 0 })[0]?.requeue).toBe(false);
    expect(selectRequeues([c(dead("A", 1))], { ...OPTIONS, maxRequeues: 0 })[0]?.requeue).toBe(false);
  });

  it("no candidates, no decisions", () => {
    expect(selectRequeues([], OPTIONS)).toEqual([]);
  });
});
