/**
 * A pool of PostgreSQL connections and what every part of the PostgreSQL store needs from it:
 * transactions that read the store's clock once, buffer their events and append them last, and
 * send the wakeup notification; reads outside transactions; errors mapped to OverseerErrors.
 * Invariants: every write goes through `write`, so it commits whole or leaves nothing behind;
 * event sequence numbers are assigned in commit order (see `flushEvents`).
 */
import pg from "pg";
import { OverseerError } from "../../core/errors.js";
import { nulInStore } from "../../core/nul.js";
import { maskUrl } from "../database-url.js";
import { LOCK } from "../locks.js";
import { insertValues, type Literal, literal, textArrayLiteral } from "./literals.js";
import * as sql from "./statements.js";

export interface PgConnectionOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** Tables live in this schema (set as the connections' search_path); it must exist. Default: the server's search_path. */
  schema?: string;
  /** The store's clock; tests inject one. Default: the database's clock, read once per transaction. */
  clock?: () => number;
  /** Connections in the pool. Default 10. */
  poolSize?: number;
  /** How long to wait for a connection to open. Default 5 s. */
  connectTimeoutMs?: number;
  /** Where background problems (a lost LISTEN connection, an idle client's error) are reported. */
  onWarning?: (message: string, err: Error) => void;
}

/** What a transaction body can do. Times are the transaction's one `now`. */
export interface Tx {
  readonly now: number;
  rows<T>(text: string, params?: readonly unknown[]): Promise<T[]>;
  one<T>(text: string, params?: readonly unknown[]): Promise<T | undefined>;
  /** Runs a statement and returns how many rows it changed. */
  run(text: string, params?: readonly unknown[]): Promise<number>;
  /** The results of the statements that opened the transaction with BEGIN (see `PgConnection.write`). */
  readonly opened: ReadonlyArray<{ rows: unknown[] }>;
  /** Inserts a row (values as literals, in column order) before the next statement, or at commit. */
  insertLater(table: string, columns: readonly string[], row: Literal[]): void;
  /** Buffers an event; it is appended with the others when the transaction ends (or on `flushEvents`). */
  event(kind: string, jobId: string | null, workerId: string | null, data: object, runId?: string | null): void;
  /** Appends the buffered events now and returns every sequence number this transaction got, in order. */
  flushEvents(): Promise<number[]>;
  /** Wake `onChange` listeners in every process once this transaction commits. */
  notify(): void;
  /** Takes a transaction-level advisory lock (class, key), waiting for it. Each pair is taken once. */
  lock(lockClass: number, key: string): Promise<void>;
}

/** Re-exported for this backend's modules that take locks outside the shared store areas. */
export { LOCK };

export const CHANGES_CHANNEL = "overseer_changes";

/** A statement prepared once per connection (SQL PREPARE), so the server plans it once, not per use. */
export interface PreparedStatement {
  name: string;
  /** `PREPARE name (types) AS ...`. */
  sql: string;
}

/** What opens a transaction in the round trip of its BEGIN (see `PgConnection.write`). */
export interface Opening {
  /** Prepared statements the opening EXECUTEs; prepared first on a connection that lacks them. */
  prepared?: readonly PreparedStatement[];
  /** The statements after BEGIN and the clock read, built with the SQL of the clock. */
  statements: (nowSql: string) => string[];
}

/** One opening made of several: their statements in order (results in `tx.opened` likewise). */
export function openings(...parts: ReadonlyArray<Opening | undefined>): Opening | undefined {
  const present = parts.filter((p) => p !== undefined);
  if (present.length <= 1) return present[0];
  return {
    prepared: present.flatMap((p) => p.prepared ?? []),
    statements: (nowSql) => present.flatMap((p) => p.statements(nowSql)),
  };
}

const UNKNOWN_PREPARED_STATEMENT = "26000";

/** The prepared statements each pooled connection has (a connection is one server session), by name. */
const preparedOnClient = new WeakMap<pg.PoolClient, ReadonlyMap<string, PreparedStatement>>();

/**
 * The statements this client must have prepared for `wanted`: null if it has them all, else
 * those wanted and those it had. A script that failed part-way may have prepared some of them,
 * so preparing starts from scratch (DEALLOCATE ALL, see `preparingScript`: the store prepares
 * statements only this way, never through the driver's named queries), and `withPrepared`
 * records the new set only once its script has gone through.
 */
function preparing(client: pg.PoolClient, wanted: readonly PreparedStatement[]): Map<string, PreparedStatement> | null {
  const have = preparedOnClient.get(client);
  if (wanted.every((p) => have?.has(p.name))) return null;
  return new Map([...(have ?? new Map()), ...wanted.map((p) => [p.name, p] as const)]);
}

/** The script that prepares `set` from scratch (none for null). */
function preparingScript(set: ReadonlyMap<string, PreparedStatement> | null): string[] {
  return set === null ? [] : ["DEALLOCATE ALL", ...[...set.values()].map((p) => p.sql)];
}
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** Deadlocks (two claims taking concurrency-key locks in opposite orders) are retried this often. */
const MAX_TRIES = 5;
const INT8_OID = 20;

/**
 * BIGINT (epoch ms, counts, seq) comes back as a JS number, as in SQLite. Set per pool rather
 * than globally in `pg.types`, so other users of `pg` in the same process are unaffected.
 */
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID && format !== "binary"
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format ?? "text")) as typeof pg.types.getTypeParser,
};

export class PgConnection {
  readonly clock: (() => number) | null;
  readonly warn: (message: string, err: Error) => void;
  readonly target: string;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    readonly options: PgConnectionOptions,
  ) {
    this.clock = options.clock ?? null;
    this.warn = options.onWarning ?? ((): void => undefined);
    this.target = maskUrl(options.url);
  }

  /** Opens the pool and checks that the database answers. Fails with DATABASE_UNAVAILABLE if it cannot. */
  static async open(options: PgConnectionOptions): Promise<PgConnection> {
    const pool = new pg.Pool(clientConfig(options, options.poolSize ?? 10));
    const conn = new PgConnection(pool, options);
    // An idle client's connection dropping must not crash the process: the next query reconnects.
    pool.on("error", (err) => conn.warn("an idle PostgreSQL connection failed", err));
    try {
      const client = await pool.connect();
      client.release();
    } catch (err) {
      await pool.end().catch((endErr: Error) => conn.warn("closing the pool after a failed connect failed", endErr));
      // A URL the driver cannot read is bad input, not a database that is down.
      if ((err as { code?: unknown }).code === "ERR_INVALID_URL") {
        throw new OverseerError("INVALID_ARGUMENT", `the database URL ${conn.target} cannot be read`, {
          field: "database",
        });
      }
      throw conn.unavailable(err);
    }
    return conn;
  }

  /** A new client outside the pool (for LISTEN), not yet connected. */
  newClient(): pg.Client {
    return new pg.Client(clientConfig(this.options, 1));
  }

  /** The store's clock outside a transaction. */
  async now(): Promise<number> {
    if (this.clock) return this.clock();
    const row = await this.one<{ now: number }>(sql.DB_NOW);
    return row?.now ?? Date.now();
  }

  /**
   * A read outside any transaction (or a write that is one statement). Statements worth
   * preparing go through `execute` instead: the driver's named queries would not survive the
   * DEALLOCATE ALL of `preparing`.
   */
  async rows<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    this.assertOpen();
    try {
      return (await this.pool.query({ text, values: params as unknown[] })).rows as T[];
    } catch (err) {
      throw this.mapError(err);
    }
  }

  async one<T>(text: string, params: readonly unknown[] = []): Promise<T | undefined> {
    return (await this.rows<T>(text, params))[0];
  }

  /** A single-statement write outside any transaction; how many rows it changed. */
  async run(text: string, params: readonly unknown[] = []): Promise<number> {
    this.assertOpen();
    try {
      return (await this.pool.query({ text, values: params as unknown[] })).rowCount ?? 0;
    } catch (err) {
      throw this.mapError(err);
    }
  }

  /**
   * Runs `fn` in a READ COMMITTED transaction and commits, retrying it whole on a deadlock.
   * The clock is read once, in the same round trip as BEGIN, and so are the `opening` statements
   * if given (built with the SQL of the clock; their results are `tx.opened`), such as a claim's
   * promotion of due jobs and its first page. Deferred rows, events and COMMIT share the last
   * round trip (see `Transaction.runClosing`).
   */
  async write<T>(fn: (tx: Tx) => Promise<T>, opening?: Opening): Promise<T> {
    return this.retryingDeadlocks(() => this.writeOnce(fn, opening));
  }

  private async retryingDeadlocks<T>(once: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await once();
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        const retry = code === "40P01" || code === "40001" || code === UNKNOWN_PREPARED_STATEMENT;
        if (retry && attempt < MAX_TRIES) continue;
        throw err;
      }
    }
  }

  /**
   * Runs `build`'s statements as one transaction in one round trip (BEGIN, them, COMMIT), for
   * writes that need nothing read first, after preparing what `prepared` they EXECUTE if this
   * connection lacks any. `nowSql` is the clock as SQL, the same value wherever it appears: the
   * transaction's start time, or the injected clock. Retried whole on a deadlock. Returns each
   * statement's result, in order.
   */
  async script(
    build: (nowSql: string) => string[],
    prepared: readonly PreparedStatement[] = [],
  ): Promise<pg.QueryResult[]> {
    return this.retryingDeadlocks(() =>
      this.withClient(async (client) => {
        const nowSql = this.clock ? literal(this.clock()) : sql.TX_CLOCK;
        const results = await this.withPrepared(client, prepared, ["BEGIN", ...build(nowSql), "COMMIT"]);
        return results.slice(1, -1);
      }),
    );
  }

  private async writeOnce<T>(fn: (tx: Tx) => Promise<T>, opening?: Opening): Promise<T> {
    return this.withClient(async (client) => {
      // The transaction's start time: BEGIN is in the same round trip, so this is the moment the
      // statements below run, and it is one value wherever the opening statements use it.
      const nowSql = this.clock ? literal(this.clock()) : sql.TX_CLOCK;
      const statements = ["BEGIN", `SELECT ${nowSql} AS now`, ...(opening?.statements(nowSql) ?? [])];
      const results = await this.withPrepared(client, opening?.prepared ?? [], statements);
      const row = results[1]?.rows[0] as { now: number } | undefined;
      if (!row) throw new Error("the database did not return its clock");
      const tx = new Transaction(client, Number(row.now), true, results.slice(2));
      const result = await fn(tx);
      await tx.commit();
      return result;
    });
  }

  /**
   * One statement that EXECUTEs `statement` with these SQL arguments, in one round trip (with
   * what the connection must prepare first, if anything), as its own transaction.
   */
  async execute<T>(statement: PreparedStatement, args: readonly string[]): Promise<T[]> {
    return this.retryingDeadlocks(() =>
      this.withClient(async (client) => {
        const results = await this.withPrepared(client, [statement], [`EXECUTE ${statement.name}(${args.join(", ")})`]);
        return (results.at(-1)?.rows ?? []) as T[];
      }),
    );
  }

  /**
   * Runs `statements` as one script, after preparing what `wanted` needs on this client if it
   * lacks any; returns the results of `statements` only.
   */
  private async withPrepared(
    client: pg.PoolClient,
    wanted: readonly PreparedStatement[],
    statements: readonly string[],
  ): Promise<pg.QueryResult[]> {
    const set = preparing(client, wanted);
    const prepare = preparingScript(set);
    let results: pg.QueryResult[];
    try {
      const out = await client.query([...prepare, ...statements].join(";\n"));
      results = (Array.isArray(out) ? out : [out]) as pg.QueryResult[];
    } catch (err) {
      // The session lost what it had prepared (a pooler moved us to another one): forget it,
      // so the retry prepares again.
      if ((err as { code?: unknown }).code === UNKNOWN_PREPARED_STATEMENT) preparedOnClient.delete(client);
      throw err;
    }
    if (set !== null) preparedOnClient.set(client, set);
    return results.slice(prepare.length);
  }

  /**
   * A pool client for one transaction that `fn` begins and commits. If `fn` fails, the
   * transaction is rolled back (ROLLBACK outside a transaction only warns), and a client whose
   * connection failed is discarded rather than reused.
   */
  private async withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    this.assertOpen();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.mapError(err);
    }
    let broken: Error | undefined;
    // A checked-out client has no listener of the pool's: if the server ends the connection
    // mid-transaction, the client emits "error", which unheard would end the process. The same
    // error also rejects the pending query, so here it only marks the client as broken.
    const onError = (err: Error) => {
      broken = err;
    };
    client.on("error", onError);
    try {
      return await fn(client);
    } catch (err) {
      if (isConnectionError(err)) {
        broken = err as Error;
      } else {
        await client.query("ROLLBACK").catch((rollbackErr: Error) => {
          broken = rollbackErr;
        });
      }
      throw this.mapError(err);
    } finally {
      client.removeListener("error", onError);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  assertOpen(): void {
    if (this.closed) throw new OverseerError("SHUTTING_DOWN", "the store is closed");
  }

  /** The connection cannot be made or was lost: DATABASE_UNAVAILABLE naming the target, password masked. */
  unavailable(err: unknown): OverseerError {
    return new OverseerError("DATABASE_UNAVAILABLE", `cannot connect to ${this.target}: ${reason(err)}`, {
      database: this.target,
    });
  }

  private mapError(err: unknown): unknown {
    if (err instanceof OverseerError) return err;
    if (isConnectionError(err)) return this.unavailable(err);
    if (isNulError(err)) return nulInStore();
    return err;
  }
}

/** What a transaction needs from a client: a pool's client, or a user's own (see foreign-transaction.ts). */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount?: number | null }>;
}

export class Transaction implements Tx {
  notifies = false;
  /** Events not yet appended: at, kind, job id, worker id, data JSON, run id (EVENT_COLUMNS). */
  private readonly pending: EventRow[] = [];
  /** Rows whose insert waits for the next statement or the end (see `insertLater`), grouped by table and columns. */
  private readonly deferred = new Map<string, { table: string; columns: readonly string[]; rows: Literal[][] }>();
  private readonly seqs: number[] = [];
  private readonly locked = new Set<string>();

  /**
   * @param scripts whether the client runs several statements in one query (a pool client does;
   *   a user's client in `enqueueWithin` is sent one statement at a time, whatever it is).
   */
  constructor(
    private readonly client: Queryable,
    readonly now: number,
    private readonly scripts: boolean,
    readonly opened: ReadonlyArray<{ rows: unknown[] }> = [],
  ) {}

  async rows<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    await this.insertDeferred();
    return (await this.client.query(text, params as unknown[])).rows as T[];
  }

  async one<T>(text: string, params: readonly unknown[] = []): Promise<T | undefined> {
    return (await this.rows<T>(text, params))[0];
  }

  async run(text: string, params: readonly unknown[] = []): Promise<number> {
    await this.insertDeferred();
    return (await this.client.query(text, params as unknown[])).rowCount ?? 0;
  }

  /**
   * Inserts a row before the transaction's next statement, or with its last round trip if none
   * follows. Rows for the same table and columns go in one multi-row INSERT, and every read in
   * the transaction still sees them, since it runs after they are inserted.
   */
  insertLater(table: string, columns: readonly string[], row: Literal[]): void {
    const key = `${table}(${columns.join(",")})`;
    const group = this.deferred.get(key);
    if (group) group.rows.push(row);
    else this.deferred.set(key, { table, columns, rows: [row] });
  }

  event(kind: string, jobId: string | null, workerId: string | null, data: object, runId: string | null = null): void {
    this.pending.push([this.now, kind, jobId, workerId, JSON.stringify(data), runId]);
  }

  /** Appends the buffered events now and returns every sequence number this transaction got, in order. */
  async flushEvents(): Promise<number[]> {
    await this.runClosing([], true);
    return [...this.seqs];
  }

  notify(): void {
    this.notifies = true;
  }

  /** Ends the transaction: deferred rows, events, the wakeup and COMMIT, in one round trip. */
  async commit(): Promise<void> {
    await this.runClosing(this.notifies ? [sql.NOTIFY_CHANGES, "COMMIT"] : ["COMMIT"]);
  }

  async lock(lockClass: number, key: string): Promise<void> {
    const id = `${lockClass}:${key}`;
    if (this.locked.has(id)) return;
    await this.run(sql.LOCK_KEY, [lockClass, key]);
    this.locked.add(id);
  }

  private async insertDeferred(): Promise<void> {
    if (this.deferred.size > 0) await this.runScript(this.takeDeferred());
  }

  private takeDeferred(): string[] {
    const statements = [...this.deferred.values()].map((g) => insertValues(g.table, g.columns, g.rows));
    this.deferred.clear();
    return statements;
  }

  /**
   * Deferred rows, then the buffered events under a transaction-level lock held until commit,
   * then `after`; with `returnSeqs`, the events' sequence numbers are recorded for `flushEvents`
   * (a commit needs none: they would be a row per event to send and parse). Sequence numbers
   * come from an identity column, which hands them out at insert, not at commit: without the
   * lock, a transaction could take N, another N+1 and commit first, and a reader tailing by
   * `afterSeq` would pass N before it became visible and never see it.
   * Under the lock, event writers commit in seq order. The lock is taken in the transaction's
   * last round trip, so what it serialises is only this insert and the commit itself.
   */
  private async runClosing(after: string[], returnSeqs = false): Promise<void> {
    const statements = this.takeDeferred();
    let eventsAt = -1;
    if (this.pending.length > 0) {
      const append = appendEvents(this.pending.splice(0), !this.locked.has("events"), returnSeqs);
      this.locked.add("events");
      statements.push(...append);
      eventsAt = statements.length - 1;
    }
    statements.push(...after);
    if (statements.length === 0) return;
    const results = await this.runScript(statements);
    if (eventsAt >= 0) this.recordSeqs(results[eventsAt]?.rows ?? []);
  }

  private recordSeqs(rows: unknown[]): void {
    this.seqs.push(...(rows as Array<{ seq: number }>).map((r) => Number(r.seq)).sort((a, b) => a - b));
  }

  /** Runs literal statements in order: in one round trip where the client allows it. */
  private async runScript(statements: readonly string[]): Promise<Array<{ rows: unknown[] }>> {
    if (this.scripts) {
      const result = await this.client.query(statements.join(";\n"));
      return Array.isArray(result) ? result : [result];
    }
    const results: Array<{ rows: unknown[] }> = [];
    for (const statement of statements) results.push(await this.client.query(statement));
    return results;
  }
}

const EVENT_COLUMNS = ["at", "kind", "job_id", "worker_id", "data", "run_id"] as const;

/** An event's values in EVENT_COLUMNS order: its time (a number or the clock's SQL), then texts. */
export type EventRow = readonly [
  at: Literal,
  kind: string,
  jobId: string | null,
  workerId: string | null,
  data: string,
  runId: string | null,
];
/**
 * Above this many rows, an insert sends one array literal per column instead of a VALUES list
 * (see `appendEvents`, and `insertAtOnceScript` in insert-job.ts).
 */
export const MANY_ROWS = 16;
const LOCK_EVENTS = `SELECT ${sql.EVENTS_LOCK}`;

/**
 * The statements that append events (rows of at, kind, job id, worker id, data JSON, run id), the last
 * returning their sequence numbers if asked: the events lock first unless this transaction holds it.
 * A multi-row VALUES list is inserted in list order, so identity values follow it; a long one
 * is sent as one array literal per column instead, much less for the server to parse.
 */
export function appendEvents(rows: readonly EventRow[], lock = true, returnSeqs = false): string[] {
  const inserted = asArrays(rows) ?? insertValues("events", EVENT_COLUMNS, rows);
  const insert = returnSeqs ? `${inserted} RETURNING seq` : inserted;
  return lock ? [LOCK_EVENTS, insert] : [insert];
}

/** A long list of events of one time as one text[] literal per column, or null to send them as VALUES. */
function asArrays(rows: readonly EventRow[]): string | null {
  const at = rows[0]?.[0];
  if (rows.length <= MANY_ROWS || at === undefined || rows.some((r) => r[0] !== at)) return null;
  const column = (c: 1 | 2 | 3 | 4 | 5) => textArrayLiteral(rows.map((r) => r[c]));
  return sql.insertEvents(literal(at), column(1), column(2), column(3), column(4), column(5));
}

function clientConfig(options: PgConnectionOptions, max: number): pg.PoolConfig {
  return {
    connectionString: options.url,
    max,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    types,
    ...(options.schema === undefined ? {} : { options: `-c search_path=${quoteIdent(options.schema)}` }),
  };
}

/** A schema name as a quoted identifier (it is passed in a startup option, not a bound parameter). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * PostgreSQL's refusals of a NUL: in text, "invalid byte sequence for encoding UTF8: 0x00"
 * (22021), and in jsonb, "unsupported Unicode escape sequence" (22P05).
 */
export function isNulError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "22021" || code === "22P05";
}

/** No SQLSTATE (a socket or timeout error) or class 08 (connection exception), 57P01-03 (shutdown), 28 (auth), 3D000 (no such database). */
function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== "string") return /connect|terminated|timeout|closed/i.test(err.message);
  return (
    code.startsWith("08") ||
    code.startsWith("28") ||
    code === "57P01" ||
    code === "57P02" ||
    code === "57P03" ||
    code === "3D000" ||
    /^E[A-Z]+$/.test(code)
  );
}

function reason(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return reason(err.errors[0]);
  const message = err instanceof Error ? err.message : String(err);
  return message === "" ? String((err as { code?: unknown })?.code ?? "unknown error") : message;
}
