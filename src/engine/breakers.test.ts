/**
 * Queues' circuit breakers through the SDK's worker, on the test backend and the store's clock: a
 * provider outage trips the breaker, due jobs go to the fallback task (or wait, without one),
 * and after the cool-down one probe runs for real: its success closes the breaker, its failure
 * opens it again.
 */
import { describe, expect, it } from "vitest";
import { OverseerError, PermanentError } from "../core/errors.js";
import { testDatabase } from "../test-support/test-backend.js";
import { waitFor } from "../test-support/wait.js";
import type { WorkerOptions } from "./worker.js";

const FAST: WorkerOptions = {
  leaseMs: 60_000,
  heartbeatMs: 200,
  maintenanceMs: 50,
  pollMs: 20,
  shutdownTimeoutMs: 1_000,
};
const T0 = Date.parse("2030-01-01T09:00:00.000Z");

describe("circuit breakers", () => {
  it("an outage trips the breaker into the fallback task, and a probe closes it once the provider is back", async () => {
    let now = T0;
    const overseer = await (await testDatabase()).open({ clock: () => now });
    let down = true;
    const calls: string[] = [];
    const texts: Array<{ phone: string; code: string }> = [];
    overseer.defineTask(
      "call",
      (payload: { phone: string }) => {
        calls.push(payload.phone);
        if (down) throw new Error("provider unreachable");
      },
      { queue: "calls", maxAttempts: 5, backoff: ["1h"] },
    );
    overseer.defineTask("sms", (payload: { payload: { phone: string }; error: { code: string } }) => {
      texts.push({ phone: payload.payload.phone, code: payload.error.code });
    });
    const worker = overseer.worker({
      ...FAST,
      concurrency: 1,
      breakers: { calls: { failureRate: 0.5, minAttempts: 3, window: "1m", cooldown: "30s", divertTo: "sms" } },
    });
    await worker.start();
    try {
      for (const phone of ["+15550001", "+15550002", "+15550003"]) await overseer.enqueue("call", { phone });
      const open = await waitFor("the breaker to open", async () => {
        const queue = (await overseer.listQueues()).find((q) => q.name === "calls");
        return queue?.breaker?.state === "open" ? queue.breaker : null;
      });
      expect(open).toMatchObject({ trip: { attempts: 3, failures: 3, divertTo: "sms" } });
      expect(open.probeAt).toBe(new Date(now + 30_000).toISOString());

      // SMS-only mode: new calls are not placed; each goes to the fallback at once.
      const diverted = await overseer.enqueue("call", { phone: "+15550004" });
      await waitFor("the call to be diverted", () => texts.length === 1);
      expect(texts).toEqual([{ phone: "+15550004", code: "CIRCUIT_OPEN" }]);
      expect((await overseer.getJob(diverted.id))?.state).toBe("cancelled");
      expect(calls).toHaveLength(3);

      // The provider is back; after the cool-down the next due call is the probe, and it connects.
      down = false;
      now += 30_000;
      const probe = await overseer.enqueue("call", { phone: "+15550005" });
      await waitFor("the probe to close the breaker", async () => {
        const queue = (await overseer.listQueues()).find((q) => q.name === "calls");
        return queue?.breaker === null;
      });
      expect((await overseer.getJob(probe.id))?.state).toBe("succeeded");
      const after = await overseer.enqueue("call", { phone: "+15550006" });
      await waitFor("calls to go through again", async () => (await overseer.getJob(after.id))?.state === "succeeded");
      expect(texts).toHaveLength(1);
      const kinds = (await overseer.readEvents({ limit: 1_000 }))
        .filter((e) => e.kind.startsWith("queue.breaker"))
        .map((e) => e.kind);
      expect(kinds).toEqual([
        "queue.breaker_opened",
        "queue.breaker_half_open",
        "queue.breaker_probe",
        "queue.breaker_closed",
      ]);
    } finally {
      await worker.stop();
      await overseer.close();
    }
  });

  it("without a fallback the queue waits; a failed probe opens it again for another cool-down", async () => {
    let now = T0;
    const overseer = await (await testDatabase()).open({ clock: () => now });
    let down = true;
    overseer.defineTask(
      "call",
      () => {
        if (down) throw new Error("provider unreachable");
      },
      { queue: "calls", maxAttempts: 1 },
    );
    const worker = overseer.worker({
      ...FAST,
      concurrency: 1,
      breakers: { calls: { minAttempts: 2, cooldown: "10s" } },
    });
    await worker.start();
    const breaker = async () => (await overseer.listQueues()).find((q) => q.name === "calls")?.breaker ?? null;
    try {
      await overseer.enqueue("call", {});
      await overseer.enqueue("call", {});
      await waitFor("the breaker to open", async () => (await breaker())?.state === "open");
      const waiting = await overseer.enqueue("call", {});
      const second = await overseer.enqueue("call", {});

      // The cool-down ends with the provider still down: the probe fails, the breaker opens again.
      now += 10_000;
      await waitFor("the probe to fail", async () => (await overseer.getJob(waiting.id))?.state === "dead");
      await waitFor("the breaker to open again", async () => (await breaker())?.state === "open");
      expect((await breaker())?.probeAt).toBe(new Date(now + 10_000).toISOString());
      expect((await overseer.getJob(second.id))?.state).toBe("queued");

      down = false;
      now += 10_000;
      await waitFor("the second probe to close it", async () => (await breaker()) === null);
      expect((await overseer.getJob(second.id))?.state).toBe("succeeded");
    } finally {
      await worker.stop();
      await overseer.close();
    }
  });

  it("counts neither permanent nor ignored errors; a probe that parks on a sleep has done its work and closes it", async () => {
    let now = T0;
    const overseer = await (await testDatabase()).open({ clock: () => now });
    let down = true;
    overseer.defineTask(
      "call",
      async (payload: { bad?: boolean; busy?: boolean }, ctx) => {
        if (payload.bad) throw new PermanentError("not a phone number");
        if (payload.busy) throw Object.assign(new Error("nobody picked up"), { code: "NOT_ANSWERED" });
        if (down) throw new Error("provider unreachable");
        await ctx.step("ring", () => "rang");
        await ctx.sleep("1h");
      },
      { queue: "calls", maxAttempts: 1 },
    );
    const worker = overseer.worker({
      ...FAST,
      concurrency: 1,
      breakers: { calls: { minAttempts: 2, cooldown: "10s", ignoreErrors: ["NOT_ANSWERED"] } },
    });
    await worker.start();
    const breaker = async () => (await overseer.listQueues()).find((q) => q.name === "calls")?.breaker ?? null;
    try {
      const bad = [
        await overseer.enqueue("call", { bad: true }),
        await overseer.enqueue("call", { bad: true }),
        await overseer.enqueue("call", { busy: true }),
        await overseer.enqueue("call", { busy: true }),
      ];
      for (const job of bad)
        await waitFor("the bad call to die", async () => (await overseer.getJob(job.id))?.state === "dead");
      expect(await breaker()).toBeNull();

      await overseer.enqueue("call", {});
      await overseer.enqueue("call", {});
      await waitFor("the outage to open the breaker", async () => (await breaker())?.state === "open");
      down = false;
      now += 10_000;
      const probe = await overseer.enqueue("call", {});
      await waitFor("the parked probe to close the breaker", async () => (await breaker()) === null);
      expect((await overseer.getJob(probe.id))?.state).toBe("scheduled");
    } finally {
      await worker.stop();
      await overseer.close();
    }
  });

  it("refuses a fallback whose jobs would go back into the breaker's own queue", async () => {
    const overseer = await (await testDatabase()).open();
    overseer.defineTask("call", () => undefined, { queue: "calls" });
    overseer.defineTask("sms", () => undefined, { queue: "calls" });
    overseer.defineTask("note", () => undefined);
    const refused = (breakers: WorkerOptions["breakers"]) => {
      try {
        overseer.worker({ breakers });
      } catch (err) {
        return err instanceof OverseerError ? err.message : String(err);
      }
      return null;
    };
    expect(refused({ calls: { divertTo: "sms" } })).toBe(
      "breakers.calls.divertTo would put the diverted jobs back in queue calls; give it another queue",
    );
    expect(refused({ calls: { divertTo: { task: "sms", queue: "texts" } } })).toBeNull();
    expect(refused({ default: { divertTo: "note" } })).toMatch(/back in queue default/);
    // A task this process does not define: its queue is known only from the registry, at each pass.
    expect(refused({ default: { divertTo: "defined-elsewhere" } })).toBeNull();
    await overseer.close();
  });

  it("refuses bad breaker options, naming the field", async () => {
    const overseer = await (await testDatabase()).open();
    overseer.defineTask("call", () => undefined);
    const refused = (breakers: unknown): [string, string] | null => {
      try {
        overseer.worker({ breakers: breakers as WorkerOptions["breakers"] });
      } catch (err) {
        if (err instanceof OverseerError) return [err.code, err.message];
        throw err;
      }
      return null;
    };
    expect(refused({ calls: { failureRate: 1.5 } })).toEqual([
      "INVALID_ARGUMENT",
      "breakers.calls.failureRate must be a number above 0 and at most 1; got 1.5",
    ]);
    expect(refused({ calls: { cooldown: "soon" } })?.[0]).toBe("INVALID_ARGUMENT");
    expect(refused({ calls: { retries: 3 } })).toEqual([
      "INVALID_ARGUMENT",
      "breakers.calls.retries is not a breaker option",
    ]);
    expect(refused({ "bad queue": {} })?.[0]).toBe("INVALID_ARGUMENT");
    expect(refused({ calls: { divertTo: { task: "sms", when: "later" } } })).toEqual([
      "INVALID_ARGUMENT",
      'breakers.calls.divertTo has unknown field "when"',
    ]);
    await overseer.close();
  });
});
