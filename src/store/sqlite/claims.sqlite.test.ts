/**
 * Claims under contention on one SQLite file: separate store objects (separate connections)
 * race for one key, before and after its TTL lapses. Across processes: claims-processes.test.ts.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { raceForClaim } from "../conformance/claims.js";
import { SqliteStore } from "./sqlite-store.js";

const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function storesOnOneFile(n: number, clock: () => number): Promise<SqliteStore[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "overseer-claims-"));
  dirs.push(dir);
  const file = path.join(dir, "overseer.db");
  for (let i = 0; i < n; i++) stores.push(await SqliteStore.open({ path: file, clock }));
  return stores;
}

describe("claims on one SQLite file (SQLite only)", () => {
  it("20 stores take one key at once: exactly one wins; after the TTL, exactly one takes it over", async () => {
    let now = Date.UTC(2030, 0, 1);
    const all = await storesOnOneFile(20, () => now);
    const first = await raceForClaim(all, "story:1", 5_000);
    expect(first.winners).toHaveLength(1);
    expect(first.refusals).toEqual(Array(19).fill({ code: "CLAIM_HELD", holder: first.winners[0] }));

    now += 5_000; // the last millisecond held
    // Everyone but the holder (whose take would refresh it) tries, as new owners, in the last millisecond it is held.
    const others = all.filter((_, i) => `agent-${i}` !== first.winners[0]);
    expect((await raceForClaim(others, "story:1", 5_000, "late-")).winners).toEqual([]);
    now += 1;
    const second = await raceForClaim(all, "story:1", 5_000);
    expect(second.winners).toHaveLength(1);
    const claim = await all[0]?.getClaim("story:1");
    expect(claim).toMatchObject({ owner: second.winners[0], token: 2 });
    const taken = (await all[0]?.readEvents())?.filter((e) => e.kind === "claim.taken") ?? [];
    expect(taken.map((e) => e.data.owner)).toEqual([first.winners[0], second.winners[0]]);
    expect(taken[1]?.data).toMatchObject({ takeover: true, previousOwner: first.winners[0] });
  });
});
