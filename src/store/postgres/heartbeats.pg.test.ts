/**
 * Heartbeats under contention on PostgreSQL: separate stores (separate pools) on one schema sync
 * one config and run the heartbeat watchdog at the same moment. Each test gets its own schema,
 * kept if it fails.
 */
import { describe, expect, it } from "vitest";
import { PG_URL, pgSchemas } from "../../test-support/pg-schema.js";
import { raceToCheckHeartbeats } from "../conformance/heartbeats.js";
import { PostgresStore } from "./postgres-store.js";

const newSchema = pgSchemas();

describe("heartbeats on one PostgreSQL schema (PostgreSQL only)", () => {
  it("10 stores checking at the same moment turn each heartbeat late, and raise its alert, once", async () => {
    let now = Date.UTC(2030, 0, 1);
    const { schema } = await newSchema();
    const all: PostgresStore[] = [];
    for (let i = 0; i < 10; i++)
      all.push(await PostgresStore.open({ url: PG_URL, schema, poolSize: 2, clock: () => now }));
    try {
      const defs = Array.from({ length: 30 }, (_, i) => ({ name: `hb-${i}`, intervalMs: 60_000, policy: null }));
      await Promise.all(all.map((s) => s.syncHeartbeats(defs)));
      expect(await all[0]?.listHeartbeats()).toHaveLength(30);
      now += 60_000;
      for (let round = 0; round < 3; round++) {
        const late = await raceToCheckHeartbeats(all);
        expect(late, `round ${round}`).toHaveLength(round === 0 ? 30 : 0);
        expect(new Set(late.map((l) => l.heartbeat.name)).size).toBe(late.length);
      }
      const alerts = (await all[0]?.listAlerts({ source: "heartbeat", limit: 100 })) ?? [];
      expect(alerts).toHaveLength(30);
      expect(alerts.every((a) => a.count === 1)).toBe(true);
    } finally {
      for (const s of all) await s.close();
    }
  });
});
