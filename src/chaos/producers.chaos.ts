/**
 * A producer SIGKILLed mid-enqueue, on SQLite and PostgreSQL: every enqueue it acknowledged (an id
 * it printed) is in the store and runs; at most one job was stored without being acknowledged.
 */
import { afterEach, describe, expect, it } from "vitest";
import { killAllFixtures } from "../test-support/child-processes.js";
import { type ChaosBackend, postgres, sqlite } from "./backends.js";
import { killProducerMidEnqueue } from "./scenarios.js";

afterEach(async () => {
  await killAllFixtures();
});

const backends: ChaosBackend[] = [sqlite, postgres()];

describe.each(backends)("$name: a producer SIGKILLed mid-enqueue", (backend) => {
  it("every acknowledged enqueue is stored and runs", async () => {
    const outcome = await killProducerMidEnqueue(backend);
    expect(outcome.problems, outcome.line).toEqual([]);
    expect(outcome.counts).toMatchObject({ lost: 0, overlapping: 0, chargedNeverRan: 0, ranTwice: 0 });
    expect(outcome.acknowledged).toBeGreaterThanOrEqual(200);
  });
});
