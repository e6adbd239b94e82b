/**
 * The store's `Db` and `Tx` (see ../tx.ts) on a SQLite connection. Every statement answers at
 * once, so an operation runs to its end without giving up the thread: a write transaction is
 * never open while other work of the process runs.
 */
import { answer, type Db, type Op, type Sql, sqlFor, type Tx } from "../tx.js";
import type { SqliteConnection } from "./connection.js";

export class SqliteDb implements Db {
  readonly dialect = "sqlite";

  constructor(protected readonly conn: SqliteConnection) {}

  rows<T>(sql: Sql, params: readonly unknown[] = []): Op<T[]> {
    return answer(this.conn.stmt(sqlFor(sql, "sqlite")).all(...params) as T[]);
  }

  one<T>(sql: Sql, params: readonly unknown[] = []): Op<T | undefined> {
    return answer(this.conn.stmt(sqlFor(sql, "sqlite")).get(...params) as T | undefined);
  }

  run(sql: Sql, params: readonly unknown[] = []): Op<number> {
    return answer(this.conn.stmt(sqlFor(sql, "sqlite")).run(...params).changes);
  }

  now(): Op<number> {
    return answer(this.conn.clock());
  }

  /** Read back with `json_each`. */
  list(values: readonly string[]): unknown {
    return JSON.stringify(values);
  }
}

/** Made inside `SqliteConnection.write`, whose transaction it is. */
export class SqliteTx extends SqliteDb implements Tx {
  /** Whether the operation made work ready: the store wakes its workers once it committed. */
  notified = false;

  constructor(
    conn: SqliteConnection,
    readonly at: number,
  ) {
    super(conn);
  }

  override now(): Op<number> {
    return answer(this.at);
  }

  event(kind: string, jobId: string | null, workerId: string | null, data: object, runId: string | null = null): void {
    this.conn.event(this.at, kind, jobId, workerId, data, runId);
  }

  notify(): void {
    this.notified = true;
  }

  /** Nothing to take: this transaction is the file's only writer until it ends. */
  lock(): Op<void> {
    return answer(undefined);
  }
}
