/**
 * Once per `vitest run`, before any test file: the PostgreSQL the store's tests use must answer,
 * or the run stops here with one line saying what it needs and how to get it.
 */
import { PG_URL } from "./pg-schema.js";
import { probePostgres } from "./postgres-probe.js";

export default async function setup(): Promise<void> {
  const problem = await probePostgres(PG_URL);
  if (problem === null) return;
  // Thrown, the error would come after vitest's "No test files found" and a banner; this line
  // is the whole story, so it is all that is printed.
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
