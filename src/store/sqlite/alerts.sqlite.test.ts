/**
 * Alerts under contention on one SQLite file: separate store objects (separate connections)
 * raise one dedup key at once, and run the escalation watchdog at the same moment.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { newAlert, raceForEscalations, raceToRaise } from "../conformance/alerts.js";
import { SqliteStore } from "./sqlite-store.js";

const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function storesOnOneFile(n: number, clock: () => number): Promise<SqliteStore[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "overseer-alerts-"));
  dirs.push(dir);
  const file = path.join(dir, "overseer.db");
  for (let i = 0; i < n; i++) stores.push(await SqliteStore.open({ path: file, clock }));
  return [...stores];
}

describe("alerts on one SQLite file (SQLite only)", () => {
  it("two stores raising one key at once create one alert with count 2", async () => {
    const now = Date.UTC(2030, 0, 1);
    const [a, b] = await storesOnOneFile(2, () => now);
    const race = await raceToRaise([a as SqliteStore, b as SqliteStore], "job.dead:payments");
    expect(race.created).toBe(1);
    expect(race.ids).toHaveLength(1);
    expect(await a?.getAlert(race.ids[0] as string)).toMatchObject({ count: 2 });
  });

  it("two stores running the watchdog at the same moment notify each due step once", async () => {
    let now = Date.UTC(2030, 0, 1);
    const all = await storesOnOneFile(2, () => now);
    for (let i = 0; i < 20; i++) await all[0]?.raiseAlert(newAlert({ dedupKey: `k${i}` }));
    now += 5 * 60_000;
    const claimed = await raceForEscalations(all);
    expect(claimed).toHaveLength(20);
    expect(new Set(claimed.map((c) => c.alert.id)).size).toBe(20);
    expect(claimed.flatMap((c) => c.notifications)).toHaveLength(40);
    expect(await raceForEscalations(all)).toEqual([]);
  });
});
