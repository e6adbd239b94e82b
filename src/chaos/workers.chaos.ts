/**
 * Worker processes SIGKILLed mid-drain, on SQLite (2 workers, 1 killed) and PostgreSQL (3 workers,
 * 2 killed), each without and with prefetch. No job may be lost, no two executions of a job may
 * overlap, and no job may be charged an attempt it never ran; jobs run twice are at-least-once
 * working as designed, and are counted only.
 */
import { afterEach, describe, expect, it } from "vitest";
import { killAllFixtures } from "../test-support/child-processes.js";
import { type ChaosBackend, postgres, sqlite } from "./backends.js";
import { killWorkersMidDrain } from "./scenarios.js";

afterEach(async () => {
  await killAllFixtures();
});

const backends: ChaosBackend[] = [sqlite, postgres()];

describe.each(backends)("$name: workers SIGKILLed mid-drain", (backend) => {
  it.each([0, 20])(
    "prefetch %i: nothing lost, nothing overlapping, nothing charged that never ran",
    async (prefetch) => {
      const outcome = await killWorkersMidDrain(backend, prefetch);
      expect(outcome.problems, outcome.line).toEqual([]);
      expect(outcome.counts).toMatchObject({ lost: 0, overlapping: 0, chargedNeverRan: 0 });
      // The kills landed mid-work: the killed workers' running jobs ran again elsewhere...
      expect(outcome.counts.ranTwice).toBeGreaterThan(0);
      // ...and, with prefetch, they held jobs they never started.
      if (prefetch > 0) expect(outcome.heldAtKill).toBe((backend.workers - 1) * prefetch);
    },
  );
});
