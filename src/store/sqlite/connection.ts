/**
 * One SQLite connection and what every part of the SQLite store needs from it: prepared
 * statements (cached, bound positionally, waiting in fine steps for other processes' locks),
 * write transactions that take the lock up front, background checkpoints, the store's clock and
 * the event append. Invariant: every write goes through `write`, so it is one transaction that
 * either commits whole or leaves nothing behind.
 */
import { statSync } from "node:fs";
import Database from "better-sqlite3";
import { OverseerError } from "../../core/errors.js";
import { hasNul, nulInStore } from "../../core/nul.js";
import * as sql from "./statements.js";

export interface ConnectionOptions {
  /** Path of the database file; it is created if its folder exists. */
  path: string;
  /** `normal` (default): survives process crashes. `full`: also survives power loss. */
  durability?: "normal" | "full";
  /** How long a writer waits for the file lock held by another process. Default 10 s. */
  busyTimeoutMs?: number;
  /** The store's clock; tests inject one. */
  clock?: () => number;
  /** Where background problems (a failed checkpoint or file watch) are reported. */
  onWarning?: (message: string, err: Error) => void;
}

/** The subset of a prepared statement the store uses, with positional arguments. */
export interface Statement {
  run(...args: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...args: unknown[]): unknown;
  all(...args: unknown[]): unknown[];
}

const DEFAULT_BUSY_TIMEOUT_MS = 10_000;
const FALLBACK_AUTOCHECKPOINT_FRAMES = 20_000;
/**
 * How soon after a write the background checkpoint runs. Each costs this process about 0.7 ms
 * plus 2 µs per WAL frame; checkpointing less often makes the log, and each stall, longer.
 */
const CHECKPOINT_DELAY_MS = 250;

export class SqliteConnection {
  readonly clock: () => number;
  readonly warn: (message: string, err: Error) => void;
  private readonly statements = new Map<string, Statement>();
  private readonly busyTimeoutMs: number;
  private checkpointTimer: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    options: ConnectionOptions,
  ) {
    this.clock = options.clock ?? Date.now;
    this.warn = options.onWarning ?? ((): void => undefined);
    this.busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  }

  /** Opens the file with the settings every connection needs. Fails with DATABASE_UNAVAILABLE and writes nothing if it cannot. */
  static open(options: ConnectionOptions): SqliteConnection {
    const path = options.path;
    if (typeof path !== "string" || path.trim() === "") {
      throw new OverseerError("DATABASE_UNAVAILABLE", "database path is empty");
    }
    if (path === ":memory:") {
      throw new OverseerError("DATABASE_UNAVAILABLE", "an in-memory database cannot be shared; give a file path");
    }
    let db: Database.Database;
    try {
      if (isDirectory(path)) throw new Error("it is a directory");
      db = new Database(path, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
    } catch (err) {
      throw new OverseerError("DATABASE_UNAVAILABLE", `cannot open database "${path}": ${reason(err)}`, { path });
    }
    try {
      // Small pages: every commit writes each page it touched to the WAL, so for small rows the
      // page size, not the row, sets the bytes written per enqueue. Only takes effect on a new file.
      db.pragma("page_size = 2048");
      retryWhileBusy(() => db.pragma("journal_mode = WAL"), options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
      db.pragma(`synchronous = ${options.durability === "full" ? "FULL" : "NORMAL"}`);
      db.pragma("foreign_keys = OFF");
      // SQLite's own default page cache (2 MiB); the driver's build raises it to 16 MiB, which
      // here only made workers bigger and, by cache locality, slower.
      db.pragma("cache_size = -2000");
      // Checkpoints copy the WAL into the database file and fsync it. Left to SQLite, they run
      // inside whichever commit crosses 1,000 frames, adding milliseconds to that enqueue or
      // claim. A timer runs them instead (see checkpointSoon); this high threshold only
      // bounds the WAL when a process writes in a burst that never lets timers run.
      db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_FRAMES}`);
    } catch (err) {
      db.close();
      throw new OverseerError("DATABASE_UNAVAILABLE", `cannot use database "${path}": ${reason(err)}`, { path });
    }
    return new SqliteConnection(db, options);
  }

  /**
   * From now on wait for locks in this process (see waitingForLocks), in far finer steps than
   * SQLite's busy handler, whose first sleep is a whole millisecond. Opening and the first
   * migration keep SQLite's handler, since two processes may be creating the file at once.
   */
  waitForLocksHere(): void {
    this.db.pragma("busy_timeout = 0");
  }

  /** The schema version recorded in the file. */
  get userVersion(): number {
    return this.db.pragma("user_version", { simple: true }) as number;
  }

  set userVersion(version: number) {
    this.db.pragma(`user_version = ${Math.trunc(version)}`);
  }

  /** `PRAGMA data_version`: changes when another connection's commit becomes visible here. */
  dataVersion(): number {
    return (this.stmt("PRAGMA data_version").get() as { data_version: number }).data_version;
  }

  /** Runs a script of statements (migrations). */
  /** Whether `table` has `column` (migrations that must look before they change a table). */
  hasColumn(table: string, column: string): boolean {
    return (this.db.pragma(`table_info(${JSON.stringify(table)})`) as Array<{ name: string }>).some(
      (c) => c.name === column,
    );
  }

  exec(script: string): void {
    this.db.exec(script);
  }

  /** Runs `fn` in a write transaction, taking the file lock up front so it cannot deadlock on upgrade. */
  write<T>(fn: () => T): T {
    if (this.closed) throw new OverseerError("SHUTTING_DOWN", "the store is closed");
    if (this.db.inTransaction) return fn();
    this.stmt("BEGIN IMMEDIATE").run();
    try {
      const result = fn();
      this.stmt("COMMIT").run();
      this.checkpointSoon();
      return result;
    } catch (err) {
      // SQLite may already have rolled back (e.g. on SQLITE_FULL); only roll back what is still open.
      if (this.db.inTransaction) this.stmt("ROLLBACK").run();
      throw err;
    }
  }

  /** A prepared statement for `text`, cached; `raw` ones return rows as arrays. */
  stmt(text: string, options: { raw?: boolean } = {}): Statement {
    const key = options.raw ? `raw:${text}` : text;
    let s = this.statements.get(key);
    if (!s) {
      s = waitingForLocks(prepare(this.db, text, options.raw ?? false), this.busyTimeoutMs);
      this.statements.set(key, s);
    }
    return s;
  }

  /** Appends one event; call inside `write`, with the transaction's `now`. */
  event(
    at: number,
    kind: string,
    jobId: string | null,
    workerId: string | null,
    data: object,
    runId: string | null = null,
  ): number {
    const result = this.stmt(sql.INSERT_EVENT).run(at, kind, jobId, workerId, JSON.stringify(data), runId);
    return Number(result.lastInsertRowid);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    this.db.close();
  }

  /**
   * A passive checkpoint shortly after writes, outside any enqueue or claim: it never blocks
   * other readers or writers, and skips frames that a reader still needs.
   */
  private checkpointSoon(): void {
    if (this.checkpointTimer) return;
    this.checkpointTimer = setTimeout(() => {
      this.checkpointTimer = null;
      if (this.closed) return;
      try {
        this.db.pragma("wal_checkpoint(PASSIVE)");
      } catch (err) {
        this.warn("WAL checkpoint failed; SQLite will retry at its own threshold", err as Error);
      }
    }, CHECKPOINT_DELAY_MS);
    this.checkpointTimer.unref();
  }
}

/** The little of a connection `prepare` uses; a better-sqlite3 `Database` fits. */
export interface Preparer {
  prepare(text: string): Statement & { raw(raw: boolean): unknown };
}

/**
 * Statements are written with numbered parameters (?1, ?2, or $1, $2 in SQL shared with
 * PostgreSQL) so that one value can be used twice and each statement's comment can name them.
 * better-sqlite3 binds those only by name, so they are rewritten to plain `?` and the arguments
 * reordered to match, which keeps binding positional (the fastest kind).
 */
export function prepare(db: Preparer, text: string, raw = false): Statement {
  const numbers = [...text.matchAll(/[?$](\d+)/g)].map((m) => Number(m[1]) - 1);
  const stmt = db.prepare(numbers.length === 0 ? text : text.replace(/[?$]\d+/g, "?"));
  if (raw) stmt.raw(true);
  if (numbers.length === 0) return stmt;
  if (numbers.every((n, i) => n === i)) return stmt;
  const bind = (args: unknown[]) => numbers.map((n) => args[n]);
  return {
    run: (...args) => stmt.run(bind(args)),
    get: (...args) => stmt.get(bind(args)),
    all: (...args) => stmt.all(bind(args)),
  };
}

/**
 * Runs a statement, and if another process holds the lock it needs (SQLITE_BUSY), waits and
 * tries again: 50 µs at first, doubling up to 2 ms, until `timeoutMs`. A write transaction holds
 * the lock for a fraction of a millisecond, so these short waits cut the delay of a collision
 * from SQLite's 1-3 ms to about what the other writer actually needs. Waiting blocks this
 * process, as SQLite's own busy handler would.
 */
function waitingForLocks(stmt: Statement, timeoutMs: number): Statement {
  const retry = <T>(call: () => T): T => {
    try {
      return call();
    } catch (err) {
      if (!isBusy(err)) throw err;
      const deadline = performance.now() + timeoutMs;
      for (let waitMs = 0.05; ; waitMs = Math.min(2, waitMs * 2)) {
        Atomics.wait(SLEEP_CELL, 0, 0, waitMs);
        try {
          return call();
        } catch (again) {
          if (!isBusy(again)) throw again;
          if (performance.now() > deadline) {
            throw new OverseerError(
              "DATABASE_UNAVAILABLE",
              `the database stayed locked by another process for more than ${timeoutMs} ms`,
              { timeoutMs },
            );
          }
        }
      }
    }
  };
  return {
    run: (...args) => retry(() => stmt.run(...refusingNul(args))),
    get: (...args) => retry(() => stmt.get(...refusingNul(args))),
    all: (...args) => retry(() => stmt.all(...refusingNul(args))),
  };
}

/**
 * SQLite would store a NUL in text, PostgreSQL refuses it: refused here too, with the same
 * error, so that a string the store accepts on one backend it accepts on the other.
 */
function refusingNul(args: unknown[]): unknown[] {
  for (const arg of args) if (typeof arg === "string" && hasNul(arg)) throw nulInStore();
  return args;
}

const SLEEP_CELL = new Int32Array(new SharedArrayBuffer(4));

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    // Does not exist yet: SQLite creates it (if its folder exists).
    return false;
  }
}

/**
 * Runs `f` again, after a few milliseconds, while it fails because another connection holds the
 * file, for up to `timeoutMs`. Switching a new file to WAL needs it alone: when two processes open
 * the same new file at once, SQLite answers one of them "database is locked" at once rather than
 * waiting (waiting could deadlock), whatever the busy timeout.
 */
export function retryWhileBusy<T>(f: () => T, timeoutMs: number): T {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return f();
    } catch (err) {
      if (!isBusy(err) || Date.now() >= deadline) throw err;
      Atomics.wait(SLEEP_CELL, 0, 0, 5);
    }
  }
}

function reason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/directory does not exist/i.test(message)) return "its folder does not exist";
  return message;
}
