/**
 * The backend that tests above the store run on: SQLite unless `OVERSEER_TEST_BACKEND=postgres`
 * (the store's own conformance suite runs on both, always). `npm test` runs the suite on SQLite,
 * then again, on PostgreSQL, every test file that gets its database from here or from `testApi`.
 */
import pg from "pg";
import type { Overseer, OverseerOptions } from "../sdk/overseer.js";
import { PG_URL, schemaForTest } from "./pg-schema.js";
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
  const made = await schemaForTest(PG_URL, adminQuery);
  return { backend: "postgres", database: made.url, open: made.open };
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
