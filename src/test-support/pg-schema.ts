/**
 * A PostgreSQL schema of its own per test, for tests whose Overseers run in other processes:
 * the schema is chosen by the database URL itself (`?options=-c search_path=<schema>`, a startup
 * option node-postgres passes to the server), so `createOverseer({ database: url })` in a fixture
 * and `overseer --database <url>` both work inside it. Dropped when the test passed, kept (its
 * name printed) when it failed. Overseers opened through it are closed when the test ends.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, onTestFinished } from "vitest";
import { createOverseer, type Overseer, type OverseerOptions } from "../sdk/overseer.js";

export const PG_URL = process.env.OVERSEER_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** `base` with a search_path startup option, so every connection made from it works in `schema`. */
export function urlForSchema(base: string, schema: string): string {
  const options = encodeURIComponent(`-c search_path=${schema}`);
  return `${base}${base.includes("?") ? "&" : "?"}options=${options}`;
}

/** A schema of its own for one test, and Overseers opened in it. */
export interface SchemaForTest {
  readonly schema: string;
  /** The database URL that selects this schema. */
  readonly url: string;
  /** An Overseer in this schema, closed when the test ends. */
  open(options?: Omit<OverseerOptions, "database">): Promise<Overseer>;
}

export interface TestSchema extends SchemaForTest {
  /** A query against this schema (tables unqualified), from the test's own pool. */
  query<T extends pg.QueryResultRow>(text: string, params?: unknown[]): Promise<T[]>;
}

/**
 * Call inside a test: makes a schema with `admin` (a statement on the database, outside any
 * schema), and drops it with `admin` when the test passed.
 */
export async function schemaForTest(base: string, admin: (text: string) => Promise<unknown>): Promise<SchemaForTest> {
  const schema = `overseer_t_${randomBytes(6).toString("hex")}`;
  await admin(`CREATE SCHEMA ${schema}`);
  const opened: Overseer[] = [];
  onTestFinished(async ({ task }) => {
    for (const overseer of opened.reverse()) await overseer.close();
    if (task.result?.state === "fail") {
      console.error(`kept schema ${schema} of the failed test "${task.name}" for inspection`);
      return;
    }
    await admin(`DROP SCHEMA ${schema} CASCADE`);
  });
  const url = urlForSchema(base, schema);
  return {
    schema,
    url,
    open: async (options = {}) => {
      const overseer = await createOverseer({ ...options, database: url });
      opened.push(overseer);
      return overseer;
    },
  };
}

/** Call at the top level of a test file: returns the function that makes a schema inside a test. */
export function pgSchemas(base = PG_URL): () => Promise<TestSchema> {
  let admin: pg.Pool | null = null;
  const pool = () => {
    admin ??= new pg.Pool({ connectionString: base, max: 2 });
    return admin;
  };
  afterAll(async () => {
    await admin?.end();
  });
  return async () => {
    const made = await schemaForTest(base, (text) => pool().query(text));
    return {
      ...made,
      query: async <T extends pg.QueryResultRow>(text: string, params: unknown[] = []) => {
        const client = await pool().connect();
        try {
          await client.query(`SET search_path = ${made.schema}`);
          return (await client.query<T>(text, params)).rows;
        } finally {
          await client.query("RESET search_path").catch(() => undefined);
          client.release();
        }
      },
    };
  };
}
