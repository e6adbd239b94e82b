/**
 * Busy and stale: a second control action on the same job while the first is being applied gets
 * 429 BUSY with Retry-After and changes nothing; one based on an old version gets 409. The guard
 * itself, then the same over real HTTP with a store made slow so that the two overlap for sure.
 */
import { describe, expect, it } from "vitest";
import { isOverseerError } from "../core/errors.js";
import type { Store } from "../store/store.js";
import { testApi } from "../test-support/http.js";
import { BusyGuard } from "./busy.js";

/** A promise and the function that settles it. */
function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/**
 * Makes `method` of the store wait for the returned `release` on its first call, and says when
 * that call has started: the first request is then surely inside its action.
 */
function slowOnce<K extends keyof Store>(store: Store, method: K) {
  const entered = gate();
  const release = gate();
  const original = (store[method] as (...args: unknown[]) => Promise<unknown>).bind(store);
  let first = true;
  (store as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
    if (first) {
      first = false;
      entered.open();
      await release.promise;
    }
    return original(...args);
  };
  return { entered: entered.promise, release: () => release.open() };
}

describe("BusyGuard", () => {
  it("refuses a key while it is held, all keys or none, and frees them however the action ends", async () => {
    const guard = new BusyGuard();
    const hold = gate();
    const first = guard.run(["job:a", "approval:x"], () => hold.promise.then(() => "first"));
    expect(guard.isHeld("job:a")).toBe(true);

    const refused = await guard.run(["approval:y", "job:a"], async () => "second").catch((err: unknown) => err);
    expect(isOverseerError(refused) && refused.code).toBe("BUSY");
    expect(isOverseerError(refused) && refused.status).toBe(429);
    expect(isOverseerError(refused) && refused.details).toEqual({ job: "a", retryAfter: 1 });
    // All or none: the refused action took nothing.
    expect(guard.isHeld("approval:y")).toBe(false);
    // Other keys go on at once.
    expect(await guard.run(["job:b"], async () => "other")).toBe("other");

    hold.open();
    expect(await first).toBe("first");
    expect(guard.size).toBe(0);

    await expect(
      guard.run(["run:r"], async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(guard.isHeld("run:r")).toBe(false);
    expect(await guard.run(["run:r"], async () => 1)).toBe(1);
  });
});

describe("busy and stale over HTTP", () => {
  it("two cancels of one job at once: one applies, the other is 429 BUSY with Retry-After", async () => {
    const api = await testApi();
    const job = await api.overseer.enqueue("t");
    const slow = slowOnce(api.overseer.store, "cancelJob");
    const token = api.tokens.operator;

    const first = api.request("POST", `/api/v1/jobs/${job.id}/cancel`, { token });
    await slow.entered;
    const second = await api.request("POST", `/api/v1/jobs/${job.id}/cancel`, { token });
    expect(second.status).toBe(429);
    expect(second.headers.get("retry-after")).toBe("1");
    expect(second.body.error).toMatchObject({ code: "BUSY", details: { job: job.id, retryAfter: 1 } });
    // A different job is not held up.
    const other = await api.overseer.enqueue("t");
    expect((await api.request("POST", `/api/v1/jobs/${other.id}/cancel`, { token })).status).toBe(200);

    slow.release();
    const applied = await first;
    expect(applied.status).toBe(200);
    expect(applied.body.job.state).toBe("cancelled");
    // Once the first is done, the job is free again: a retry now applies.
    expect((await api.request("POST", `/api/v1/jobs/${job.id}/retry`, { token })).body.state).toBe("queued");
  });

  it("a write based on an old version is 409 VERSION_CONFLICT and changes nothing", async () => {
    const api = await testApi();
    const job = await api.overseer.enqueue("t");
    const token = api.tokens.operator;
    const read = await api.request("GET", `/api/v1/jobs/${job.id}`, { token });
    const etag = read.headers.get("etag") ?? "";
    expect((await api.request("POST", `/api/v1/jobs/${job.id}/cancel`, { token })).status).toBe(200);
    const stale = await api.request("POST", `/api/v1/jobs/${job.id}/retry`, { token, headers: { "if-match": etag } });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe("VERSION_CONFLICT");
    expect((await api.overseer.getJob(job.id))?.state).toBe("cancelled");
  });
});
