/**
 * Where a chaos scenario runs: a fresh SQLite file, or a fresh PostgreSQL schema on the loopback
 * server (OVERSEER_TEST_PG_URL), each with a folder for the processes' logs. Everything is removed
 * when the scenario passed and kept, its path printed, when it failed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import type { Overseer } from "../sdk/overseer.js";
import { pgSchemas } from "../test-support/pg-schema.js";
import { tempDatabase } from "../test-support/temp-database.js";

export interface Place {
  /** What `createOverseer({ database })` and `overseer --database` take. */
  database: string;
  /** A folder for logs and config, removed with the place. */
  dir: string;
  /** An Overseer on it in this process, closed when the scenario ends. */
  overseer: Overseer;
}

export interface ChaosBackend {
  name: "sqlite" | "postgres";
  /** Worker processes in the kill scenarios: all but one are killed. */
  workers: number;
  fresh(): Promise<Place>;
}

export const sqlite: ChaosBackend = {
  name: "sqlite",
  workers: 2,
  async fresh() {
    const db = tempDatabase("overseer-chaos-");
    return { database: db.path, dir: db.dir, overseer: await db.open() };
  },
};

/** Call at the top level of a test file (it registers the schemas' cleanup). */
export function postgres(): ChaosBackend {
  const schemas = pgSchemas();
  return {
    name: "postgres",
    workers: 3,
    async fresh() {
      const db = await schemas();
      const dir = mkdtempSync(join(tmpdir(), "overseer-chaos-"));
      onTestFinished(({ task }) => {
        if (task.result?.state === "fail") console.warn(`kept the logs of failed test "${task.name}": ${dir}`);
        else rmSync(dir, { recursive: true, force: true });
      });
      return { database: db.url, dir, overseer: await db.open() };
    },
  };
}
