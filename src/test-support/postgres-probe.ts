/**
 * Whether the PostgreSQL the tests use answers, asked once before a run: without it, hundreds
 * of tests would each fail with a bare ECONNREFUSED; this says what is missing in one line.
 */
import pg from "pg";
import { maskUrl } from "../store/database-url.js";

/** How to get the server the tests expect (what `.ci/run` does on a Debian machine). */
export const POSTGRES_HOWTO =
  "npm test needs PostgreSQL at 127.0.0.1:5432 with a database named test and trust auth for local connections " +
  '(Debian: apt-get install -y postgresql, then pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start ' +
  "and createdb -h 127.0.0.1 -U postgres test), or OVERSEER_TEST_PG_URL naming another server";

/** Null when `url` answers `SELECT 1`; otherwise one line saying what failed and what is needed. */
export async function probePostgres(url: string, timeoutMs = 5_000): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  // A connection that fails after connecting (the server going away) would otherwise be an unhandled error.
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { code?: string };
    const reason = [e.code, e.message].filter((s) => s !== undefined && s !== "").join(" ");
    return `PostgreSQL at ${maskUrl(url)} did not answer (${reason.replaceAll("\n", " ")}). ${POSTGRES_HOWTO}.`;
  } finally {
    await client.end().catch(() => undefined); // it may never have connected
  }
}
