/**
 * Enqueueing with a user's own PostgreSQL client, inside the transaction they began, so the job
 * commits or rolls back with their rows. The work runs under a savepoint: if it fails, their
 * transaction is left as it was and can go on. Events are appended as in every write (under
 * the events lock, so sequence numbers follow commit order), which means that lock is held
 * until the user commits: other event writers wait for their commit meanwhile.
 */
import { OverseerError } from "../../core/errors.js";
import type { NewJob } from "../../core/job-options.js";
import type { EnqueueResult, PgTransactionHandle, TransactionHandle } from "../store.js";
import { type PgConnection, type Queryable, quoteIdent, Transaction } from "./connection.js";
import { insertJob } from "./insert-job.js";
import * as sql from "./statements.js";

const SAVEPOINT = "SAVEPOINT overseer_enqueue_within";
const RELEASE = "RELEASE SAVEPOINT overseer_enqueue_within";
const ROLLBACK_TO = "ROLLBACK TO SAVEPOINT overseer_enqueue_within";
/** $1 search_path: set until the end of the transaction, or until the savepoint is rolled back. */
const SET_SEARCH_PATH = "SELECT set_config('search_path', $1, true)";
const CURRENT_SEARCH_PATH = "SELECT current_setting('search_path') AS path";

export async function enqueueWithin(
  conn: PgConnection,
  handle: TransactionHandle,
  job: NewJob,
): Promise<EnqueueResult> {
  assertPgHandle(handle);
  conn.assertOpen();
  try {
    await handle.query(SAVEPOINT);
  } catch (err) {
    throw notInTransaction(err);
  }
  try {
    const result = await insertUnderSavepoint(conn, bigintsAsNumbers(handle), job);
    await handle.query(RELEASE);
    return result;
  } catch (err) {
    try {
      await handle.query(ROLLBACK_TO);
      await handle.query(RELEASE);
    } catch (rollbackErr) {
      // The client is likely gone; its transaction is then rolled back by the server anyway.
      conn.warn("rolling back a failed enqueueWithin to its savepoint failed", rollbackErr as Error);
    }
    throw missingTables(err);
  }
}

async function insertUnderSavepoint(conn: PgConnection, client: Queryable, job: NewJob): Promise<EnqueueResult> {
  const schema = conn.options.schema;
  let restorePath: string | null = null;
  if (schema !== undefined) {
    // The store's tables are found through search_path, as on its own connections; the user's
    // setting is put back before returning, so their later statements are unaffected.
    restorePath = ((await client.query(CURRENT_SEARCH_PATH)).rows[0] as { path: string }).path;
    await client.query(SET_SEARCH_PATH, [quoteIdent(schema)]);
  }
  const now = conn.clock ? conn.clock() : ((await client.query(sql.DB_NOW)).rows[0] as { now: number | string }).now;
  const tx = new Transaction(client, Number(now), false);
  const result = await insertJob(tx, job);
  await tx.flushEvents();
  // Delivered to every LISTENing node only if the user's transaction commits.
  if (result.created) await client.query(sql.NOTIFY_CHANGES);
  if (restorePath !== null) await client.query(SET_SEARCH_PATH, [restorePath]);
  return result;
}

const INT8_OID = 20;

/**
 * The user's client parses BIGINT (our epoch-ms times and counts) as strings, unlike the
 * store's own pool; read through this, rows come back as the shared row mappers expect.
 */
function bigintsAsNumbers(client: PgTransactionHandle): Queryable {
  return {
    query: async (text, values) => {
      const result = (await client.query(text, values)) as {
        rows: Record<string, unknown>[];
        rowCount?: number | null;
        fields?: Array<{ name: string; dataTypeID: number }>;
      };
      for (const field of result.fields ?? []) {
        if (field.dataTypeID !== INT8_OID) continue;
        for (const row of result.rows) {
          if (typeof row[field.name] === "string") row[field.name] = Number(row[field.name]);
        }
      }
      return result;
    },
  };
}

/** Throws at once (not as a rejection), so a SQLite-style caller who passed the wrong handle sees it where they called. */
export function assertPgHandle(handle: unknown): asserts handle is PgTransactionHandle {
  const h = handle as Partial<PgTransactionHandle> | null;
  if (typeof h === "object" && h !== null && typeof h.query === "function") return;
  throw new OverseerError(
    "INVALID_ARGUMENT",
    "enqueueWithin on a PostgreSQL store takes your pg client (an object with query()) on which you ran BEGIN",
  );
}

/** SAVEPOINT fails outside a transaction block (25P01) and in an aborted one (25P02). */
function notInTransaction(err: unknown): unknown {
  const code = (err as { code?: unknown })?.code;
  if (code === "25P01") {
    return new OverseerError(
      "INVALID_ARGUMENT",
      "enqueueWithin must be called inside your transaction: run BEGIN on the client first (a Pool is not a transaction; use pool.connect())",
    );
  }
  if (code === "25P02") {
    return new OverseerError(
      "INVALID_ARGUMENT",
      "enqueueWithin was called in a transaction that has already failed; roll it back",
    );
  }
  return err;
}

function missingTables(err: unknown): unknown {
  if ((err as { code?: unknown })?.code !== "42P01") return err;
  return new OverseerError(
    "INVALID_ARGUMENT",
    `enqueueWithin found no Overseer tables through this client: connect it to the store's database (and schema): ${(err as Error).message}`,
  );
}
