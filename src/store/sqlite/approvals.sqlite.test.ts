/**
 * Approvals on one SQLite file: separate store objects (separate connections) run the watchdog
 * at the same moment and settle each request exactly once; and migration 008, which rebuilds the
 * `jobs` table to widen its state CHECK, keeps every row, every index and the claim order of a
 * file at version 7.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { raceWatchdogs } from "../conformance/approvals.js";
import { MIGRATIONS, scriptOf } from "./migrations/index.js";
import { SqliteStore } from "./sqlite-store.js";

const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "overseer-approvals-"));
  dirs.push(dir);
  return path.join(dir, "overseer.db");
}

describe("approvals on one SQLite file (SQLite only)", () => {
  it("several stores calling expireApprovals at once settle each request exactly once", async () => {
    let now = Date.UTC(2030, 0, 1);
    const file = tempFile();
    for (let i = 0; i < 6; i++) stores.push(await SqliteStore.open({ path: file, clock: () => now }));
    for (let round = 0; round < 3; round++) {
      const race = await raceWatchdogs(stores, 25, (ms) => {
        now += ms;
      });
      expect(race.settledByCall.flat().sort(), `round ${round}`).toEqual([...race.requested].sort());
      expect(race.settledEvents.filter((id) => race.requested.includes(id)).sort()).toEqual([...race.requested].sort());
    }
    expect((await stores[0]?.countJobs())?.queued).toBe(75);
  });
});

describe("migration 008 on a SQLite file at version 7", () => {
  /** Jobs in every state 001 allowed, with priorities and run times that make the claim order non-trivial. */
  function fileAtVersion7(): string {
    const file = tempFile();
    const db = new Database(file);
    try {
      db.pragma("journal_mode = WAL");
      for (const m of MIGRATIONS.filter((m) => m.version <= 7)) db.exec(scriptOf(m, () => false));
      db.pragma("user_version = 7");
      const insert = db.prepare(`
        INSERT INTO jobs (id, task, queue, state, payload, priority, run_at, attempts, max_attempts, backoff,
          idempotency_key, concurrency_key, concurrency_limit, lease_owner, lease_token, lease_expires_at,
          created_at, started_at, finished_at, version)
        VALUES (@id, 't', @queue, @state, @payload, @priority, @run_at, @attempts, 3, '{"type":"fixed","delayMs":1000,"jitter":0}',
          @key, @ckey, @climit, @owner, @token, @lease, 1000, @started, @finished, @version)`);
      const rows = [
        ["j01", "queued", 0, 5_000],
        ["j02", "queued", -5, 9_000],
        ["j03", "queued", 0, 1_000],
        ["j04", "queued", 10, 0],
        ["j05", "queued", 0, 1_000],
        ["j06", "scheduled", 0, 99_000],
        ["j07", "running", 0, 1_000],
        ["j08", "succeeded", 0, 1_000],
        ["j09", "dead", 0, 1_000],
        ["j10", "cancelled", 0, 1_000],
        ["j11", "queued", -5, 9_000],
      ] as const;
      for (const [id, state, priority, runAt] of rows) {
        insert.run({
          id,
          queue: id === "j04" ? "other" : "default",
          state,
          payload: JSON.stringify({ id }),
          priority,
          run_at: runAt,
          attempts: state === "queued" || state === "scheduled" ? 0 : 1,
          key: id === "j03" ? "idem-3" : null,
          ckey: id === "j05" ? "ck" : null,
          climit: id === "j05" ? 2 : null,
          owner: state === "running" ? "w0" : null,
          token: state === "queued" || state === "scheduled" ? 0 : 1,
          lease: state === "running" ? 500_000 : null,
          started: state === "queued" || state === "scheduled" ? null : 2_000,
          finished: ["succeeded", "dead", "cancelled"].includes(state) ? 3_000 : null,
          version: 3,
        });
      }
      db.prepare(
        "INSERT INTO job_steps (job_id, name, kind, result, created_at) VALUES ('j07', 's', 'step', '1', 2500)",
      ).run();
    } finally {
      db.close();
    }
    return file;
  }

  function snapshot(file: string) {
    const db = new Database(file, { readonly: true });
    try {
      return {
        indexes: db
          .prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('jobs', 'job_steps') ORDER BY name",
          )
          .all(),
        jobs: db.prepare("SELECT * FROM jobs ORDER BY id").all(),
        steps: db.prepare("SELECT * FROM job_steps ORDER BY job_id, name").all(),
        version: db.pragma("user_version", { simple: true }),
        integrity: db.pragma("integrity_check", { simple: true }),
        tables: db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all(),
      };
    } finally {
      db.close();
    }
  }

  it("keeps every job row, every index and the claim order", async () => {
    const file = fileAtVersion7();
    const before = snapshot(file);
    expect(before.version).toBe(7);
    expect(before.jobs).toHaveLength(11);
    expect((before.indexes as Array<{ name: string }>).map((i) => i.name)).toEqual([
      "jobs_concurrency",
      "jobs_finished",
      "jobs_idempotency",
      "jobs_leases",
      "jobs_queue_state",
      "jobs_ready",
      "jobs_scheduled",
      "jobs_state",
      "sqlite_autoindex_jobs_1",
    ]);

    const store = await SqliteStore.open({ path: file, clock: () => 10_000 });
    stores.push(store);
    const after = snapshot(file);
    expect(after.version).toBe(MIGRATIONS.at(-1)?.version);
    expect(after.integrity).toBe("ok");
    // The same indexes as a new file's: 008 rebuilt the table with all of them, and 025 changed
    // some, as it does everywhere.
    const freshFile = tempFile();
    stores.push(await SqliteStore.open({ path: freshFile }));
    expect(after.indexes).toEqual(snapshot(freshFile).indexes);
    // Migration 012 adds enqueued_by, null for jobs from before, 015 held, 0 (started) for them,
    // 018 timeout_ms, null, and 030 trace_context, null; every other column is as it was.
    expect(after.jobs).toEqual(
      (before.jobs as object[]).map((j) => ({
        ...j,
        enqueued_by: null,
        held: 0,
        timeout_ms: null,
        trace_context: null,
      })),
    );
    expect(after.steps).toEqual(before.steps);
    expect((after.tables as Array<{ name: string }>).map((t) => t.name)).toEqual(
      [
        ...(before.tables as Array<{ name: string }>).map((t) => t.name),
        "approvals",
        // Opening migrates to the latest version: 009's tables (AUTOINCREMENT adds sqlite_sequence).
        "alerts",
        "alert_notifications",
        "sqlite_sequence",
        // 010's, 013's and 016's.
        "heartbeats",
        "cursors",
        "tasks",
        // 019's, with the FTS5 index's own tables.
        "lessons",
        "lesson_tags",
        "lessons_fts",
        "lessons_fts_config",
        "lessons_fts_data",
        "lessons_fts_docsize",
        "lessons_fts_idx",
        // 020's.
        "run_messages",
        // 029's.
        "settings",
        // 031's.
        "oncall_overrides",
        // 032's.
        "job_rollups",
        "job_rollups_quarter_hourly",
        "job_rollups_hourly",
        "rollup_watermarks",
        // 034's.
        "finished_counts",
        "finished_counts_mark",
      ].sort(),
    );

    // Claim order: priority, then run_at, then id; the scheduled job is not due, the other queue not asked.
    const claimed = await store.claim({
      workerId: "w1",
      limit: 20,
      tasks: ["t"],
      queues: ["default"],
      leaseMs: 30_000,
    });
    expect(claimed.map((c) => c.job.id)).toEqual(["j02", "j11", "j03", "j05", "j01"]);

    // The widened CHECK takes the new state; the old ones still hold.
    const lease = claimed[0]?.lease;
    if (!lease) throw new Error("unreachable");
    const asked = await store.requestApproval(lease, {
      id: "ap1",
      step: "approval#1",
      title: "t",
      details: null,
      risk: "low",
      approvers: [],
      quorum: 1,
      requestedBy: null,
      onTimeout: "deny",
      timeoutMs: 1_000,
    });
    expect(asked?.kind).toBe("parked");
    expect((await store.getJob("j02"))?.state).toBe("awaiting_approval");
    const raw = new Database(file);
    try {
      expect(() => raw.prepare("UPDATE jobs SET state = 'bogus' WHERE id = 'j01'").run()).toThrow(/CHECK/);
      expect(() =>
        raw
          .prepare("INSERT INTO job_steps (job_id, name, kind, result, created_at) VALUES ('j01', 'x', 'nope', '1', 1)")
          .run(),
      ).toThrow(/CHECK/);
    } finally {
      raw.close();
    }
  });
});
