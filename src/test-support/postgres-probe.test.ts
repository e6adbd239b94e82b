import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { PG_URL } from "./pg-schema.js";
import { POSTGRES_HOWTO, probePostgres } from "./postgres-probe.js";

/** A loopback port nothing listens on: one the OS just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("the PostgreSQL probe before a test run", () => {
  it("says in one line that the server did not answer, and what npm test needs", async () => {
    const port = await closedPort();
    const problem = await probePostgres(`postgres://postgres:pw@127.0.0.1:${port}/test`);
    expect(problem).toBe(
      `PostgreSQL at postgres://postgres:***@127.0.0.1:${port}/test did not answer ` +
        `(ECONNREFUSED connect ECONNREFUSED 127.0.0.1:${port}). ${POSTGRES_HOWTO}.`,
    );
    expect(problem).not.toContain("\n");
    expect(POSTGRES_HOWTO).toContain("127.0.0.1:5432 with a database named test and trust auth");
  });

  it("names a missing database too", async () => {
    const problem = await probePostgres(PG_URL.replace(/\/test$/, "/overseer_no_such_database"));
    expect(problem).toMatch(/^PostgreSQL at \S+\/overseer_no_such_database did not answer \(3D000 database .+\)\. /);
  });

  it("is satisfied by the server the tests use", async () => {
    expect(await probePostgres(PG_URL)).toBeNull();
  });
});
