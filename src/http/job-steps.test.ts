/**
 * GET /api/v1/jobs/:id/steps: a durable job's steps as a timeline, from its step events and
 * stored steps; GET /api/v1/jobs/:id/steps/:name: one step's stored result.
 */
import { describe, expect, it } from "vitest";
import { testApi } from "../test-support/http.js";
import { waitFor } from "../test-support/wait.js";

describe("GET /api/v1/jobs/:id/steps", () => {
  it("lists each step once with its status, attempt, timing and result; a failed step shows again when retried", async () => {
    const api = await testApi();
    const o = api.overseer;
    const runs = { intake: 0, investigate: 0 };
    o.defineTask(
      "triage",
      async (_payload, ctx) => {
        const incident = await ctx.step("intake", () => {
          runs.intake++;
          return { id: "INC-7", service: "checkout" };
        });
        await ctx.gate("read logs", { risk: "low", environment: "staging" });
        const cause = await ctx.step("investigate", () => {
          runs.investigate++;
          if (ctx.attempt === 1) throw Object.assign(new Error("log store timed out"), { code: "LOGS_TIMEOUT" });
          return `${incident.service}: pool exhausted`;
        });
        return cause;
      },
      { maxAttempts: 2, backoff: { type: "fixed", delay: 10 } },
    );
    const job = await o.enqueue("triage");
    const worker = o.worker({ concurrency: 1, pollMs: 50 });
    await worker.start();
    await waitFor("the job to succeed", async () => (await o.getJob(job.id))?.state === "succeeded", {
      timeoutMs: 10_000,
    });
    await worker.stop();
    expect(runs).toEqual({ intake: 1, investigate: 2 });

    const res = await api.request("GET", `/api/v1/jobs/${job.id}/steps`, { token: api.tokens.viewer });
    expect(res.status).toBe(200);
    const [intake, investigate, ...rest] = res.body.items;
    expect(rest).toEqual([]);
    expect(intake).toMatchObject({
      name: "intake",
      kind: "step",
      status: "completed",
      attempt: 1,
      starts: 1,
      resultBytes: JSON.stringify({ id: "INC-7", service: "checkout" }).length,
      error: null,
    });
    expect(investigate).toMatchObject({
      name: "investigate",
      status: "completed",
      attempt: 2,
      starts: 2,
      resultBytes: JSON.stringify("checkout: pool exhausted").length,
      error: null,
    });
    const result = await api.request("GET", `/api/v1/jobs/${job.id}/steps/investigate`, { token: api.tokens.viewer });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ name: "investigate", kind: "step", result: "checkout: pool exhausted" });
    const none = await api.request("GET", `/api/v1/jobs/${job.id}/steps/nope`, { token: api.tokens.viewer });
    expect(none.status).toBe(404);
    expect(none.body.error.code).toBe("STEP_NOT_FOUND");
    for (const step of [intake, investigate]) {
      expect(step.durationMs).toBeGreaterThanOrEqual(0);
      expect(Date.parse(step.finishedAt)).toBeGreaterThanOrEqual(Date.parse(step.startedAt));
    }

    const events = await o.readEvents({ jobId: job.id });
    const stepEvents = events.filter((e) => e.kind.startsWith("step.") || e.kind === "gate.decided");
    expect(stepEvents.map((e) => `${e.kind} ${(e.data as { name?: string }).name ?? ""}`.trim())).toEqual([
      "step.started intake",
      "step.completed intake",
      "gate.decided",
      "step.started investigate",
      "step.failed investigate",
      "gate.decided",
      "step.started investigate",
      "step.completed investigate",
    ]);
    expect(stepEvents.find((e) => e.kind === "step.failed")?.data).toMatchObject({
      attempt: 1,
      error: { code: "LOGS_TIMEOUT", message: "log store timed out" },
    });
    expect(stepEvents.find((e) => e.kind === "gate.decided")?.data).toMatchObject({
      action: "read logs",
      decision: "auto",
      risk: "low",
      environment: "staging",
      attempt: 1,
    });
  });

  it("shows a step its execution left unfinished as interrupted once the job has moved on", async () => {
    const api = await testApi();
    const o = api.overseer;
    const job = await o.enqueue("stepped");
    const claim = { workerId: "w", limit: 1, tasks: ["stepped"], queues: null, leaseMs: 60_000 };
    const [claimed] = await o.store.claim(claim);
    if (!claimed) throw new Error("the job was not claimed");
    // An execution began a step, then its attempt ended without the step's end (its worker went away).
    await o.store.appendEvents([{ kind: "step.started", jobId: job.id, data: { name: "apply", attempt: 1 } }]);
    const steps = async () =>
      (await api.request("GET", `/api/v1/jobs/${job.id}/steps`, { token: api.tokens.viewer })).body.items;
    expect(await steps()).toMatchObject([{ name: "apply", status: "running", attempt: 1 }]);
    expect(await o.store.finish([{ lease: claimed.lease, outcome: "released" }])).toEqual([true]);
    expect(await steps()).toMatchObject([{ name: "apply", status: "interrupted", attempt: 1, starts: 1 }]);
  });

  it("is empty for a job without steps, and 404 for an unknown job", async () => {
    const api = await testApi();
    const job = await api.overseer.enqueue("plain");
    const res = await api.request("GET", `/api/v1/jobs/${job.id}/steps`, { token: api.tokens.viewer });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: [] });
    const missing = await api.request("GET", "/api/v1/jobs/01J00000000000000000000000/steps", {
      token: api.tokens.viewer,
    });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("JOB_NOT_FOUND");
  });
});
