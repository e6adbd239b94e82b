import { describe, expect, it } from "vitest";
import { silentLogger } from "../core/logger.js";
import type { Lease } from "../core/types.js";
import type { AttemptResult, Store } from "../store/store.js";
import { FinishBatcher } from "./finish-batcher.js";

function result(jobId: string): AttemptResult {
  const lease: Lease = { jobId, workerId: "w", token: 1, expiresAt: new Date().toISOString() };
  return { lease, outcome: "succeeded", resultJson: "null" };
}

/** Only `finish` is used by the batcher; the rest of the store is not needed here. */
function fakeStore(finish: (results: readonly AttemptResult[]) => Promise<boolean[]>): Store {
  return { finish } as unknown as Store;
}

describe("FinishBatcher", () => {
  it("records everything added in one turn of the event loop in one call, and answers each caller", async () => {
    const calls: string[][] = [];
    const store = fakeStore(async (results) => {
      calls.push(results.map((r) => r.lease.jobId));
      return results.map((r) => r.lease.jobId !== "stale");
    });
    const batcher = new FinishBatcher((results) => store.finish(results), silentLogger);
    const answers = await Promise.all([
      batcher.add(result("a")),
      batcher.add(result("stale")),
      batcher.add(result("c")),
    ]);
    expect(answers).toEqual([true, false, true]);
    expect(calls).toEqual([["a", "stale", "c"]]);
  });

  it("retries a failing write and resolves once it goes through", async () => {
    let calls = 0;
    const store = fakeStore(async (results) => {
      calls++;
      if (calls <= 2) throw new Error("database is locked");
      return results.map(() => true);
    });
    const batcher = new FinishBatcher((results) => store.finish(results), silentLogger);
    await expect(batcher.add(result("a"))).resolves.toBe(true);
    expect(calls).toBe(3);
  });

  it("gives up after five tries and rejects every caller in the batch", async () => {
    let calls = 0;
    const store = fakeStore(async () => {
      calls++;
      throw new Error("disk full");
    });
    const batcher = new FinishBatcher((results) => store.finish(results), silentLogger);
    const outcomes = await Promise.allSettled([batcher.add(result("a")), batcher.add(result("b"))]);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
    expect(calls).toBe(5);
  }, 10_000);

  it("drain() waits for results added during a write that is in progress", async () => {
    const recorded: string[] = [];
    let release: (() => void) | null = null;
    const store = fakeStore(async (results) => {
      if (recorded.length === 0) await new Promise<void>((r) => (release = r));
      recorded.push(...results.map((r) => r.lease.jobId));
      return results.map(() => true);
    });
    const batcher = new FinishBatcher((results) => store.finish(results), silentLogger);
    void batcher.add(result("a"));
    await new Promise((r) => setImmediate(r)); // the first write is now in progress
    void batcher.add(result("b"));
    const drained = batcher.drain().then(() => [...recorded]);
    (release as unknown as () => void)();
    expect(await drained).toEqual(["a", "b"]);
  });

  it("is busy from an add until the last batch is recorded, then calls onIdle once", async () => {
    let release: (() => void) | null = null;
    let idle = 0;
    const batcher = new FinishBatcher(
      async (results) => {
        if (release === null) await new Promise<void>((r) => (release = r));
        return results.map(() => true);
      },
      silentLogger,
      () => {
        idle++;
        expect(batcher.busy).toBe(false);
      },
    );
    expect(batcher.busy).toBe(false);
    const first = batcher.add(result("a"));
    expect(batcher.busy).toBe(true); // scheduled, not yet written
    await new Promise((r) => setImmediate(r)); // the first write is now in progress
    const second = batcher.add(result("b")); // waits behind it, in a second batch
    (release as unknown as () => void)();
    await Promise.all([first, second]);
    await batcher.drain();
    expect(batcher.busy).toBe(false);
    expect(idle).toBe(1);
  });

  // As on SQLite, where a batch is recorded synchronously: what finishes after it, however many
  // microtasks later within the same turn of the event loop, goes into one batch, not several.
  it("records what finished while a batch was recorded together, at the end of that turn of the event loop", async () => {
    const calls: string[][] = [];
    let batcher: FinishBatcher;
    const later = (hops: number, id: string) => {
      let p = Promise.resolve();
      for (let i = 0; i < hops; i++) p = p.then(() => undefined);
      void p.then(() => batcher.add(result(id)));
    };
    batcher = new FinishBatcher(async (results) => {
      calls.push(results.map((r) => r.lease.jobId));
      if (calls.length === 1) for (const [i, id] of ["b", "c", "d", "e"].entries()) later(1 + 3 * i, id);
      return results.map(() => true);
    }, silentLogger);
    await batcher.add(result("a"));
    await batcher.drain();
    expect(calls).toEqual([["a"], ["b", "c", "d", "e"]]);
  });
});
