/**
 * The store's `Db` and `Tx` (see ../tx.ts) on the PostgreSQL pool: each statement's promise is
 * yielded to `runAsync`, which resumes the operation with its answer.
 */
import { answer, type Db, type Op, type Sql, sqlFor, type Tx } from "../tx.js";
import type { PgConnection, Tx as PgTransaction } from "./connection.js";

export class PgDb implements Db {
  readonly dialect = "postgres";

  constructor(private readonly conn: PgConnection) {}

  rows<T>(sql: Sql, params: readonly unknown[] = []): Op<T[]> {
    return answer(this.conn.rows<T>(sqlFor(sql, "postgres"), params));
  }

  one<T>(sql: Sql, params: readonly unknown[] = []): Op<T | undefined> {
    return answer(this.conn.one<T>(sqlFor(sql, "postgres"), params));
  }

  run(sql: Sql, params: readonly unknown[] = []): Op<number> {
    return answer(this.conn.run(sqlFor(sql, "postgres"), params));
  }

  now(): Op<number> {
    return answer(this.conn.now());
  }

  /** Bound as a text[]. */
  list(values: readonly string[]): unknown {
    return values;
  }
}

/** Wraps a transaction of `PgConnection.write`. */
export class PgTx implements Tx {
  readonly dialect = "postgres";
  /** Whether the operation made work ready: this process's workers are woken once it committed (others by NOTIFY). */
  notified = false;

  /** @param transaction the connection's transaction, which the hot path's steps take as it is. */
  constructor(readonly transaction: PgTransaction) {}

  get at(): number {
    return this.transaction.now;
  }

  rows<T>(sql: Sql, params: readonly unknown[] = []): Op<T[]> {
    return answer(this.transaction.rows<T>(sqlFor(sql, "postgres"), params));
  }

  one<T>(sql: Sql, params: readonly unknown[] = []): Op<T | undefined> {
    return answer(this.transaction.one<T>(sqlFor(sql, "postgres"), params));
  }

  run(sql: Sql, params: readonly unknown[] = []): Op<number> {
    return answer(this.transaction.run(sqlFor(sql, "postgres"), params));
  }

  now(): Op<number> {
    return answer(this.transaction.now);
  }

  list(values: readonly string[]): unknown {
    return values;
  }

  event(kind: string, jobId: string | null, workerId: string | null, data: object, runId: string | null = null): void {
    this.transaction.event(kind, jobId, workerId, data, runId);
  }

  notify(): void {
    this.notified = true;
    this.transaction.notify();
  }

  lock(lockClass: number, key: string): Op<void> {
    return answer(this.transaction.lock(lockClass, key));
  }
}
