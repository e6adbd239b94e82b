import { describe, expect, it } from "vitest";
import type { Logger } from "../core/logger.js";
import { sleep, waitFor } from "../test-support/wait.js";
import { SupervisedLoop } from "./supervised-loop.js";

function recordingLogger(): Logger & { errors: Array<{ obj: object; msg?: string }> } {
  const errors: Array<{ obj: object; msg?: string }> = [];
  const noop = (): void => undefined;
  return { debug: noop, info: noop, warn: noop, error: (obj, msg) => errors.push({ obj, msg }), errors };
}

describe("SupervisedLoop", () => {
  it("keeps running a body that throws, counting and reporting each failure", async () => {
    const logger = recordingLogger();
    const failures: Array<{ message: string; consecutive: number }> = [];
    let calls = 0;
    const loop = new SupervisedLoop({
      name: "test",
      logger,
      minBackoffMs: 5,
      body: async () => {
        calls++;
        if (calls <= 2) throw new Error(`failure ${calls}`);
        return 1;
      },
      onFailure: (err, consecutive) => failures.push({ message: (err as Error).message, consecutive }),
    });
    loop.start();
    await waitFor("passes after the failures", () => calls >= 6);
    await loop.stop();

    expect(loop.failures).toBe(2);
    expect(failures).toEqual([
      { message: "failure 1", consecutive: 1 },
      { message: "failure 2", consecutive: 2 },
    ]);
    expect(logger.errors.map((e) => e.msg)).toEqual(["test loop failed; restarting", "test loop failed; restarting"]);
  });

  it("backs off exponentially between consecutive failures and resets after a success", async () => {
    const starts: number[] = [];
    const consecutive: number[] = [];
    const loop = new SupervisedLoop({
      name: "test",
      logger: recordingLogger(),
      minBackoffMs: 40,
      body: async () => {
        starts.push(Date.now());
        // fail, fail, fail, succeed, fail: the last failure starts the backoff over.
        if (starts.length === 4) return 0;
        if (starts.length <= 5) throw new Error("down");
        return 1_000;
      },
      onFailure: (_err, n) => consecutive.push(n),
    });
    loop.start();
    await waitFor("six passes", () => starts.length >= 6, { timeoutMs: 3_000 });
    await loop.stop();

    expect(consecutive).toEqual([1, 2, 3, 1]);
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] as number));
    expect(gaps[0]).toBeGreaterThanOrEqual(39);
    expect(gaps[1]).toBeGreaterThanOrEqual(79);
    expect(gaps[2]).toBeGreaterThanOrEqual(159);
    expect(gaps[4]).toBeGreaterThanOrEqual(39);
    expect(gaps[4]).toBeLessThan(159);
  });

  it("stop() wakes a sleeping loop, waits for the pass in progress, and no pass follows", async () => {
    let calls = 0;
    let inPass = false;
    const loop = new SupervisedLoop({
      name: "test",
      logger: recordingLogger(),
      body: async () => {
        calls++;
        inPass = true;
        await sleep(30);
        inPass = false;
        return 60_000;
      },
    });
    loop.start();
    await waitFor("the first pass", () => calls === 1);
    const stopping = loop.stop();
    expect(inPass).toBe(true);
    const t0 = Date.now();
    await stopping;
    expect(inPass).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1_000);
    await sleep(50);
    expect(calls).toBe(1);
  });

  it("a poke during a pass is not lost: the next pass runs at once instead of after the delay", async () => {
    let calls = 0;
    let loop: SupervisedLoop | null = null;
    loop = new SupervisedLoop({
      name: "test",
      logger: recordingLogger(),
      body: async () => {
        calls++;
        if (calls === 1) loop?.poke();
        return 60_000;
      },
    });
    loop.start();
    await waitFor("a second pass despite the long delay", () => calls >= 2, { timeoutMs: 1_000 });
    await loop.stop();
    expect(calls).toBe(2);
  });
});
