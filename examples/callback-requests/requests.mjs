// The callback requests: one row per visitor's request, in the database Overseer uses (the
// SQLite file, or the PostgreSQL schema), so that a request and the job it starts commit in one
// transaction (`enqueueWithin`): an SMS code is queued if and only if its request is stored, and
// a verified request has exactly one call job, however often or concurrently it is verified.
//
// Each operation is written once, as a generator that yields its statements; a driver runs it
// in one transaction. SQLite's runs synchronously (better-sqlite3 transactions cannot await, and
// must not: the thread would wait on its own lock); PostgreSQL's awaits each statement between
// BEGIN and COMMIT. The SQL is shared; only the table definitions differ.
import { ulid } from "ulidx";

/**
 * @typedef {"unverified" | "queued" | "ringing" | "answered" | "unanswered" | "failed"} RequestStatus
 * @typedef {{
 *   id: string, business: string, phone: string, name: string | null, status: RequestStatus,
 *   tries: number, createdAt: number, verifiedAt: number | null, callJob: string | null, ring: string | null,
 *   ringLabel: string | null, answeredBy: string | null,
 *   error: { code: string, message: string } | null, finishedAt: number | null,
 * }} CallbackRequest
 * @typedef {{ task: string, payload: unknown, options?: import("overseer").EnqueueOptions }} JobSpec
 * @typedef {{ one: string, params: unknown[] } | { all: string, params: unknown[] } | { run: string, params: unknown[] } | { enqueue: JobSpec }} Statement
 * @typedef {Generator<Statement, any, any>} Operation
 * @typedef {{ transaction<T>(op: Generator<Statement, T, any>): Promise<T>, close(): Promise<void> }} Driver
 */

const TABLES = (/** @type {string} */ time) => [
  `CREATE TABLE IF NOT EXISTS callback_requests (
    id TEXT PRIMARY KEY,
    business TEXT NOT NULL,
    phone TEXT NOT NULL,
    name TEXT,
    status TEXT NOT NULL,
    tries INTEGER NOT NULL DEFAULT 0,
    created_at ${time} NOT NULL,
    verified_at ${time},
    call_job TEXT,
    ring TEXT,
    ring_label TEXT,
    answered_by TEXT,
    error_code TEXT,
    error_message TEXT,
    finished_at ${time}
  )`,
  "CREATE INDEX IF NOT EXISTS callback_requests_by_phone ON callback_requests (phone, created_at)",
  "CREATE INDEX IF NOT EXISTS callback_requests_by_finish ON callback_requests (finished_at)",
  "CREATE INDEX IF NOT EXISTS callback_requests_unverified ON callback_requests (created_at) WHERE status = 'unverified'",
  "CREATE TABLE IF NOT EXISTS callback_secret (id INTEGER PRIMARY KEY CHECK (id = 1), secret TEXT NOT NULL)",
];

const SQL = {
  insert:
    "INSERT INTO callback_requests (id, business, phone, name, status, tries, created_at) VALUES (?, ?, ?, ?, 'unverified', 0, ?)",
  get: "SELECT * FROM callback_requests WHERE id = ?",
  /** ?1 phone, ?2 since (epoch ms). */
  countSince: "SELECT count(*) AS n FROM callback_requests WHERE phone = ? AND created_at >= ?",
  /** ?1 id, ?2 tries allowed: uses up one try, if any is left. */
  takeTry: "UPDATE callback_requests SET tries = tries + 1 WHERE id = ? AND status = 'unverified' AND tries < ?",
  /** ?1 now, ?2 id. */
  markVerified:
    "UPDATE callback_requests SET status = 'queued', verified_at = ? WHERE id = ? AND status = 'unverified'",
  /** ?1 the call's job, ?2 ring, ?3 its label, ?4 id. */
  ringing: "UPDATE callback_requests SET status = 'ringing', call_job = ?, ring = ?, ring_label = ? WHERE id = ?",
  /** ?1 id: the ring on is over and the call waits for its next round (the answer route refuses it). */
  roundOver:
    "UPDATE callback_requests SET status = 'queued', ring = NULL, ring_label = NULL WHERE id = ? AND status = 'ringing'",
  /** ?1 status, ?2 answered by, ?3 error code, ?4 error message, ?5 now, ?6 id. */
  finish:
    "UPDATE callback_requests SET status = ?, answered_by = ?, error_code = ?, error_message = ?, finished_at = ? WHERE id = ?",
  /** ?1 created before (epoch ms). */
  removeUnverified: "DELETE FROM callback_requests WHERE status = 'unverified' AND created_at < ?",
  /** ?1 from, ?2 to (epoch ms, to exclusive). */
  finishedBetween:
    "SELECT business, status, finished_at FROM callback_requests WHERE finished_at >= ? AND finished_at < ? ORDER BY finished_at",
  /** ?1 a new secret, kept only if the database has none. */
  keepSecret: "INSERT INTO callback_secret (id, secret) VALUES (1, ?) ON CONFLICT (id) DO NOTHING",
  secret: "SELECT secret FROM callback_secret WHERE id = 1",
};

/** @param {string} sql @param {unknown[]} params @returns {Statement} */
const one = (sql, params) => ({ one: sql, params });
/** @param {string} sql @param {unknown[]} params @returns {Statement} */
const all = (sql, params) => ({ all: sql, params });
/** @param {string} sql @param {unknown[]} params @returns {Statement} */
const run = (sql, params) => ({ run: sql, params });

export class CallbackRequests {
  #driver;

  /** @param {Driver} driver */
  constructor(driver) {
    this.#driver = driver;
  }

  /**
   * The requests on `database` (what Overseer was opened on), its tables made if need be.
   * @param {string} database a SQLite file's path or a postgres:// URL
   * @param {import("overseer").Overseer} overseer to enqueue within this module's transactions
   * @param {import("overseer").Logger} logger
   */
  static async open(database, overseer, logger) {
    const postgres = /^postgres(ql)?:\/\//.test(database);
    return new CallbackRequests(
      postgres ? await postgresDriver(database, overseer, logger) : await sqliteDriver(database, overseer),
    );
  }

  /**
   * The database's secret for codes and answer keys (secrets.mjs), made by whichever node asks first.
   * @param {string} candidate kept if the database has none yet
   * @returns {Promise<string>}
   */
  secret(candidate) {
    return this.#driver.transaction(
      (function* () {
        yield run(SQL.keepSecret, [candidate]);
        return (yield one(SQL.secret, [])).secret;
      })(),
    );
  }

  /**
   * Stores a new request and queues the job that texts its code, in one transaction.
   * @param {{ business: string, phone: string, name: string | null, now: number }} request
   * @param {(id: string) => JobSpec} sms the code's SMS job, for the new request's id
   * @returns {Promise<{ request: CallbackRequest, sms: import("overseer").Job }>}
   */
  create({ business, phone, name, now }, sms) {
    const id = ulid(now);
    return this.#driver.transaction(
      (function* () {
        yield run(SQL.insert, [id, business, phone, name, now]);
        const job = yield { enqueue: sms(id) };
        return { request: toRequest(yield one(SQL.get, [id])), sms: job };
      })(),
    );
  }

  /**
   * @param {string} id
   * @returns {Promise<CallbackRequest | null>}
   */
  get(id) {
    return this.#driver.transaction(
      (function* () {
        const row = yield one(SQL.get, [id]);
        return row ? toRequest(row) : null;
      })(),
    );
  }

  /**
   * How many requests this phone made since `since` (epoch ms).
   * @param {string} phone
   * @param {number} since
   * @returns {Promise<number>}
   */
  countSince(phone, since) {
    return this.#driver.transaction(
      (function* () {
        return Number((yield one(SQL.countSince, [phone, since])).n);
      })(),
    );
  }

  /**
   * Checks a code: each check uses up one of `maxTries`; the right code within `validForMs`
   * marks the request verified and queues its call, in the same transaction.
   * @param {string} id
   * @param {{ correct: boolean, now: number, validForMs: number, maxTries: number }} check
   * @param {(request: CallbackRequest) => JobSpec} call the call's job
   * @returns {Promise<
   *   | { outcome: "verified", request: CallbackRequest, job: import("overseer").Job }
   *   | { outcome: "wrong_code", request: CallbackRequest, triesLeft: number }
   *   | { outcome: "not_found" }
   *   | { outcome: "already_verified" | "expired" | "too_many_tries", request: CallbackRequest }
   * >}
   */
  verify(id, { correct, now, validForMs, maxTries }, call) {
    return this.#driver.transaction(
      (function* () {
        const row = yield one(SQL.get, [id]);
        if (!row) return { outcome: "not_found" };
        const request = toRequest(row);
        if (request.status !== "unverified") return { outcome: "already_verified", request };
        if (now - request.createdAt > validForMs) return { outcome: "expired", request };
        if ((yield run(SQL.takeTry, [id, maxTries])) === 0) {
          // No try left, or (on PostgreSQL) another check verified it since the read above.
          const current = toRequest(yield one(SQL.get, [id]));
          return { outcome: current.status === "unverified" ? "too_many_tries" : "already_verified", request: current };
        }
        if (!correct) return { outcome: "wrong_code", request, triesLeft: Math.max(0, maxTries - request.tries - 1) };
        if ((yield run(SQL.markVerified, [now, id])) === 0) return { outcome: "already_verified", request };
        // Last before COMMIT: on PostgreSQL the enqueue holds Overseer's event lock until the end.
        const job = yield { enqueue: call(request) };
        return { outcome: "verified", request: { ...request, status: "queued", verifiedAt: now }, job };
      })(),
    );
  }

  /**
   * Notes which ring of the chain is on now, and of which job (the answer route accepts only
   * that ring, and signals only that job).
   * @param {string} id
   * @param {{ job: string, ring: string, label: string }} ringing
   */
  async ringing(id, { job, ring, label }) {
    await this.#driver.transaction(
      (function* () {
        yield run(SQL.ringing, [job, ring, label, id]);
      })(),
    );
  }

  /**
   * A round of the chain ended with nobody taking the call: no ring is on until the next round's
   * first, so an answer to the last one is refused (409) rather than taken by no one.
   * @param {string} id
   */
  async roundOver(id) {
    await this.#driver.transaction(
      (function* () {
        yield run(SQL.roundOver, [id]);
      })(),
    );
  }

  /**
   * Records how the request ended and, in the same transaction, queues `followUp` (the SMS that
   * tells the visitor), if given: both happen, or neither.
   * @param {string} id
   * @param {{ status: "answered" | "unanswered" | "failed", answeredBy?: string, error?: { code: string, message: string }, now: number }} end
   * @param {JobSpec} [followUp]
   * @returns {Promise<import("overseer").Job | null>} the follow-up's job
   */
  finish(id, { status, answeredBy, error, now }, followUp) {
    return this.#driver.transaction(
      (function* () {
        yield run(SQL.finish, [status, answeredBy ?? null, error?.code ?? null, error?.message ?? null, now, id]);
        return followUp ? yield { enqueue: followUp } : null;
      })(),
    );
  }

  /**
   * Deletes the requests never verified and made before `before` (epoch ms); how many.
   * @param {number} before
   * @returns {Promise<number>}
   */
  removeUnverified(before) {
    return this.#driver.transaction(
      (function* () {
        return yield run(SQL.removeUnverified, [before]);
      })(),
    );
  }

  /**
   * The requests that ended in [from, to), oldest first.
   * @param {number} from
   * @param {number} to
   * @returns {Promise<Array<{ business: string, status: RequestStatus, finishedAt: number }>>}
   */
  finishedBetween(from, to) {
    return this.#driver.transaction(
      (function* () {
        const rows = yield all(SQL.finishedBetween, [from, to]);
        return rows.map((/** @type {any} */ r) => ({
          business: r.business,
          status: r.status,
          finishedAt: Number(r.finished_at),
        }));
      })(),
    );
  }

  close() {
    return this.#driver.close();
  }
}

/** @param {any} row */
function toRequest(row) {
  /** @param {unknown} v */
  const time = (v) => (v === null || v === undefined ? null : Number(v));
  return /** @type {CallbackRequest} */ ({
    id: row.id,
    business: row.business,
    phone: row.phone,
    name: row.name ?? null,
    status: row.status,
    tries: Number(row.tries),
    createdAt: Number(row.created_at),
    verifiedAt: time(row.verified_at),
    callJob: row.call_job ?? null,
    ring: row.ring ?? null,
    ringLabel: row.ring_label ?? null,
    answeredBy: row.answered_by ?? null,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? "" } : null,
    finishedAt: time(row.finished_at),
  });
}

/**
 * SQLite: a connection of our own on Overseer's file; each operation runs synchronously in one
 * `BEGIN IMMEDIATE` transaction, the write lock taken up front as Overseer's writes take it.
 * @param {string} path
 * @param {import("overseer").Overseer} overseer
 * @returns {Promise<Driver>}
 */
async function sqliteDriver(path, overseer) {
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(path);
  db.pragma("busy_timeout = 5000");
  for (const statement of TABLES("INTEGER")) db.exec(statement);
  /** @type {Map<string, import("better-sqlite3").Statement>} */
  const prepared = new Map();
  /** @param {string} sql */
  const statement = (sql) => {
    let s = prepared.get(sql);
    if (!s) {
      s = db.prepare(sql);
      prepared.set(sql, s);
    }
    return s;
  };
  /** @param {Statement} s */
  const exec = (s) => {
    if ("enqueue" in s) return overseer.enqueueWithin(db, s.enqueue.task, s.enqueue.payload, s.enqueue.options);
    if ("one" in s) return statement(s.one).get(...s.params);
    if ("all" in s) return statement(s.all).all(...s.params);
    return statement(s.run).run(...s.params).changes;
  };
  return {
    transaction: async (op) =>
      db
        .transaction(() => {
          let step = op.next();
          while (!step.done) step = op.next(exec(step.value));
          return step.value;
        })
        .immediate(),
    close: async () => {
      db.close();
    },
  };
}

/**
 * PostgreSQL: a small pool on Overseer's URL (so the same schema); each operation runs between
 * BEGIN and COMMIT on one client, which is also the one its enqueue uses.
 * @param {string} url
 * @param {import("overseer").Overseer} overseer
 * @param {import("overseer").Logger} logger
 * @returns {Promise<Driver>}
 */
async function postgresDriver(url, overseer, logger) {
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({ connectionString: url, max: 5 });
  // An idle client's connection can drop (a server restart): say so; the pool replaces it.
  pool.on("error", (err) => logger.warn({ err }, "a PostgreSQL connection of the callback requests dropped"));
  /**
   * @param {import("pg").PoolClient} client
   * @param {Statement} s
   */
  const exec = async (client, s) => {
    if ("enqueue" in s) return overseer.enqueueWithin(client, s.enqueue.task, s.enqueue.payload, s.enqueue.options);
    const sql = "one" in s ? s.one : "all" in s ? s.all : s.run;
    let n = 0;
    const res = await client.query(
      sql.replace(/\?/g, () => `$${++n}`),
      s.params,
    );
    if ("one" in s) return res.rows[0];
    if ("all" in s) return res.rows;
    return res.rowCount ?? 0;
  };
  /** @type {Driver["transaction"]} */
  const transaction = async (op) => {
    const client = await pool.connect();
    /** @type {Error | undefined} */
    let broken;
    try {
      await client.query("BEGIN");
      let step = op.next();
      while (!step.done) step = op.next(await exec(client, step.value));
      await client.query("COMMIT");
      return step.value;
    } catch (err) {
      try {
        await client.query("ROLLBACK");
      } catch (rollback) {
        // The connection is gone: the server ends the transaction itself; drop the client.
        broken = /** @type {Error} */ (rollback);
      }
      throw err;
    } finally {
      client.release(broken);
    }
  };
  try {
    // Several nodes may start at once: one makes the tables while the others wait.
    await transaction(
      (function* () {
        yield one("SELECT pg_advisory_xact_lock(7212026)", []);
        for (const statement of TABLES("BIGINT")) yield run(statement, []);
      })(),
    );
  } catch (err) {
    await pool.end();
    throw err;
  }
  return { transaction, close: () => pool.end() };
}
