/**
 * Heartbeats under contention on one SQLite file: separate store objects (separate connections)
 * run the heartbeat watchdog at the same moment, and each late heartbeat raises one alert.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { raceToCheckHeartbeats } from "../conformance/heartbeats.js";
import { SqliteStore } from "./sqlite-store.js";

const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe("heartbeats on one SQLite file (SQLite only)", () => {
  it("two stores checking at the same moment turn each heartbeat late, and raise its alert, once", async () => {
    let now = Date.UTC(2030, 0, 1);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "overseer-heartbeats-"));
    dirs.push(dir);
    const file = path.join(dir, "overseer.db");
    for (let i = 0; i < 2; i++) stores.push(await SqliteStore.open({ path: file, clock: () => now }));
    const [a, b] = stores as [SqliteStore, SqliteStore];
    const defs = Array.from({ length: 10 }, (_, i) => ({ name: `hb-${i}`, intervalMs: 60_000, policy: null }));
    await Promise.all([a.syncHeartbeats(defs), b.syncHeartbeats(defs)]);
    now += 60_000;
    const late = await raceToCheckHeartbeats([a, b]);
    expect(late).toHaveLength(10);
    expect(new Set(late.map((l) => l.heartbeat.name)).size).toBe(10);
    expect(await a.listAlerts({ source: "heartbeat" })).toHaveLength(10);
    expect(await raceToCheckHeartbeats([a, b])).toEqual([]);
  });
});
