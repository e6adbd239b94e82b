// Small PostgreSQL helpers shared by the pg-boss and graphile-worker adapters.
import pg from "pg";
import { config } from "../lib.mjs";

export async function withClient(fn) {
  const client = new pg.Client({ connectionString: config.pgUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema) {
  await withClient((client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
}

export async function openClient() {
  const client = new pg.Client({ connectionString: config.pgUrl });
  await client.connect();
  return client;
}
