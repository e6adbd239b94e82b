/** The re-queue policy through the SDK, over HTTP, and as the built-in task a schedule runs. */
import { describe, expect, it } from "vitest";
import type { Overseer } from "../sdk/overseer.js";
import { REQUEUE_DEAD_TASK } from "../sdk/requeue-dead.js";
import { testApi } from "../test-support/http.js";
import { waitFor } from "../test-support/wait.js";

/** Runs a worker until every job listed is in `state`. */
async function settle(o: Overseer, ids: string[], state: string): Promise<void> {
  const worker = o.worker({ concurrency: 4, pollMs: 20 });
  await worker.start();
  try {
    await waitFor(
      `jobs to be ${state}`,
      async () => (await Promise.all(ids.map((id) => o.getJob(id)))).every((j) => j?.state === state),
      { timeoutMs: 5_000 },
    );
  } finally {
    await worker.stop();
  }
}

async function requeuedEvents(o: Overseer, jobId: string) {
  return (await o.readEvents({ jobId })).filter((e) => e.kind === "job.requeued").map((e) => e.data);
}

describe("re-queue policy", () => {
  it("dry run reports, a real pass re-queues at most max with an audit event each, and counts past re-queues", async () => {
    const api = await testApi();
    const o = api.overseer;
    o.defineTask("flaky", async () => {
      throw new Error("the service is down");
    });
    const jobs = [];
    for (let i = 0; i < 3; i++) jobs.push(await o.enqueue("flaky", { i }, { maxAttempts: 1 }));
    const ids = jobs.map((j) => j.id);
    await settle(o, ids, "dead");

    const dry = await api.request("POST", "/api/v1/jobs/requeue-dead", {
      token: api.tokens.operator,
      body: { max: 2, dryRun: true },
    });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, requeued: 2 });
    expect(
      dry.body.jobs.map((j: { jobId: string; requeue: boolean; done: boolean }) => [j.jobId, j.requeue, j.done]),
    ).toEqual([
      [ids[0], true, false],
      [ids[1], true, false],
      [ids[2], false, false],
    ]);
    expect(dry.body.jobs[2].reason).toBe("over the max of 2 re-queues per pass");
    for (const id of ids) expect((await o.getJob(id))?.state).toBe("dead");
    expect(await requeuedEvents(o, ids[0] as string)).toEqual([]);

    const real = await api.request("POST", "/api/v1/jobs/requeue-dead", {
      token: api.tokens.operator,
      body: { max: 2, maxRequeues: 1, maxAge: "1h" },
    });
    expect(real.status).toBe(200);
    expect(real.body).toMatchObject({ dryRun: false, requeued: 2 });
    expect((await o.getJob(ids[0] as string))?.state).toBe("queued");
    expect((await o.getJob(ids[2] as string))?.state).toBe("dead");
    expect(await requeuedEvents(o, ids[0] as string)).toEqual([
      { reason: expect.stringMatching(/^re-queue 1 of 1: dead for /), requeue: 1, by: "test-operator" },
    ]);

    // They die again: the two re-queued once are spent (max 1); the third gets its turn.
    await settle(o, ids, "dead");
    const again = await o.requeueDead({ maxRequeues: 1 });
    expect(again.requeued).toBe(1);
    const byId = Object.fromEntries(again.jobs.map((j) => [j.jobId, j]));
    expect(byId[ids[0] as string]).toMatchObject({
      requeue: false,
      requeues: 1,
      reason: "re-queued 1 time already (max 1)",
    });
    expect(byId[ids[2] as string]).toMatchObject({ requeue: true, done: true, requeues: 0 });
    expect(await requeuedEvents(o, ids[2] as string)).toEqual([
      expect.objectContaining({ requeue: 1, by: "requeue-policy" }),
    ]);
  });

  it("is refused to a viewer and for options a person can fix", async () => {
    const api = await testApi();
    const viewer = await api.request("POST", "/api/v1/jobs/requeue-dead", { token: api.tokens.viewer, body: {} });
    expect(viewer.status).toBe(403);
    const badAge = await api.request("POST", "/api/v1/jobs/requeue-dead", {
      token: api.tokens.operator,
      body: { maxAge: "soon" },
    });
    expect(badAge.status).toBe(400);
    expect(badAge.body.error.message).toMatch(/maxAge must be a duration/);
    const unknown = await api.request("POST", "/api/v1/jobs/requeue-dead", {
      token: api.tokens.operator,
      body: { everything: true },
    });
    expect(unknown.status).toBe(400);
    await expect(api.overseer.requeueDead({ max: -1 })).rejects.toThrow(/max must be a whole number from 0 to 1000/);
  });

  it("runs as the built-in task, with its options as the payload (what a schedule enqueues)", async () => {
    const api = await testApi();
    const o = api.overseer;
    o.defineTask("flaky", async () => {
      throw new Error("down");
    });
    const dead = await o.enqueue("flaky", null, { maxAttempts: 1 });
    await settle(o, [dead.id], "dead");
    const pass = await o.enqueue(REQUEUE_DEAD_TASK, { maxRequeues: 2, maxAge: "72h", max: 5 });
    await settle(o, [pass.id], "succeeded");
    expect((await o.getJob(pass.id))?.result).toMatchObject({ dryRun: false, requeued: 1 });
    expect(await requeuedEvents(o, dead.id)).toEqual([expect.objectContaining({ requeue: 1, by: "schedule" })]);
  });
});
