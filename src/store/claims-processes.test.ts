/**
 * At most one holder across processes: 20 takers in 5 processes (4 each, concurrently), started
 * together by one signal, race for one key, on one SQLite file and on one PostgreSQL schema.
 * The takers import the built package (npm test builds it first).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createOverseer } from "../sdk/overseer.js";
import { type Fixture, killAllFixtures, startFixture } from "../test-support/child-processes.js";
import { pgSchemas } from "../test-support/pg-schema.js";
import { tempDatabase } from "../test-support/temp-database.js";

const PROCESSES = 5;
const PER_PROCESS = 4;

beforeAll(() => {
  if (!existsSync(resolve(import.meta.dirname, "../../dist/index.js"))) {
    throw new Error("dist/index.js is missing: run `npm run build` first (npm test does)");
  }
});
afterEach(killAllFixtures);

const newSchema = pgSchemas();

interface Result {
  owner: string;
  acquired?: boolean;
  token?: number;
  code?: string;
  holder?: string | null;
  message?: string;
}

/** Starts the takers, waits until each is ready, signals them all at once and gathers every result. */
async function race(database: string, key: string): Promise<{ results: Result[]; ms: number }> {
  const takers: Fixture[] = [];
  for (let p = 0; p < PROCESSES; p++) {
    const owners = Array.from({ length: PER_PROCESS }, (_, i) => `p${p}-agent-${i}`);
    takers.push(startFixture("claim-taker.mjs", { database, key, owners, ttl: "30s" }));
  }
  await Promise.all(takers.map((t) => t.waitForLine("ready", 20_000)));
  const started = performance.now();
  for (const t of takers) t.kill("SIGUSR2");
  const exits = await Promise.all(takers.map((t) => t.exited));
  const ms = performance.now() - started;
  for (const [i, exit] of exits.entries()) expect(exit.code, takers[i]?.stderr()).toBe(0);
  const results = takers.flatMap((t) =>
    t.lines.filter((l) => l.startsWith("result ")).map((l) => JSON.parse(l.slice(7)) as Result),
  );
  return { results, ms };
}

function expectOneWinner(results: Result[]): string {
  expect(results).toHaveLength(PROCESSES * PER_PROCESS);
  const winners = results.filter((r) => r.acquired === true);
  expect(winners, JSON.stringify(results)).toHaveLength(1);
  const winner = winners[0]?.owner as string;
  const losers = results.filter((r) => r.owner !== winner);
  expect(losers.map((r) => [r.code, r.holder])).toEqual(Array(losers.length).fill(["CLAIM_HELD", winner]));
  return winner;
}

describe("claims across processes", () => {
  it("on one SQLite file: 20 takers in 5 processes, exactly one winner", async () => {
    const db = tempDatabase("overseer-claims-procs-");
    const overseer = await db.open();
    const { results, ms } = await race(db.path, "story:1");
    const winner = expectOneWinner(results);
    expect(await overseer.getClaim("story:1")).toMatchObject({ owner: winner, token: 1 });
    console.info(
      `claims across processes on SQLite: 20 takers, one winner, ${ms.toFixed(0)} ms from the signal to the last exit`,
    );
  });

  it("on one PostgreSQL schema: 20 takers in 5 processes, exactly one winner", async () => {
    const { url } = await newSchema();
    const overseer = await createOverseer({ database: url });
    try {
      const { results, ms } = await race(url, "story:1");
      const winner = expectOneWinner(results);
      expect(await overseer.getClaim("story:1")).toMatchObject({ owner: winner, token: 1 });
      const taken = (await overseer.readEvents()).filter((e) => e.kind === "claim.taken");
      expect(taken.map((e) => e.data.owner)).toEqual([winner]);
      console.info(
        `claims across processes on PostgreSQL: 20 takers, one winner, ${ms.toFixed(0)} ms from the signal to the last exit`,
      );
    } finally {
      await overseer.close();
    }
  });
});
