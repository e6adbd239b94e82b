import { spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { type ErrorCode, OverseerError } from "../../core/errors.js";
import { buildNewJob } from "../../core/job-options.js";
import { runStoreConformance } from "../conformance/suite.js";
import {
  expectEarlierAttemptsEnded,
  expectFinishedCountedByMigration,
  expectFinishTimeFilled,
} from "../conformance/upgrades.js";
import { MIGRATIONS, scriptOf } from "./migrations/index.js";
import { SqliteStore } from "./sqlite-store.js";

const require = createRequire(import.meta.url);

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "overseer-sqlite-"));
}

runStoreConformance({
  name: "sqlite",
  open: async ({ clock }) => {
    const dir = tempDir();
    const store = await SqliteStore.open({ path: path.join(dir, "overseer.db"), clock });
    return {
      store,
      cleanup: async () => {
        await store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

describe("SqliteStore (SQLite only)", () => {
  const dirs: string[] = [];
  const stores: SqliteStore[] = [];
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };
  const open = async (options: Parameters<typeof SqliteStore.open>[0]) => {
    const store = await SqliteStore.open(options);
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  /**
   * Another process takes the write lock, says so on stdout, holds it for `holdMs`, then commits.
   * (Waiting for a lock blocks this thread, so the holder must be another process.)
   */
  async function holdWriteLock(file: string, holdMs: number): Promise<{ released: Promise<void> }> {
    const script = `
      const Database = require(${JSON.stringify(require.resolve("better-sqlite3"))});
      const db = new Database(${JSON.stringify(file)});
      db.exec("BEGIN IMMEDIATE");
      process.stdout.write("locked\\n");
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${holdMs});
      db.exec("COMMIT");
      db.close();`;
    const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    // Wrapped: an async function returning the bare promise would make the caller wait for it.
    return { released: exited };
  }

  it("waits for a write lock held by another process, then writes", async () => {
    const file = path.join(dir(), "o.db");
    const store = await open({ path: file });
    const { released } = await holdWriteLock(file, 150);
    const started = performance.now();
    const { job } = await store.enqueue(buildNewJob("t", {}, {}, {}));
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    expect(await store.getJob(job.id)).toMatchObject({ state: "queued" });
    await released;
  });

  it("gives up with DATABASE_UNAVAILABLE when the lock is held longer than the busy timeout", async () => {
    const file = path.join(dir(), "o.db");
    const store = await open({ path: file, busyTimeoutMs: 50 });
    const { released } = await holdWriteLock(file, 1_000);
    const err = await store.enqueue(buildNewJob("t", {}, {}, {})).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OverseerError);
    expect((err as OverseerError).code).toBe("DATABASE_UNAVAILABLE");
    expect((err as OverseerError).message).toContain("locked by another process for more than 50 ms");
    await released;
    expect(await store.countJobs()).toMatchObject({ queued: 0 });
  });

  async function openFails(options: Parameters<typeof SqliteStore.open>[0], code: ErrorCode): Promise<OverseerError> {
    let thrown: unknown;
    try {
      stores.push(await SqliteStore.open(options));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(OverseerError);
    expect((thrown as OverseerError).code).toBe(code);
    return thrown as OverseerError;
  }

  describe("open", () => {
    it("fails with DATABASE_UNAVAILABLE when the folder does not exist, and creates nothing", async () => {
      const root = dir();
      const file = path.join(root, "missing", "overseer.db");
      const err = await openFails({ path: file }, "DATABASE_UNAVAILABLE");
      expect(err.message).toContain("folder does not exist");
      expect(err.details.path).toBe(file);
      expect(fs.existsSync(path.join(root, "missing"))).toBe(false);
      expect(fs.readdirSync(root)).toEqual([]);
    });

    it("fails with DATABASE_UNAVAILABLE when the path is a directory", async () => {
      const root = dir();
      await openFails({ path: root }, "DATABASE_UNAVAILABLE");
      expect(fs.readdirSync(root)).toEqual([]);
    });

    it("fails with DATABASE_UNAVAILABLE on a file that is not a database, leaving it unchanged", async () => {
      const root = dir();
      const file = path.join(root, "notes.txt");
      const content = Buffer.from("these are my notes, not a database\n".repeat(200));
      fs.writeFileSync(file, content);
      await openFails({ path: file }, "DATABASE_UNAVAILABLE");
      expect(fs.readFileSync(file).equals(content)).toBe(true);
      expect(fs.readdirSync(root)).toEqual(["notes.txt"]);
    });

    it.each(["", "   ", ":memory:"])("fails with DATABASE_UNAVAILABLE for the path %j", async (p) => {
      await openFails({ path: p }, "DATABASE_UNAVAILABLE");
    });

    it("fails with SCHEMA_TOO_NEW when the database was migrated by a newer Overseer, touching nothing", async () => {
      const file = path.join(dir(), "overseer.db");
      const ahead = (MIGRATIONS.at(-1)?.version ?? 0) + 1;
      const raw = new Database(file);
      raw.pragma(`user_version = ${ahead}`);
      raw.close();

      await openFails({ path: file }, "SCHEMA_TOO_NEW");
      const check = new Database(file, { readonly: true });
      try {
        expect(check.pragma("user_version", { simple: true })).toBe(ahead);
        expect(check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()).toEqual([]);
      } finally {
        check.close();
      }
    });

    it('opens with durability: "full"', async () => {
      const store = await open({ path: path.join(dir(), "overseer.db"), durability: "full" });
      const { job } = await store.enqueue(buildNewJob("t", { n: 1 }, undefined, undefined));
      expect((await store.getJob(job.id))?.payload).toEqual({ n: 1 });
    });
  });

  describe("migrations", () => {
    it("migrates a new file to the latest version, and a second migrate is a no-op", async () => {
      const file = path.join(dir(), "overseer.db");
      const store = await open({ path: file });
      expect(await store.migrate()).toEqual({ applied: [] });
      expect(await store.migrate()).toEqual({ applied: [] });
      const check = new Database(file, { readonly: true });
      try {
        expect(check.pragma("user_version", { simple: true })).toBe(MIGRATIONS.at(-1)?.version);
      } finally {
        check.close();
      }
    });

    it("005 upgrades a file of version 4: its events keep their rows and read with runId null", async () => {
      const file = path.join(dir(), "overseer.db");
      const old = new Database(file);
      try {
        for (const m of MIGRATIONS.filter((m) => m.version <= 4)) old.exec(scriptOf(m, () => false));
        old.pragma("user_version = 4");
        old
          .prepare("INSERT INTO events (at, kind, job_id, worker_id, data) VALUES (1, 'job.log', 'j1', NULL, '{}')")
          .run();
      } finally {
        old.close();
      }
      const store = await open({ path: file });
      expect((await store.readEvents()).map((e) => [e.kind, e.jobId, e.runId])).toEqual([["job.log", "j1", null]]);
      const created = await store.createRun({
        id: "r1",
        profile: null,
        params: {},
        spec: {
          command: "true",
          args: [],
          cwd: "/tmp",
          env: [],
          maxTurns: 1,
          turnTimeoutMs: 1_000,
          graceMs: 100,
          completion: { exitCode: 0 },
          onTurnFailure: "fail",
        },
        createdBy: null,
      });
      expect((await store.readEvents({ runId: created.id })).map((e) => e.kind)).toEqual(["run.queued"]);
    });

    it("016 fills the task registry from the worker rows a file of version 14 still has", async () => {
      const file = path.join(dir(), "overseer.db");
      const old = new Database(file);
      try {
        for (const m of MIGRATIONS.filter((m) => m.version <= 14)) old.exec(scriptOf(m, () => false));
        old.pragma("user_version = 14");
        const worker = old.prepare(
          "INSERT INTO workers (id, name, host, pid, queues, tasks, concurrency, status, started_at, heartbeat_at) VALUES (?, 'w', 'h', 1, NULL, ?, 1, 'stopped', ?, ?)",
        );
        worker.run("w1", '["send-email","report"]', 1_000, 2_000);
        worker.run("w2", '["send-email"]', 5_000, 6_000);
      } finally {
        old.close();
      }
      const store = await open({ path: file });
      expect(await store.listTasks()).toEqual([
        { name: "report", firstSeenAt: new Date(1_000).toISOString(), lastSeenAt: new Date(1_000).toISOString() },
        { name: "send-email", firstSeenAt: new Date(1_000).toISOString(), lastSeenAt: new Date(5_000).toISOString() },
      ]);
    });

    it("017: an attempt that an earlier version recorded at its claim is listed once, then completed", async () => {
      const file = path.join(dir(), "overseer.db");
      const first = await open({ path: file });
      await first.enqueueMany([buildNewJob("t", {}, {}, undefined), buildNewJob("t", {}, {}, undefined)]);
      const claimed = await first.claim({ workerId: "w", limit: 2, tasks: ["t"], queues: null, leaseMs: 60_000 });
      await first.close();
      // What a claim wrote before attempts were written once, at their end, on a file of version 16.
      const raw = new Database(file);
      try {
        raw.exec("DROP TABLE run_messages; DROP INDEX runs_rerun_of; ALTER TABLE runs DROP COLUMN rerun_of");
        raw.exec("DROP TABLE lessons_fts; DROP TABLE lesson_tags; DROP TABLE lessons");
        raw.exec("ALTER TABLE jobs DROP COLUMN timeout_ms");
        raw.exec("ALTER TABLE schedules DROP COLUMN max_attempts; ALTER TABLE schedules DROP COLUMN backoff");
        raw.exec("ALTER TABLE tasks DROP COLUMN defaults");
        for (const column of ["state", "opened_at", "probe_at", "probe", "probe_token", "trip"]) {
          raw.exec(`ALTER TABLE queues DROP COLUMN breaker_${column}`);
        }
        raw.exec(`DROP INDEX jobs_ended; DROP INDEX jobs_awaiting;
          CREATE INDEX jobs_state ON jobs (state, id); CREATE INDEX jobs_queue_state ON jobs (queue, state)`);
        raw.pragma("user_version = 16");
        for (const c of claimed) {
          raw
            .prepare(
              "INSERT INTO attempts (job_id, number, worker_id, started_at, outcome) VALUES (?, ?, 'w', 0, 'running')",
            )
            .run(c.job.id, c.lease.token);
        }
      } finally {
        raw.close();
      }
      const store = await open({ path: file });
      await expectEarlierAttemptsEnded(store, claimed);
    });

    it("025 gives a finished job an older version left without a finish time one, counts it, and renames 024's first probe column", async () => {
      const file = path.join(dir(), "overseer.db");
      await expectFinishTimeFilled(
        () => open({ path: file }),
        async (jobId) => {
          const raw = new Database(file);
          try {
            raw.exec(`DROP INDEX jobs_ended; DROP INDEX jobs_awaiting;
              CREATE INDEX jobs_state ON jobs (state, id); CREATE INDEX jobs_queue_state ON jobs (queue, state)`);
            raw.prepare("UPDATE jobs SET finished_at = NULL WHERE id = ?").run(jobId);
            // As 024's first version named the probe column.
            raw.exec("ALTER TABLE queues RENAME COLUMN breaker_probe_token TO breaker_probe_attempts");
            raw.pragma("user_version = 24");
          } finally {
            raw.close();
          }
        },
      );
    });

    it("034 counts the finished jobs a file already keeps, and a retry takes its job out of those counts", async () => {
      const file = path.join(dir(), "overseer.db");
      await expectFinishedCountedByMigration(
        () => open({ path: file }),
        async (old) => {
          const raw = new Database(file);
          try {
            raw.exec("DROP TABLE finished_counts; DROP TABLE finished_counts_mark");
            const earlier = raw.prepare("UPDATE jobs SET finished_at = finished_at - 3600000 WHERE id = ?");
            for (const id of old) earlier.run(id);
            raw.pragma("user_version = 31");
          } finally {
            raw.close();
          }
        },
      );
    });

    it("reopening a migrated file keeps its data", async () => {
      const file = path.join(dir(), "overseer.db");
      const first = await SqliteStore.open({ path: file });
      const { job } = await first.enqueue(buildNewJob("t", "kept", undefined, undefined));
      await first.close();
      const second = await open({ path: file });
      expect(await second.migrate()).toEqual({ applied: [] });
      expect((await second.getJob(job.id))?.payload).toBe("kept");
    });
  });

  describe("two connections to one file", () => {
    it("see each other's writes", async () => {
      const file = path.join(dir(), "overseer.db");
      const a = await open({ path: file });
      const b = await open({ path: file });

      const { job } = await a.enqueue(buildNewJob("t", { from: "a" }, undefined, undefined));
      expect(await b.getJob(job.id)).toEqual(job);

      const [claimed] = await b.claim({ workerId: "wb", limit: 5, tasks: ["t"], queues: null, leaseMs: 30_000 });
      expect(claimed?.job.id).toBe(job.id);
      expect(await a.claim({ workerId: "wa", limit: 5, tasks: ["t"], queues: null, leaseMs: 30_000 })).toEqual([]);
      expect((await a.getJob(job.id))?.state).toBe("running");

      await b.finish([{ lease: claimed!.lease, outcome: "succeeded", resultJson: '"done"' }]);
      expect(await a.getJob(job.id)).toMatchObject({ state: "succeeded", result: "done" });
      expect((await a.readEvents({ jobId: job.id })).map((e) => e.kind)).toEqual([
        "job.enqueued",
        "job.started",
        "job.succeeded",
      ]);
      expect(await a.lastEventSeq()).toBe(await b.lastEventSeq());
    });

    it("wake each other: onChange hears the other connection's enqueue", async () => {
      const file = path.join(dir(), "overseer.db");
      const a = await open({ path: file });
      const b = await open({ path: file });
      let unsubscribe = (): void => undefined;
      const woke = new Promise<void>((resolve) => {
        unsubscribe = b.onChange(resolve);
      });
      await a.enqueue(buildNewJob("t", null, undefined, undefined));
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          woke,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error("no wakeup within 5 s")), 5_000);
          }),
        ]);
      } finally {
        clearTimeout(timer);
        unsubscribe();
      }
    });
  });
});
