/**
 * Migration 021 on a SQLite file at version 20: it rebuilds `runs` (to widen its state CHECK with
 * `waiting`) and `approvals` (to let a run own a request), and must keep every row and every index
 * of both, and leave a job's request working as before and a run able to ask.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, expect, it } from "vitest";
import { MIGRATIONS, scriptOf } from "./migrations/index.js";
import { SqliteStore } from "./sqlite-store.js";

const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const SPEC = JSON.stringify({
  command: "agent",
  args: [],
  cwd: "/srv",
  env: [],
  maxTurns: 5,
  turnTimeoutMs: 60_000,
  graceMs: 1_000,
  completion: { exitCode: 0 },
  onTurnFailure: "fail",
});

/** Runs in a started, a queued and a finished state, and a job's request, written at version 20. */
function fileAtVersion20(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "overseer-migration-021-"));
  dirs.push(dir);
  const file = path.join(dir, "overseer.db");
  const db = new Database(file);
  try {
    db.pragma("journal_mode = WAL");
    for (const m of MIGRATIONS.filter((m) => m.version <= 20)) db.exec(scriptOf(m, () => false));
    db.pragma("user_version = 20");
    const run = db.prepare(`
      INSERT INTO runs (id, profile, params, spec, state, version, current_turn, stats, completion, lease_owner,
        lease_token, lease_expires_at, created_by, created_at, started_at, finished_at, updated_at, rerun_of)
      VALUES (@id, 'p', '{}', @spec, @state, 2, @turn, '{}', '{"detected":null,"line":null,"turn":null}', @owner,
        @token, @lease, 'ci', @created, @started, @finished, @created, @rerunOf)`);
    run.run({
      id: "r1",
      spec: SPEC,
      state: "running",
      turn: 2,
      owner: "w0",
      token: 1,
      lease: 500,
      created: 1_000,
      started: 1_100,
      finished: null,
      rerunOf: null,
    });
    run.run({
      id: "r2",
      spec: SPEC,
      state: "queued",
      turn: 0,
      owner: null,
      token: 0,
      lease: null,
      created: 2_000,
      started: null,
      finished: null,
      rerunOf: null,
    });
    run.run({
      id: "r3",
      spec: SPEC,
      state: "completed",
      turn: 1,
      owner: null,
      token: 1,
      lease: null,
      created: 3_000,
      started: 3_100,
      finished: 3_200,
      rerunOf: "r1",
    });
    db.prepare(`
      INSERT INTO approvals (id, job_id, step, title, details, risk, approvers, quorum, requested_by, on_timeout,
        state, decisions, outcome, created_at, expires_at, settled_at, version)
      VALUES ('ap1', 'j1', 'approval#1', 'Deploy', 'null', 'high', '[]', 1, NULL, 'deny', 'pending', '[]', NULL,
        1000, 999999999, NULL, 1)`).run();
  } finally {
    db.close();
  }
  return file;
}

function snapshot(file: string) {
  const db = new Database(file, { readonly: true });
  try {
    return {
      indexes: (
        db
          .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('runs', 'approvals') ORDER BY name",
          )
          .all() as Array<{ name: string }>
      ).map((i) => i.name),
      runs: db.prepare("SELECT * FROM runs ORDER BY id").all(),
      approvals: db.prepare("SELECT * FROM approvals ORDER BY id").all(),
      integrity: db.pragma("integrity_check", { simple: true }),
    };
  } finally {
    db.close();
  }
}

it("keeps every run and request, every index, and the claim order; a run can wait, a job's request still works", async () => {
  const file = fileAtVersion20();
  const before = snapshot(file);
  const store = await SqliteStore.open({ path: file, clock: () => 10_000 });
  stores.push(store);
  const after = snapshot(file);
  expect(after.integrity).toBe("ok");
  expect(after.runs).toEqual(before.runs);
  expect(after.approvals).toEqual(
    // 029 adds what a request was asked under: none of them said (execution null), none a test item.
    (before.approvals as object[]).map((a) => ({ ...a, run_id: null, kind: "approval", execution: null, test: 0 })),
  );
  expect(after.indexes).toEqual([...before.indexes, "approvals_run", "approvals_run_step"].sort());

  // The claim order holds: the orphaned running run (its lease expired at 500) is older than the queued one.
  const claimed = await store.claimRun("w1", 30_000);
  expect(claimed?.run.id).toBe("r1");
  expect(await store.getApproval("ap1")).toMatchObject({
    jobId: "j1",
    runId: null,
    kind: "approval",
    state: "pending",
  });
  // The widened CHECK takes the new state.
  const lease = claimed?.lease;
  if (!lease) throw new Error("unreachable");
  const waiting = await store.updateRun(lease, {
    transition: "ask",
    ask: {
      id: "ap2",
      kind: "question",
      step: "turn-2",
      title: "Which?",
      details: null,
      risk: "low",
      approvers: [],
      quorum: 1,
      requestedBy: null,
      onTimeout: "deny",
      timeoutMs: 60_000,
    },
  });
  expect(waiting?.state).toBe("waiting");
  expect(await store.listApprovals({ runId: "r1" })).toMatchObject([{ id: "ap2", kind: "question" }]);
  expect(await store.listReruns("r1")).toEqual(["r3"]);
});
