/**
 * The PostgreSQL store against a real server (OVERSEER_TEST_PG_URL, default a local trust-auth
 * `test` database). Each test gets its own schema, dropped when the test passed and kept (its
 * name printed) when it failed, so a failure can be inspected with psql.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it, onTestFinished } from "vitest";
import { OverseerError } from "../../core/errors.js";
import { buildNewJob } from "../../core/job-options.js";
import type { ClaimedJob, Lease } from "../../core/types.js";
import { waitFor } from "../../test-support/wait.js";
import { runStoreConformance } from "../conformance/suite.js";
import {
  expectEarlierAttemptsEnded,
  expectFinishedCountedByMigration,
  expectFinishTimeFilled,
} from "../conformance/upgrades.js";
import { LOCK } from "../locks.js";
import { openStore } from "../open-store.js";
import { PostgresStore, type PostgresStoreOptions } from "./postgres-store.js";

const URL = process.env.OVERSEER_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const admin = new pg.Pool({ connectionString: URL, max: 2 });

afterAll(async () => {
  await admin.end();
});

/**
 * A fresh schema for the current test, dropped after it if it passed. Must be called inside a
 * test: the drop is registered with `onTestFinished`, which knows the test's outcome.
 */
async function testSchema(): Promise<string> {
  const schema = `overseer_t_${randomBytes(6).toString("hex")}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  onTestFinished(async ({ task }) => {
    if (task.result?.state === "fail") {
      console.error(`kept schema ${schema} of the failed test "${task.name}" for inspection`);
      return;
    }
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  });
  return schema;
}

/**
 * A migrated schema taken back to `version`, so that opening it runs the later migrations again:
 * their records go, and what a later migration added that would not add twice (018's column,
 * 019's and 020's tables, 021's columns, constraints and indexes, 030's column), and 034's tables,
 * whose counts it makes from the jobs it finds.
 */
async function backTo(schema: string, version: number): Promise<void> {
  if (version < 34) await admin.query(`DROP TABLE ${schema}.finished_counts, ${schema}.finished_counts_mark`);
  if (version < 30) await admin.query(`ALTER TABLE ${schema}.jobs DROP COLUMN trace_context`);
  if (version < 25) {
    await admin.query(`DROP INDEX ${schema}.jobs_ended, ${schema}.jobs_awaiting`);
    await admin.query(`CREATE INDEX jobs_state ON ${schema}.jobs (state, id)`);
    await admin.query(`CREATE INDEX jobs_queue_state ON ${schema}.jobs (queue, state)`);
  }
  if (version < 24) {
    const columns = ["state", "opened_at", "probe_at", "probe", "probe_token", "trip"];
    await admin.query(`ALTER TABLE ${schema}.queues ${columns.map((c) => `DROP COLUMN breaker_${c}`).join(", ")}`);
  }
  if (version < 23) await admin.query(`ALTER TABLE IF EXISTS ${schema}.tasks DROP COLUMN defaults`);
  if (version < 22) await admin.query(`ALTER TABLE ${schema}.schedules DROP COLUMN max_attempts, DROP COLUMN backoff`);
  if (version < 21) {
    await admin.query(`DROP INDEX ${schema}.approvals_run_step, ${schema}.approvals_run`);
    await admin.query(`ALTER TABLE ${schema}.approvals DROP CONSTRAINT approvals_owner_check`);
    await admin.query(`ALTER TABLE ${schema}.approvals DROP COLUMN run_id, DROP COLUMN kind`);
  }
  if (version < 20) {
    await admin.query(`DROP TABLE ${schema}.run_messages`);
    await admin.query(`ALTER TABLE ${schema}.runs DROP COLUMN rerun_of`);
  }
  if (version < 19) await admin.query(`DROP TABLE ${schema}.lessons, ${schema}.lesson_tags`);
  if (version < 18) await admin.query(`ALTER TABLE ${schema}.jobs DROP COLUMN timeout_ms`);
  await admin.query(`DELETE FROM ${schema}.schema_migrations WHERE version > $1`, [version]);
}

async function openIn(schema: string, options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> {
  return PostgresStore.open({ url: URL, schema, poolSize: 4, ...options });
}

runStoreConformance({
  name: "postgres",
  open: async ({ clock }) => {
    const store = await openIn(await testSchema(), { clock });
    return { store, cleanup: () => store.close() };
  },
});

/** Enqueues one job and claims it held (ahead of a free slot); its lease. */
async function claimHeld(store: PostgresStore): Promise<Lease[]> {
  await store.enqueueMany([buildNewJob("t", {}, {}, undefined)]);
  const claimed = await store.claim({ workerId: "w", limit: 1, start: 0, tasks: ["t"], queues: null, leaseMs: 60_000 });
  return claimed.map((c) => c.lease);
}

describe("PostgresStore (PostgreSQL only)", () => {
  it("a finish joined with a claim takes the events lock last: not while it waits for a key", async () => {
    const schema = await testSchema();
    const store = await openIn(schema);
    const holder = await admin.connect();
    let finishing: Promise<unknown> | undefined;
    try {
      const [lease] = await claimHeld(store);
      const key = `k-${schema}`;
      await store.enqueue(buildNewJob("t", {}, { concurrency: { key, limit: 1 } }, undefined));
      // Another transaction holds the key's lock, as a claim of a job with that key does.
      await holder.query("BEGIN");
      await holder.query("SELECT pg_advisory_xact_lock($1::int4, hashtext($2))", [LOCK.concurrencyKey, key]);
      const done = store.finishAndClaim([{ lease: lease as Lease, outcome: "succeeded", resultJson: "1" }], {
        workerId: "w",
        limit: 1,
        tasks: ["t"],
        queues: null,
        leaseMs: 60_000,
      });
      finishing = done;
      // Advisory locks (class, hashed name) granted or awaited, in this database.
      const advisory = async (classid: number, name: string, granted: boolean) =>
        (
          await admin.query(
            `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objid::bigint = hashtext($2)::bigint & 4294967295
               AND l.granted = $3 AND a.datname = current_database()`,
            [classid, name, granted],
          )
        ).rowCount;
      await waitFor(
        "the finish to wait for the key",
        async () => (await advisory(LOCK.concurrencyKey, key, false)) === 1,
      );
      // Waiting for the key, it must hold no events lock: the key's holder may want that one next.
      const eventsLocksHeld = await advisory(LOCK.events, schema, true);
      await holder.query("COMMIT");
      const { applied, claimed } = await done;
      expect(eventsLocksHeld).toBe(0);
      expect(applied).toEqual([true]);
      expect(claimed).toHaveLength(1);
    } finally {
      await holder.query("ROLLBACK").catch(() => undefined);
      holder.release();
      await finishing?.catch(() => undefined);
      await store.close();
    }
  });

  it("two stores claiming at once never take the same job", async () => {
    const schema = await testSchema();
    const a = await openIn(schema);
    const b = await openIn(schema);
    try {
      const jobs = Array.from({ length: 200 }, () => buildNewJob("t", {}, {}, undefined));
      await a.enqueueMany(jobs);
      const claimAll = async (store: PostgresStore, workerId: string): Promise<ClaimedJob[]> => {
        const mine: ClaimedJob[] = [];
        for (;;) {
          const batch = await store.claim({ workerId, limit: 7, tasks: ["t"], queues: null, leaseMs: 60_000 });
          if (batch.length === 0) return mine;
          mine.push(...batch);
        }
      };
      const [fromA, fromB, fromA2, fromB2] = await Promise.all([
        claimAll(a, "wa"),
        claimAll(b, "wb"),
        claimAll(a, "wa2"),
        claimAll(b, "wb2"),
      ]);
      const ids = [...fromA, ...fromB, ...fromA2, ...fromB2].map((c) => c.job.id);
      expect(ids).toHaveLength(200);
      expect(new Set(ids).size).toBe(200);
      expect((await a.countJobs()).running).toBe(200);
      // Every claim's events are there once, in an order a tailing reader can follow.
      const events = await a.readEvents({ limit: 10_000 });
      expect(events.filter((e) => e.kind === "job.started")).toHaveLength(200);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("concurrent claimers never run more than a concurrency key's limit", async () => {
    const schema = await testSchema();
    const stores = await Promise.all([openIn(schema), openIn(schema), openIn(schema)]);
    try {
      await stores[0]?.enqueueMany(
        Array.from({ length: 30 }, () => buildNewJob("t", {}, { concurrency: { key: "k", limit: 2 } }, undefined)),
      );
      const claimed = await Promise.all(
        stores.flatMap((s, i) =>
          [0, 1].map((j) => s.claim({ workerId: `w${i}${j}`, limit: 5, tasks: ["t"], queues: null, leaseMs: 60_000 })),
        ),
      );
      expect(claimed.flat()).toHaveLength(2);
    } finally {
      for (const s of stores) await s.close();
    }
  });

  it("a reader tailing events by afterSeq during concurrent writes misses none", async () => {
    const schema = await testSchema();
    const writers = await Promise.all([openIn(schema), openIn(schema), openIn(schema)]);
    const reader = await openIn(schema);
    try {
      let writing = true;
      const write = async (store: PostgresStore): Promise<void> => {
        for (let i = 0; i < 40; i++) await store.enqueue(buildNewJob("t", {}, {}, undefined));
      };
      const done = Promise.all(writers.map(write)).finally(() => {
        writing = false;
      });
      // Seqs are handed out at insert, not commit: without ordering, a tailing reader could
      // pass a seq whose transaction had not committed yet, and never see it.
      const seen: number[] = [];
      let after = 0;
      while (writing) {
        for (const e of await reader.readEvents({ afterSeq: after })) {
          seen.push(e.seq);
          after = e.seq;
        }
      }
      await done;
      for (const e of await reader.readEvents({ afterSeq: after, limit: 10_000 })) seen.push(e.seq);
      const all = (await reader.readEvents({ limit: 10_000 })).map((e) => e.seq);
      expect(all).toHaveLength(120);
      expect(seen).toEqual(all);
    } finally {
      for (const s of [...writers, reader]) await s.close();
    }
  });

  it("a held start turns synchronous commits off for its own transaction only", async () => {
    const store = await openIn(await testSchema(), { poolSize: 1 });
    try {
      await store.enqueueMany([buildNewJob("t", {}, {}, undefined), buildNewJob("t", {}, {}, undefined)]);
      const claimed = await store.claim({
        workerId: "w",
        limit: 2,
        start: 0,
        tasks: ["t"],
        queues: null,
        leaseMs: 60_000,
      });
      const conn = (store as unknown as { conn: { one<T>(sql: string): Promise<T | undefined> } }).conn;
      const before = await conn.one("SHOW synchronous_commit");
      expect(await store.startHeld(claimed.map((c) => c.lease))).toHaveLength(2);
      // The one pooled connection ran the start; its own setting is untouched afterwards.
      expect(await conn.one("SHOW synchronous_commit")).toEqual(before);
    } finally {
      await store.close();
    }
  });

  it("starts and claims on one connection, in any order, each find the statements they prepared", async () => {
    const store = await openIn(await testSchema(), { poolSize: 1 });
    try {
      // A start first (it prepares its statement), then a claim (it prepares its own), then a
      // start again: the claim's preparing must not have dropped the start's statement.
      await store.startHeld([{ jobId: "none", token: 1, workerId: "w", expiresAt: new Date(0).toISOString() }]);
      for (let i = 0; i < 3; i++) expect(await store.startHeld(await claimHeld(store))).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it("a connection that lost its prepared statements prepares them again, for claims and starts", async () => {
    const store = await openIn(await testSchema(), { poolSize: 1 });
    try {
      const conn = (store as unknown as { conn: { run(sql: string): Promise<number> } }).conn;
      expect(await store.startHeld(await claimHeld(store))).toHaveLength(1);
      // As if a pooler had moved the connection to another session.
      await conn.run("DEALLOCATE ALL");
      expect(await store.startHeld(await claimHeld(store))).toHaveLength(1);
      await conn.run("DEALLOCATE ALL");
      const lease = await claimHeld(store);
      expect(lease).toHaveLength(1);
      expect(await store.startHeld(lease)).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it("017: an attempt that an earlier version recorded at its claim is listed once, then completed", async () => {
    const schema = await testSchema();
    const first = await openIn(schema);
    await first.enqueueMany([buildNewJob("t", {}, {}, undefined), buildNewJob("t", {}, {}, undefined)]);
    const claimed = await first.claim({ workerId: "w", limit: 2, tasks: ["t"], queues: null, leaseMs: 60_000 });
    await first.close();
    // What a claim wrote before attempts were written once, at their end, on a schema of version 16.
    await backTo(schema, 16);
    for (const c of claimed) {
      await admin.query(
        `INSERT INTO ${schema}.attempts (job_id, number, worker_id, started_at, outcome) VALUES ($1, $2, 'w', 0, 'running')`,
        [c.job.id, c.lease.token],
      );
    }
    const store = await openIn(schema);
    try {
      await expectEarlierAttemptsEnded(store, claimed);
    } finally {
      await store.close();
    }
  });

  it("025 gives a finished job an older version left without a finish time one, counts it, and renames 024's first probe column", async () => {
    const schema = await testSchema();
    await expectFinishTimeFilled(
      () => openIn(schema),
      async (jobId) => {
        await backTo(schema, 24);
        await admin.query(`UPDATE ${schema}.jobs SET finished_at = NULL WHERE id = $1`, [jobId]);
        // As 024's first version named the probe column.
        await admin.query(`ALTER TABLE ${schema}.queues RENAME COLUMN breaker_probe_token TO breaker_probe_attempts`);
      },
    );
  });

  it("034 counts the finished jobs a schema already keeps, and a retry takes its job out of those counts", async () => {
    const schema = await testSchema();
    await expectFinishedCountedByMigration(
      () => openIn(schema),
      async (old) => {
        await backTo(schema, 31);
        await admin.query(`UPDATE ${schema}.jobs SET finished_at = finished_at - 3600000 WHERE id = ANY($1)`, [old]);
      },
    );
  });

  it("an unreachable server gives DATABASE_UNAVAILABLE with the password masked", async () => {
    let thrown: unknown;
    try {
      await openStore("postgres://alice:s3cret-pw@127.0.0.1:1/overseer");
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(OverseerError);
    const err = thrown as OverseerError;
    expect(err.code).toBe("DATABASE_UNAVAILABLE");
    expect(err.message).toMatch(/^cannot connect to postgres:\/\/alice:\*\*\*@127\.0\.0\.1:1\/overseer: /);
    expect(JSON.stringify(err.toJSON())).not.toContain("s3cret-pw");
  });

  it("a URL the driver cannot read is INVALID_ARGUMENT naming the database, its password unprinted", async () => {
    const err = await openStore("postgres://alice:s3cret-pw@127.0.0.1:notaport/overseer").then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OverseerError);
    expect((err as OverseerError).code).toBe("INVALID_ARGUMENT");
    expect((err as OverseerError).details).toEqual({ field: "database" });
    expect(JSON.stringify((err as OverseerError).toJSON())).not.toContain("s3cret-pw");
  });

  it("migrations run once when two stores open at once, and a newer schema is refused", async () => {
    const schema = await testSchema();
    const [a, b] = await Promise.all([openIn(schema), openIn(schema)]);
    try {
      const { rows } = await admin.query(`SELECT version, name FROM ${schema}.schema_migrations ORDER BY version`);
      expect(rows).toEqual([
        { version: 1, name: "001-init" },
        { version: 2, name: "002-schedules" },
        { version: 3, name: "003-tokens" },
        { version: 4, name: "004-finished-index" },
        { version: 5, name: "005-runs" },
        { version: 6, name: "006-claims" },
        { version: 7, name: "007-durable" },
        { version: 8, name: "008-approvals" },
        { version: 9, name: "009-alerts" },
        { version: 10, name: "010-heartbeats" },
        { version: 11, name: "011-retention-indexes" },
        { version: 12, name: "012-enqueued-by" },
        { version: 13, name: "013-cursors" },
        { version: 14, name: "014-notification-receipts" },
        { version: 15, name: "015-held-jobs" },
        { version: 16, name: "016-tasks" },
        { version: 17, name: "017-attempts-at-end" },
        { version: 18, name: "018-attempt-timeouts" },
        { version: 19, name: "019-lessons" },
        { version: 20, name: "020-run-harness" },
        { version: 21, name: "021-people-in-the-loop" },
        { version: 22, name: "022-schedule-retries" },
        { version: 23, name: "023-task-defaults" },
        { version: 24, name: "024-queue-breakers" },
        { version: 25, name: "025-hot-path-indexes" },
        { version: 26, name: "026-notification-fallbacks" },
        { version: 27, name: "027-claim-holders" },
        { version: 28, name: "028-claim-history" },
        { version: 29, name: "029-execution-mode" },
        { version: 30, name: "030-trace-context" },
        { version: 31, name: "031-oncall-overrides" },
        { version: 32, name: "032-job-rollups" },
        { version: 33, name: "033-worker-control" },
        { version: 34, name: "034-finished-counts" },
        { version: 35, name: "035-alert-events" },
      ]);
      expect(await a.migrate()).toEqual({ applied: [] });
    } finally {
      await a.close();
      await b.close();
    }
    await admin.query(`INSERT INTO ${schema}.schema_migrations VALUES (99, '099-future', 0)`);
    await expect(openIn(schema)).rejects.toMatchObject({ code: "SCHEMA_TOO_NEW" });
  });

  it("016 fills the task registry from the worker rows a schema of version 14 still has", async () => {
    const schema = await testSchema();
    await (await openIn(schema)).close();
    // Back to before 016, with two workers' rows kept.
    await admin.query(`DROP TABLE ${schema}.tasks`);
    await backTo(schema, 15);
    const insert = `INSERT INTO ${schema}.workers (id, name, host, pid, queues, tasks, concurrency, status, started_at, heartbeat_at) VALUES ($1, 'w', 'h', 1, NULL, $2, 1, 'stopped', $3, $3)`;
    await admin.query(insert, ["w1", '["send-email","report"]', 1_000]);
    await admin.query(insert, ["w2", '["send-email"]', 5_000]);
    const store = await openIn(schema);
    try {
      expect(await store.listTasks()).toEqual([
        { name: "report", firstSeenAt: new Date(1_000).toISOString(), lastSeenAt: new Date(1_000).toISOString() },
        { name: "send-email", firstSeenAt: new Date(1_000).toISOString(), lastSeenAt: new Date(5_000).toISOString() },
      ]);
    } finally {
      await store.close();
    }
  });

  it("onChange hears another store's enqueue, and times come from the database clock", async () => {
    const schema = await testSchema();
    const a = await openIn(schema);
    const b = await openIn(schema);
    try {
      const heard = new Promise<void>((resolve) => {
        const unsubscribe = a.onChange(() => {
          unsubscribe();
          resolve();
        });
      });
      // Let the LISTEN connection open before the other store writes.
      await new Promise((r) => setTimeout(r, 200));
      const before = Date.now();
      const { job } = await b.enqueue(buildNewJob("t", {}, {}, undefined));
      await heard;
      const created = Date.parse(job.createdAt);
      expect(Math.abs(created - before)).toBeLessThan(5_000);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("runs: two stores claiming at once never take the same run, and a control on one wakes the other", async () => {
    const schema = await testSchema();
    const a = await openIn(schema);
    const b = await openIn(schema);
    try {
      const spec = {
        command: "true",
        args: [],
        cwd: "/tmp",
        env: [],
        maxTurns: 1,
        turnTimeoutMs: 1_000,
        graceMs: 100,
        completion: { exitCode: 0 },
        onTurnFailure: "fail" as const,
      };
      const ids = Array.from({ length: 20 }, (_, i) => `01RUN${String(i).padStart(4, "0")}`);
      for (const id of ids) await a.createRun({ id, profile: null, params: {}, spec, createdBy: null });
      const claimAll = async (store: PostgresStore, workerId: string): Promise<string[]> => {
        const got: string[] = [];
        for (;;) {
          const claimed = await store.claimRun(workerId, 30_000);
          if (!claimed) return got;
          got.push(claimed.run.id);
        }
      };
      const [fromA, fromB, fromA2] = await Promise.all([claimAll(a, "a1"), claimAll(b, "b1"), claimAll(a, "a2")]);
      const all = [...(fromA ?? []), ...(fromB ?? []), ...(fromA2 ?? [])];
      expect(all.sort()).toEqual(ids);

      const heard = new Promise<void>((resolve) => {
        const unsubscribe = a.onChange(() => {
          unsubscribe();
          resolve();
        });
      });
      // Let the LISTEN connection open before the other store writes.
      await new Promise((r) => setTimeout(r, 200));
      await b.controlRun(ids[0] as string, { action: "cancel", by: "alice" });
      await heard;
    } finally {
      await a.close();
      await b.close();
    }
  });
});
