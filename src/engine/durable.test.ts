/**
 * Durable handlers with a real worker and a real store (a SQLite file, and a PostgreSQL
 * schema): steps run once across retries and restarts, sleeps and waits park the job and free
 * the worker, signals sent early are kept, and waits time out.
 */
import { describe, expect, it } from "vitest";
import type { Job } from "../core/types.js";
import type { Overseer } from "../sdk/overseer.js";
import { TEST_BACKEND, testDatabase } from "../test-support/test-backend.js";
import { waitFor } from "../test-support/wait.js";

async function finished(overseer: Overseer, id: string, timeoutMs = 15_000): Promise<Job> {
  return waitFor(
    `job ${id} to finish`,
    async () => {
      const job = await overseer.getJob(id);
      return job && ["succeeded", "dead", "cancelled"].includes(job.state) ? job : null;
    },
    { timeoutMs, intervalMs: 20 },
  );
}

describe(`durable handlers on ${TEST_BACKEND}`, () => {
  it("runs a step once across a failed attempt, and the retry gets the stored result", async () => {
    const { open } = await testDatabase("overseer-durable-");
    const overseer = await open();
    let charges = 0;
    overseer.defineTask(
      "charge",
      async (_payload, ctx) => {
        const receipt = await ctx.step("charge-card", () => ({ receipt: `r-${++charges}` }));
        if (ctx.attempt === 1) throw new Error("the mail server is down");
        return receipt;
      },
      { maxAttempts: 3, backoff: { type: "fixed", delay: 10 } },
    );
    const job = await overseer.enqueue("charge");
    await overseer.worker({ pollMs: 20 }).start();
    const done = await finished(overseer, job.id);
    expect(done).toMatchObject({ state: "succeeded", attempts: 2, result: { receipt: "r-1" } });
    expect(charges).toBe(1);
  });

  it("a sleep parks the job and frees the worker's only slot; the attempt is given back", async () => {
    const { open } = await testDatabase("overseer-durable-");
    const overseer = await open();
    const order: string[] = [];
    overseer.defineTask("nap", async (_p, ctx) => {
      order.push(`nap ${ctx.attempt}`);
      await ctx.sleep(400);
      order.push("nap woke");
      return "rested";
    });
    overseer.defineTask("quick", async () => {
      order.push("quick");
      return "done";
    });
    const nap = await overseer.enqueue("nap", null, { maxAttempts: 1 });
    await overseer.worker({ concurrency: 1, pollMs: 20 }).start();
    await waitFor("the nap to park", async () => (await overseer.getJob(nap.id))?.state === "scheduled");
    const quick = await overseer.enqueue("quick");
    expect((await finished(overseer, quick.id)).state).toBe("succeeded");
    expect((await overseer.getJob(nap.id))?.state).toBe("scheduled"); // still asleep
    const woke = await finished(overseer, nap.id);
    // The execution that resumed is the same attempt going on: one attempt of the one allowed.
    expect(woke).toMatchObject({ state: "succeeded", result: "rested", attempts: 1, maxAttempts: 1 });
    expect(order).toEqual(["nap 1", "quick", "nap 1", "nap woke"]);
    const attempts = await overseer.listAttempts(nap.id);
    expect(attempts.map((a) => a.outcome)).toEqual(["parked", "succeeded"]);
    const kinds = (await overseer.readEvents({ jobId: nap.id })).map((e) => e.kind);
    expect(kinds).toContain("job.parked");
  });

  it("waitForEvent takes a signal sent before the wait, and one sent while parked; a mismatch waits", async () => {
    const { open } = await testDatabase("overseer-durable-");
    const overseer = await open();
    const early = await overseer.signal("payment.settled", { orderId: "o-1", amount: 42 });
    expect(early.deliveredTo).toBeNull(); // nobody waits yet: kept
    overseer.defineTask("ship", async (order: { id: string }, ctx) => {
      const paid = await ctx.waitForEvent<{ amount: number }>("payment.settled", {
        match: { orderId: order.id },
        timeout: "1m",
      });
      return { paid: paid?.amount ?? null };
    });
    await overseer.worker({ pollMs: 20 }).start();
    const first = await overseer.enqueue("ship", { id: "o-1" });
    expect(await finished(overseer, first.id)).toMatchObject({ state: "succeeded", result: { paid: 42 } });

    const second = await overseer.enqueue("ship", { id: "o-2" });
    await waitFor("the second job to park", async () => (await overseer.getJob(second.id))?.state === "scheduled");
    const other = await overseer.signal("payment.settled", { orderId: "o-3", amount: 1 });
    expect(other.deliveredTo).toBeNull(); // o-2 does not match o-3
    const right = await overseer.signal("payment.settled", { orderId: "o-2", amount: 7 });
    expect(right.deliveredTo).toBe(second.id);
    expect(await finished(overseer, second.id)).toMatchObject({ state: "succeeded", result: { paid: 7 } });
  });

  it("a job resuming from a wait takes no second slot of its rate limit", async () => {
    const { open } = await testDatabase("overseer-durable-");
    const overseer = await open();
    overseer.defineTask("call", async (_payload, ctx) => ctx.waitForEvent("answered", { timeout: "1h" }));
    const rateLimit = { key: "calls", limit: 1, period: "1d" };
    const job = await overseer.enqueue("call", {}, { rateLimit });
    await overseer.worker({ pollMs: 20 }).start();
    await waitFor("the call to park", async () => (await overseer.getJob(job.id))?.state === "scheduled");
    await overseer.signal("answered", { ok: true });
    expect(await finished(overseer, job.id)).toMatchObject({ state: "succeeded", result: { ok: true } });
    // The day's one slot was the call's: another call waits for tomorrow.
    const next = await overseer.enqueue("call", {}, { rateLimit });
    await waitFor("the next call to be throttled", async () => (await overseer.getJob(next.id))?.state === "scheduled");
    const kinds = (await overseer.readEvents({ jobId: job.id })).map((e) => e.kind);
    expect(kinds).not.toContain("job.throttled");
    expect((await overseer.readEvents({ jobId: next.id })).map((e) => e.kind)).toContain("job.throttled");
  });

  it("a wait times out with null", async () => {
    const { open } = await testDatabase("overseer-durable-");
    const overseer = await open();
    overseer.defineTask("ask", async (_p, ctx) => ({
      answer: await ctx.waitForEvent("reply", { timeout: 300 }),
    }));
    await overseer.worker({ pollMs: 20 }).start();
    const job = await overseer.enqueue("ask");
    expect(await finished(overseer, job.id)).toMatchObject({ state: "succeeded", result: { answer: null } });
  });

  it("a parked job survives closing every worker and store; its steps are not run again", async () => {
    const { open } = await testDatabase("overseer-durable-");
    let sends = 0;
    const define = (overseer: Overseer) =>
      overseer.defineTask("welcome", async (user: { id: string }, ctx) => {
        await ctx.step("send-welcome", () => ++sends);
        const reply = await ctx.waitForEvent<{ text: string }>("user.replied", {
          match: { userId: user.id },
          timeout: "1h",
        });
        return { sends, reply: reply?.text ?? null };
      });
    const first = await open();
    define(first);
    await first.worker({ pollMs: 20 }).start();
    const job = await first.enqueue("welcome", { id: "u-1" });
    await waitFor("the job to park", async () => (await first.getJob(job.id))?.state === "scheduled");
    await first.close(); // every node gone while it waits

    const second = await open();
    define(second);
    await second.worker({ pollMs: 20 }).start();
    const sent = await second.signal("user.replied", { userId: "u-1", text: "hi!" });
    expect(sent.deliveredTo).toBe(job.id);
    expect(await finished(second, job.id)).toMatchObject({ state: "succeeded", result: { sends: 1, reply: "hi!" } });
    expect(sends).toBe(1);
  });
});
