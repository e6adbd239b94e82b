/**
 * Alerts under contention on PostgreSQL: separate stores (separate pools) on one schema raise
 * one dedup key at once, and run the escalation watchdog at the same moment. Each test gets its
 * own schema, kept if it fails.
 */
import { describe, expect, it } from "vitest";
import { PG_URL, pgSchemas } from "../../test-support/pg-schema.js";
import { newAlert, raceForEscalations, raceToRaise } from "../conformance/alerts.js";
import { PostgresStore } from "./postgres-store.js";

const newSchema = pgSchemas();

async function storesInOneSchema(n: number, clock: () => number): Promise<PostgresStore[]> {
  const { schema } = await newSchema();
  const all: PostgresStore[] = [];
  // One at a time: the first migrates, the rest find the schema ready.
  for (let i = 0; i < n; i++) all.push(await PostgresStore.open({ url: PG_URL, schema, poolSize: 2, clock }));
  // Warm every pool's connection, so the race is between open connections, not connects.
  await Promise.all(all.map((s) => s.getAlert("warm-up")));
  return all;
}

describe("alerts on one PostgreSQL schema (PostgreSQL only)", () => {
  it("10 stores raising one key at once create one alert with count 10, over 5 rounds of fresh keys", async () => {
    const now = Date.UTC(2030, 0, 1);
    const all = await storesInOneSchema(10, () => now);
    try {
      for (let round = 0; round < 5; round++) {
        const race = await raceToRaise(all, `key-${round}`);
        expect(race.created, `round ${round}`).toBe(1);
        expect(race.ids).toHaveLength(1);
        expect(await all[0]?.getAlert(race.ids[0] as string)).toMatchObject({ count: 10 });
        expect(await all[0]?.listAlertNotifications(race.ids[0] as string)).toHaveLength(1);
      }
    } finally {
      for (const s of all) await s.close();
    }
  });

  it("10 stores running the watchdog at the same moment notify each due step once", async () => {
    let now = Date.UTC(2030, 0, 1);
    const all = await storesInOneSchema(10, () => now);
    try {
      for (let i = 0; i < 50; i++) await all[0]?.raiseAlert(newAlert({ dedupKey: `k${i}` }));
      for (const [minutes, expected] of [
        [5, 50],
        [15, 50],
        [20, 50],
        [60, 0],
      ] as const) {
        now = Date.UTC(2030, 0, 1) + minutes * 60_000;
        const claimed = await raceForEscalations(all);
        expect(claimed, `at ${minutes} min`).toHaveLength(expected);
        expect(new Set(claimed.map((c) => c.alert.id)).size).toBe(expected);
      }
      const events = (await all[0]?.readEvents({ limit: 10_000 })) ?? [];
      // 50 first steps at the raise, then 3 steps each: 200 escalations, none twice.
      expect(events.filter((e) => e.kind === "alert.escalated")).toHaveLength(200);
    } finally {
      for (const s of all) await s.close();
    }
  });
});
