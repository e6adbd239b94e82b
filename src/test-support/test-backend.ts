/**
 * The backend that tests above the store run on: SQLite unless `OVERSEER_TEST_BACKEND=postgres`
 * (the store's own conformance suite runs on both, always). `npm test` runs the suite on SQLite,
 * then again, on PostgreSQL, every test file that gets its database from here or from `testApi`.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { onTestFinished } from "vitest";
import { createOverseer, type Overseer, type OverseerOptions } from "../sdk/overseer.js";
import { PG_URL, urlForSchema } from "./pg-schema.js";
import { tempDatabase } from "./temp-database.js";

export type TestBackend = "sqlite" | "postgres";

export const TEST_BACKEND: TestBackend = backendFrom(process.env.OVERSEER_TEST_BACKEND);

export interface TestDatabase {
  readonly backend: TestBackend;
  /** What `database` (or `--database`) takes to reach it: a file's path, or a URL naming the schema. */
  readonly database: string;
  /** An Overseer on this database, closed when the test ends. */
  open(options?: Omit<OverseerOptions, "database">): Promise<Overseer>;
}

/**
 * Call inside a test: a new database on the test backend (a file in a folder of its own, or a
 * schema of its own), closed and removed when the test ends, kept and named when it failed.
 */
export async function testDatabase(prefix = "overseer-test-"): Promise<TestDatabase> {
  if (TEST_BACKEND === "sqlite") {
    const db = tempDatabase(prefix);
    return { backend: "sqlite", database: db.path, open: (options) => db.open(options) };
  }
  const schema = `overseer_t_${randomBytes(6).toString("hex")}`;
  await adminQuery(`CREATE SCHEMA ${schema}`);
  const opened: Overseer[] = [];
  onTestFinished(async ({ task }) => {
    for (const overseer of opened.reverse()) await overseer.close();
    if (task.result?.state === "fail") {
      console.error(`kept schema ${schema} of the failed test "${task.name}" for inspection`);
      return;
    }
    await adminQuery(`DROP SCHEMA ${schema} CASCADE`);
  });
  const database = urlForSchema(PG_URL, schema);
  return {
    backend: "postgres",
    database,
    open: async (options = {}) => {
      const overseer = await createOverseer({ ...options, database });
      opened.push(overseer);
      return overseer;
    },
  };
}

/** One statement on a connection of its own, so no pool outlives the test file. */
async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

function backendFrom(value: string | undefined): TestBackend {
  if (value === undefined || value === "" || value === "sqlite") return "sqlite";
  if (value === "postgres") return "postgres";
  throw new Error(`OVERSEER_TEST_BACKEND is "${value}"; use "sqlite" (the default) or "postgres"`);
}
