/** The worker applies the task's retry policy (core/retry-policy.ts) when an attempt fails. */
import { describe, expect, it } from "vitest";
import type { Overseer } from "../sdk/overseer.js";
import { tempDatabase } from "../test-support/temp-database.js";
import { waitFor } from "../test-support/wait.js";
import type { WorkerOptions } from "./worker.js";

const FAST: WorkerOptions = {
  leaseMs: 1_000,
  heartbeatMs: 200,
  maintenanceMs: 100,
  pollMs: 50,
  shutdownTimeoutMs: 1_000,
};

class HttpError extends Error {
  override name = "HttpError";
  constructor(readonly code: string) {
    super(`http ${code}`);
  }
}

async function runUntil(overseer: Overseer, id: string, state: string) {
  const worker = overseer.worker(FAST);
  await worker.start();
  try {
    await waitFor(`job ${id} to be ${state}`, async () => (await overseer.getJob(id))?.state === state, {
      timeoutMs: 5_000,
    });
  } finally {
    await worker.stop();
  }
  const dead = (await overseer.readEvents({ jobId: id })).find((e) => e.kind === "job.dead");
  return { job: await overseer.getJob(id), deadData: dead?.data };
}

describe("the worker with a task's retry policy", () => {
  it("sends a permanent code to dead on the first attempt", async () => {
    const overseer = await tempDatabase().open();
    let calls = 0;
    overseer.defineTask(
      "charge",
      () => {
        calls++;
        throw new HttpError("HTTP_402");
      },
      { maxAttempts: 5, backoff: { type: "fixed", delay: 0 }, retry: { permanentCodes: ["HTTP_4*"] } },
    );
    const job = await overseer.enqueue("charge");
    const { job: after, deadData } = await runUntil(overseer, job.id, "dead");
    expect(calls).toBe(1);
    expect(after?.lastError).toMatchObject({ code: "HTTP_402", type: "HttpError", retryable: true });
    expect(deadData).toEqual({ attempt: 1, reason: "permanent_error" });
  });

  it("retries a transient code carved out of a permanent type, until the attempts are used", async () => {
    const overseer = await tempDatabase().open();
    let calls = 0;
    overseer.defineTask(
      "fetch",
      () => {
        calls++;
        throw new HttpError("HTTP_503");
      },
      {
        maxAttempts: 3,
        backoff: { type: "fixed", delay: 0 },
        retry: { permanentTypes: ["HttpError"], transientCodes: ["HTTP_503"] },
      },
    );
    const job = await overseer.enqueue("fetch");
    const { deadData } = await runUntil(overseer, job.id, "dead");
    expect(calls).toBe(3);
    expect(deadData).toEqual({ attempt: 3, reason: "max_attempts_exceeded" });
  });

  it("with retries disabled, the first failure is final: retry_disabled", async () => {
    const overseer = await tempDatabase().open();
    overseer.defineTask(
      "once",
      () => {
        throw new Error("flaky");
      },
      { maxAttempts: 5, retry: { enabled: false } },
    );
    const job = await overseer.enqueue("once");
    const { job: after, deadData } = await runUntil(overseer, job.id, "dead");
    expect(after?.attempts).toBe(1);
    expect(deadData).toEqual({ attempt: 1, reason: "retry_disabled" });
  });

  it("retries a sure failure and stops at an unsure one (low_confidence), keeping its confidence", async () => {
    const overseer = await tempDatabase().open();
    let calls = 0;
    overseer.defineTask(
      "investigate",
      () => {
        calls++;
        throw Object.assign(new Error(calls === 1 ? "logs not ready" : "cause unclear"), {
          confidence: calls === 1 ? 0.9 : 0.3,
        });
      },
      { maxAttempts: 5, backoff: { type: "fixed", delay: 0 }, retry: { minConfidence: 0.5 } },
    );
    const job = await overseer.enqueue("investigate");
    const { job: after, deadData } = await runUntil(overseer, job.id, "dead");
    expect(after).toMatchObject({ attempts: 2, lastError: { message: "cause unclear", confidence: 0.3 } });
    expect(deadData).toEqual({ attempt: 2, reason: "low_confidence" });
    expect((await overseer.retryPreview(job.id)).summary).toBe(
      "dead: low_confidence (the attempt's confidence was below the task's floor of 0.5)",
    );
  });

  it("with defaultClass permanent, only listed errors retry", async () => {
    const overseer = await tempDatabase().open();
    let calls = 0;
    overseer.defineTask(
      "strict",
      () => {
        calls++;
        throw Object.assign(new Error(calls === 1 ? "timeout" : "other"), {
          code: calls === 1 ? "ETIMEDOUT" : "EOTHER",
        });
      },
      {
        maxAttempts: 5,
        backoff: { type: "fixed", delay: 0 },
        retry: { defaultClass: "permanent", transientCodes: ["ETIMEDOUT"] },
      },
    );
    const job = await overseer.enqueue("strict");
    const { deadData } = await runUntil(overseer, job.id, "dead");
    expect(calls).toBe(2);
    expect(deadData).toEqual({ attempt: 2, reason: "permanent_error" });
  });

  it("defineTask refuses an invalid retry option, naming the task and field", async () => {
    const overseer = await tempDatabase().open();
    expect(() => overseer.defineTask("bad", () => null, { retry: { enabled: "yes" as unknown as boolean } })).toThrow(
      'task "bad": retry.enabled must be true or false',
    );
  });
});
