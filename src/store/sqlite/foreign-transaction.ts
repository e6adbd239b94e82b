/**
 * Enqueueing with a user's own better-sqlite3 connection, inside their transaction, so the job
 * commits or rolls back with their rows. Their connection must be on the store's file (checked
 * once per connection) and inside a transaction; its statements are prepared once per
 * connection, with the same `?N` rewriting as the store's own.
 */
import { OverseerError } from "../../core/errors.js";
import type { SqliteTransactionHandle, TransactionHandle } from "../store.js";
import { prepare, type Statement } from "./connection.js";
import type { JobWriter } from "./insert-job.js";
import * as sql from "./statements.js";

/** The file a connection is on, as SQLite names it (absolute), so two spellings of one path compare equal. */
export const MAIN_FILE = "SELECT file FROM pragma_database_list WHERE name = 'main'";

const writers = new WeakMap<SqliteTransactionHandle, ForeignWriter>();

/**
 * The writer for `handle`, checked: INVALID_ARGUMENT when it is not a SQLite connection, is on
 * another file than `storeFile`, or has no transaction open.
 */
export function foreignWriter(handle: TransactionHandle, storeFile: string): JobWriter {
  if (!isSqliteHandle(handle)) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      "enqueueWithin on a SQLite store takes your better-sqlite3 Database (an object with prepare() and inTransaction)",
    );
  }
  let writer = writers.get(handle);
  if (!writer) {
    writer = new ForeignWriter(handle);
    const file = (writer.stmt(MAIN_FILE).get() as { file: string } | undefined)?.file;
    if (file !== storeFile) {
      throw new OverseerError(
        "INVALID_ARGUMENT",
        `enqueueWithin needs a connection to the store's database "${storeFile}", got one to "${file ?? "?"}"`,
        { expected: storeFile, got: file ?? null },
      );
    }
    writers.set(handle, writer);
  }
  // Checked on every call: outside a transaction the insert would commit on its own at once.
  if (!handle.inTransaction) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      "enqueueWithin must be called inside your transaction: db.transaction(() => { ...; overseer.enqueueWithin(db, ...) })()",
    );
  }
  return writer;
}

class ForeignWriter implements JobWriter {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: SqliteTransactionHandle) {}

  stmt(text: string): Statement {
    let s = this.statements.get(text);
    if (!s) {
      s = prepare(this.db as Parameters<typeof prepare>[0], text);
      this.statements.set(text, s);
    }
    return s;
  }

  event(at: number, kind: string, jobId: string | null, workerId: string | null, data: object): number {
    return Number(
      this.stmt(sql.INSERT_EVENT).run(at, kind, jobId, workerId, JSON.stringify(data), null).lastInsertRowid,
    );
  }
}

function isSqliteHandle(handle: unknown): handle is SqliteTransactionHandle {
  const h = handle as Partial<SqliteTransactionHandle> | null;
  return typeof h === "object" && h !== null && typeof h.prepare === "function" && typeof h.inTransaction === "boolean";
}
