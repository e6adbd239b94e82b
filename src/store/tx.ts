/**
 * The small interface every store area is written once against: a read (`Db`) or a write
 * transaction (`Tx`) that both backends implement, and the two ways an operation runs.
 *
 * An operation is a generator (`Op`): it `yield*`s each statement to the backend, which answers
 * synchronously on SQLite (better-sqlite3 is synchronous, and a SQLite write transaction must
 * not span an `await`: other work of the process would run inside it) and asynchronously on
 * PostgreSQL. So one body of code runs unchanged on both: `runSync` drives it inside SQLite's
 * transaction without ever giving up the thread, `runAsync` awaits each statement's promise.
 *
 * SQL is written once too, with `$1`-style parameters (SQLite binds them positionally as well);
 * where the dialects truly differ (row locks, index hints, array parameters), a statement is a
 * pair of texts, one per dialect.
 */

/** An operation on the store: yield* a `Db`'s or `Tx`'s statements, return the result. */
export type Op<T> = Generator<unknown, T, unknown>;

export type Dialect = "sqlite" | "postgres";

/** SQL text the same on both backends, or one text per dialect where they differ. */
export type Sql = string | { readonly [D in Dialect]: string };

/** The text of `sql` for one dialect. */
export function sqlFor(sql: Sql, dialect: Dialect): string {
  return typeof sql === "string" ? sql : sql[dialect];
}

/**
 * SQL with dialect fragments in it: a pair of texts if any fragment differs, else one text.
 *
 *     sql`SELECT * FROM approvals WHERE ${inList("state", "$1")} ${FOR_UPDATE}`
 */
export function sql(strings: TemplateStringsArray, ...parts: ReadonlyArray<Sql | number>): Sql {
  const build = (dialect: Dialect) =>
    strings.reduce((text, s, i) => {
      const part = parts[i - 1];
      return text + (typeof part === "number" ? String(part) : sqlFor(part ?? "", dialect)) + s;
    });
  if (parts.every((p) => typeof p !== "object")) return build("sqlite");
  return { sqlite: build("sqlite"), postgres: build("postgres") };
}

/** Statements whose rows are read as one, in order. */
export function unionAll(parts: readonly Sql[]): Sql {
  const build = (dialect: Dialect) => parts.map((p) => sqlFor(p, dialect)).join("\nUNION ALL\n");
  return parts.every((p) => typeof p === "string")
    ? build("sqlite")
    : { sqlite: build("sqlite"), postgres: build("postgres") };
}

/**
 * Locks the rows read until the transaction ends, on PostgreSQL. SQLite has one writer at a time
 * for the whole file, so a write transaction already holds every row it reads.
 */
export const FOR_UPDATE: Sql = { sqlite: "", postgres: "FOR UPDATE" };

/**
 * Locks the rows read unless another transaction holds them, which then read as no row
 * (PostgreSQL). On SQLite no other transaction can hold one while this one runs.
 */
export const FOR_UPDATE_SKIP_LOCKED: Sql = { sqlite: "", postgres: "FOR UPDATE SKIP LOCKED" };

/** Names the index SQLite should use where its planner would pick a worse one; PostgreSQL plans alone. */
export function indexedBy(index: string): Sql {
  return { sqlite: `INDEXED BY ${index}`, postgres: "" };
}

/** `column` is one of the strings of a `Db.list` bound at `param` (`"$1"`). */
export function inList(column: string, param: string): Sql {
  return {
    sqlite: `${column} IN (SELECT value FROM json_each(${param}))`,
    postgres: `${column} = ANY(${param}::text[])`,
  };
}

/** Reads (and single-statement writes) outside a transaction, in the store's words. */
export interface Db {
  readonly dialect: Dialect;
  rows<T>(sql: Sql, params?: readonly unknown[]): Op<T[]>;
  one<T>(sql: Sql, params?: readonly unknown[]): Op<T | undefined>;
  /** Runs a statement and returns how many rows it changed. */
  run(sql: Sql, params?: readonly unknown[]): Op<number>;
  /** The store's clock (an injected one, or the database's). */
  now(): Op<number>;
  /** A list of strings as one parameter: `IN (SELECT value FROM json_each($n))` / `= ANY($n::text[])`. */
  list(values: readonly string[]): unknown;
}

/** A write transaction: everything it does commits together or not at all. */
export interface Tx extends Db {
  /** The transaction's one clock reading; every time it writes is this. */
  readonly at: number;
  /** Appends an event (in commit order with every other transaction's events). */
  event(kind: string, jobId: string | null, workerId: string | null, data: object, runId?: string | null): void;
  /** Wakes `onChange` listeners in every process once this transaction commits. */
  notify(): void;
  /**
   * Holds the lock named (class, key) until the transaction ends; another transaction asking for
   * it waits. Nothing to take on SQLite, where a write transaction excludes every other.
   */
  lock(lockClass: number, key: string): Op<void>;
}

/**
 * Runs an operation whose statements all answer synchronously (SQLite's). A statement's error
 * is thrown into the operation, as an `await` would, so its `try`/`finally` blocks run.
 */
export function runSync<T>(op: Op<T>): T {
  let step = op.next();
  while (!step.done) {
    if (step.value instanceof Promise) throw new Error("a synchronous store operation awaited a promise");
    step = op.next(step.value);
  }
  return step.value;
}

/** Runs an operation whose statements answer with promises (PostgreSQL's), awaiting each. */
export async function runAsync<T>(op: Op<T>): Promise<T> {
  let step = op.next();
  while (!step.done) {
    let answer: unknown;
    try {
      answer = await step.value;
    } catch (err) {
      step = op.throw(err);
      continue;
    }
    step = op.next(answer);
  }
  return step.value;
}

/**
 * A statement's answer, for a backend's `Db`: a synchronous backend returns it as it is, an
 * asynchronous one yields the promise to `runAsync`, which sends back what it resolved to.
 */
export function* answer<T>(value: T | Promise<T>): Op<T> {
  if (value instanceof Promise) return (yield value) as T;
  return value;
}
