/**
 * The approval watchdog under contention on PostgreSQL: separate stores (separate pools) on one
 * schema time out the same requests at the same moment; each request is settled exactly once.
 * Each test gets its own schema, kept if it fails.
 */
import { describe, expect, it } from "vitest";
import { PG_URL, pgSchemas } from "../../test-support/pg-schema.js";
import { raceWatchdogs } from "../conformance/approvals.js";
import { PostgresStore } from "./postgres-store.js";

const newSchema = pgSchemas();

describe("approvals on one PostgreSQL schema (PostgreSQL only)", () => {
  it("several stores calling expireApprovals at once settle each request exactly once", async () => {
    const { schema } = await newSchema();
    let now = Date.UTC(2030, 0, 1);
    const all: PostgresStore[] = [];
    try {
      for (let i = 0; i < 6; i++)
        all.push(await PostgresStore.open({ url: PG_URL, schema, poolSize: 2, clock: () => now }));
      // Warm every pool, so the race is between open connections, not connects.
      await Promise.all(all.map((s) => s.nextApprovalExpiry()));
      for (let round = 0; round < 3; round++) {
        const race = await raceWatchdogs(all, 25, (ms) => {
          now += ms;
        });
        const settled = race.settledByCall.flat();
        expect(settled.sort(), `round ${round}`).toEqual([...race.requested].sort());
        expect(race.settledEvents.filter((id) => race.requested.includes(id)).sort()).toEqual(
          [...race.requested].sort(),
        );
      }
      expect((await all[0]?.countJobs())?.queued).toBe(75);
      expect(await all[0]?.nextApprovalExpiry()).toBeNull();
    } finally {
      for (const s of all) await s.close();
    }
  });
});
