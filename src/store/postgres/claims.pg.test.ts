/**
 * Claims under contention on PostgreSQL: separate stores (separate pools) on one schema race for
 * one key that has no row yet, then again once its TTL lapsed. Each test gets its own schema,
 * kept if it fails. Across processes: claims-processes.test.ts.
 */
import { describe, expect, it } from "vitest";
import { PG_URL, pgSchemas } from "../../test-support/pg-schema.js";
import { raceForClaim } from "../conformance/claims.js";
import { PostgresStore } from "./postgres-store.js";

const newSchema = pgSchemas();

describe("claims on one PostgreSQL schema (PostgreSQL only)", () => {
  it("20 stores take one key at once: exactly one wins; after the TTL, exactly one takes it over", async () => {
    const { schema } = await newSchema();
    let now = Date.UTC(2030, 0, 1);
    const all: PostgresStore[] = [];
    try {
      // One at a time: the first migrates, the rest find the schema ready.
      for (let i = 0; i < 20; i++)
        all.push(await PostgresStore.open({ url: PG_URL, schema, poolSize: 1, clock: () => now }));
      // Warm every pool's connection, so the race is between open connections, not connects.
      await Promise.all(all.map((s) => s.getClaim("warm-up")));

      const first = await raceForClaim(all, "story:1", 5_000);
      expect(first.winners).toHaveLength(1);
      expect(first.refusals).toEqual(Array(19).fill({ code: "CLAIM_HELD", holder: first.winners[0] }));

      now += 5_000;
      // Everyone but the holder (whose take would refresh it) tries, as new owners, in the last millisecond it is held.
      const others = all.filter((_, i) => `agent-${i}` !== first.winners[0]);
      expect((await raceForClaim(others, "story:1", 5_000, "late-")).winners).toEqual([]);
      now += 1;
      const second = await raceForClaim(all, "story:1", 5_000);
      expect(second.winners).toHaveLength(1);
      expect(await all[0]?.getClaim("story:1")).toMatchObject({ owner: second.winners[0], token: 2 });
      const taken = (await all[0]?.readEvents())?.filter((e) => e.kind === "claim.taken") ?? [];
      expect(taken.map((e) => e.data.owner)).toEqual([first.winners[0], second.winners[0]]);
      console.info(`claims race on PostgreSQL: first ${first.ms.toFixed(0)} ms, takeover ${second.ms.toFixed(0)} ms`);
    } finally {
      for (const s of all) await s.close();
    }
  });

  it("20 stores on the database clock: one winner per round, over 10 rounds of fresh keys", async () => {
    const { schema } = await newSchema();
    const all: PostgresStore[] = [];
    try {
      for (let i = 0; i < 20; i++) all.push(await PostgresStore.open({ url: PG_URL, schema, poolSize: 1 }));
      for (let round = 0; round < 10; round++) {
        const race = await raceForClaim(all, `key-${round}`);
        expect(race.winners, `round ${round}`).toHaveLength(1);
        expect(race.refusals.every((r) => r.code === "CLAIM_HELD")).toBe(true);
      }
      expect(await all[0]?.listClaims()).toHaveLength(10);
    } finally {
      for (const s of all) await s.close();
    }
  });
});
