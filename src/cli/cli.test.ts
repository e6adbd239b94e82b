// The `overseer` command as a user runs it: the built binary in real processes on temp databases.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { newId } from "../core/ids.js";
import type { RunSpec } from "../core/run.js";
import { createOverseer } from "../sdk/overseer.js";
import { BIN, cliSandbox } from "../test-support/cli.js";

const cli = cliSandbox("overseer-cli-");
const tempDir = cli.tempDir;
const overseer = cli.run;

const RUN_SPEC: RunSpec = {
  command: "agent",
  args: [],
  cwd: tmpdir(),
  env: [],
  maxTurns: 1,
  turnTimeoutMs: 60_000,
  graceMs: 1_000,
  completion: { exitCode: 0 },
  onTurnFailure: "fail",
};

async function jobsIn(
  db: string,
): Promise<Array<{ id: string; task: string; state: string; attempts: number; queue: string }>> {
  const r = await overseer(["--database", db, "jobs", "list", "--json", "--limit", "1000"]);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

describe("the launcher", () => {
  it("runs as an executable through its shebang, as npx and npm's bin links run it", async () => {
    tempDir();
    const out = await overseer(["--help"], { direct: true });
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("Usage: overseer");
  });
});

describe("enqueue and jobs", () => {
  it("enqueues a job and lists it as JSON with id, task, state, attempts and queue", async () => {
    const db = join(tempDir(), "o.db");
    const e = await overseer([
      "--database",
      db,
      "enqueue",
      "send-sms",
      "--payload",
      '{"to":"+1"}',
      "--priority",
      "high",
      "--queue",
      "sms",
      "--json",
    ]);
    expect(e.code).toBe(0);
    const job = JSON.parse(e.stdout);
    expect(job).toMatchObject({
      task: "send-sms",
      state: "queued",
      queue: "sms",
      priority: -10,
      payload: { to: "+1" },
    });
    const list = await jobsIn(db);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: job.id, task: "send-sms", state: "queued", attempts: 0, queue: "sms" });
  });

  it("returns the existing job for a repeated idempotency key", async () => {
    const db = join(tempDir(), "o.db");
    const a = JSON.parse((await overseer(["--database", db, "enqueue", "t", "--key", "k1", "--json"])).stdout);
    const b = await overseer(["--database", db, "enqueue", "t", "--key", "k1"]);
    expect(b.stdout).toContain(`exists (idempotency key) ${a.id}`);
    expect(await jobsIn(db)).toHaveLength(1);
  });

  it("bulk-enqueues one payload per line of standard input", async () => {
    const db = join(tempDir(), "o.db");
    const r = await overseer(["--database", db, "enqueue", "report", "--ndjson", "--json"], {
      input: '{"n":1}\n{"n":2}\n\n{"n":3}\n',
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).map((j: { payload: unknown }) => j.payload)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(await jobsIn(db)).toHaveLength(3);
  });

  it("warns on stderr, once per task, when no worker has registered the task, and still enqueues (exit 0)", async () => {
    const db = join(tempDir(), "o.db");
    // A worker for send-email and report has run on this database, and stopped.
    const producer = await createOverseer({ database: db });
    try {
      producer.defineTask("send-email", async () => null);
      producer.defineTask("report", async () => null);
      const worker = producer.worker();
      await worker.start();
      await worker.stop();
    } finally {
      await producer.close();
    }
    const typo = await overseer(["--database", db, "enqueue", "sned-email", "--payload", '{"to":"a@example.com"}']);
    expect(typo.code).toBe(0);
    expect(typo.stdout).toMatch(/^enqueued \S+ sned-email \[queued\]/);
    expect(typo.stderr).toBe(
      "warning TASK_NOT_REGISTERED: no worker has registered task 'sned-email'; known tasks: send-email, report\n",
    );
    // --json prints the job as the store keeps it; the warning stays on stderr.
    const json = await overseer(["--database", db, "--json", "enqueue", "sned-email"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).not.toHaveProperty("taskRegistered");
    expect(json.stderr).toMatch(/^warning TASK_NOT_REGISTERED: no worker has registered task 'sned-email'; /);

    const bulk = await overseer(["--database", db, "enqueue", "reprot", "--ndjson"], { input: '{"n":1}\n{"n":2}\n' });
    expect(bulk).toMatchObject({ code: 0, stderr: expect.stringMatching(/^warning TASK_NOT_REGISTERED: [^\n]+\n$/) });
    expect(bulk.stderr).toContain("task 'reprot'; known tasks: report, send-email");

    expect(await overseer(["--database", db, "enqueue", "send-email"])).toMatchObject({ code: 0, stderr: "" });
    expect(await overseer(["--database", db, "enqueue", "report", "--ndjson"], { input: "1\n" })).toMatchObject({
      code: 0,
      stderr: "",
    });
    expect((await jobsIn(db)).map((j) => j.task).sort()).toEqual([
      "report",
      "reprot",
      "reprot",
      "send-email",
      "sned-email",
      "sned-email",
    ]);
  });

  it("shows, cancels, retries and discards a job", async () => {
    const db = join(tempDir(), "o.db");
    const job = JSON.parse((await overseer(["--database", db, "enqueue", "t", "--delay", "1h", "--json"])).stdout);
    expect(job.state).toBe("scheduled");
    const cancel = await overseer(["--database", db, "jobs", "cancel", job.id, "--json"]);
    expect(JSON.parse(cancel.stdout).state).toBe("cancelled");
    const again = await overseer(["--database", db, "jobs", "cancel", job.id]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("INVALID_TRANSITION");
    const retry = await overseer(["--database", db, "jobs", "retry", job.id, "--json"]);
    expect(JSON.parse(retry.stdout)).toMatchObject({ state: "queued", attempts: 0 });
    const show = await overseer(["--database", db, "jobs", "show", job.id, "--json"]);
    expect(JSON.parse(show.stdout).events.map((e: { kind: string }) => e.kind)).toEqual([
      "job.enqueued",
      "job.cancelled",
      "job.retried",
    ]);
    await overseer(["--database", db, "jobs", "cancel", job.id]);
    expect((await overseer(["--database", db, "jobs", "discard", job.id])).code).toBe(0);
    expect(await jobsIn(db)).toHaveLength(0);
    const missing = await overseer(["--database", db, "jobs", "show", job.id]);
    expect(missing.stderr).toContain("JOB_NOT_FOUND");
  });
});

describe("bad input gives one clear line, a non-zero exit and writes nothing", () => {
  const cases: Array<[string, string[], string]> = [
    ["an empty task name", ["enqueue", ""], "INVALID_TASK_NAME"],
    ["a malformed task name", ["enqueue", "no spaces allowed"], "INVALID_TASK_NAME"],
    ["a payload that is not JSON", ["enqueue", "t", "--payload", "{oops"], "INVALID_PAYLOAD"],
    ["a negative delay", ["enqueue", "t", "--delay", "-5s"], "INVALID_ARGUMENT"],
    ["a malformed delay", ["enqueue", "t", "--delay", "soon"], "INVALID_ARGUMENT"],
    ["an unknown priority", ["enqueue", "t", "--priority", "urgent"], "INVALID_ARGUMENT"],
    ["an unknown state filter", ["jobs", "list", "--state", "queued,finished"], "INVALID_STATE_FILTER"],
    ["a limit out of range", ["jobs", "list", "--limit", "0"], "INVALID_ARGUMENT"],
  ];
  for (const [what, args, code] of cases) {
    it(what, async () => {
      const db = join(tempDir(), "o.db");
      const r = await overseer(["--database", db, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^overseer: ${code}: .+\\n$`));
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(existsSync(db)).toBe(false); // not even the database file
    });
  }

  it("a malformed line in --ndjson input enqueues none of the lines", async () => {
    const db = join(tempDir(), "o.db");
    const r = await overseer(["--database", db, "enqueue", "t", "--ndjson"], { input: '{"n":1}\nnot json\n{"n":3}\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("standard input line 2");
    expect(existsSync(db)).toBe(false);
  });

  it("a database path in a missing folder is bad input and creates nothing", async () => {
    const base = tempDir();
    const db = join(base, "missing-folder", "o.db");
    const r = await overseer(["--database", db, "enqueue", "t"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^overseer: INVALID_ARGUMENT: the folder of database ".*" does not exist; create it first/,
    );
    expect(existsSync(join(base, "missing-folder"))).toBe(false);
  });

  it("a directory as the database path is refused", async () => {
    const base = tempDir();
    const r = await overseer(["--database", base, "jobs", "list"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("DATABASE_UNAVAILABLE");
  });

  it("an unknown command or option is refused with usage", async () => {
    tempDir();
    const r = await overseer(["jobs", "frobnicate"]);
    expect(r.code).toBe(2);
    const o = await overseer(["enqueue", "t", "--bogus"]);
    expect(o.code).toBe(2);
    expect(o.stderr).toContain("unknown option '--bogus'");
  });

  it("a worker with no tasks to run is told to pass --tasks", async () => {
    const base = tempDir();
    const r = await overseer(["--database", join(base, "o.db"), "worker"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "overseer: INVALID_ARGUMENT: no tasks to run: pass --tasks DIR (a folder of task modules), or --runs with a --config with run profiles, or a --config with commands\n",
    );
    expect(existsSync(join(base, "o.db"))).toBe(false);
  });

  it("a tasks folder with a module that exports no handler is refused", async () => {
    const base = tempDir();
    mkdirSync(join(base, "tasks"));
    writeFileSync(join(base, "tasks", "broken.mjs"), "export const x = 1;\n");
    const r = await overseer(["--database", join(base, "o.db"), "worker", "--tasks", join(base, "tasks")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('TASKS_DIR_INVALID: task module "broken.mjs" must default-export a handler function');
  });
});

describe("worker, queues, events and prune", () => {
  it("a worker runs a tasks folder, mirrors events to NDJSON and drains on SIGTERM", async () => {
    const base = tempDir();
    const db = join(base, "o.db");
    mkdirSync(join(base, "tasks"));
    writeFileSync(
      join(base, "tasks", "double.mjs"),
      "export default async (payload, ctx) => { await ctx.log('doubling'); return payload.n * 2; };\n",
    );
    await overseer(["--database", db, "enqueue", "double", "--ndjson"], { input: '{"n":1}\n{"n":2}\n{"n":3}\n' });
    const ndjson = join(base, "events.ndjson");
    const worker = spawn(
      process.execPath,
      [
        BIN,
        "--database",
        db,
        "worker",
        "--tasks",
        join(base, "tasks"),
        "--events-ndjson",
        ndjson,
        "--log-level",
        "silent",
      ],
      { cwd: base, stdio: ["ignore", "pipe", "pipe"] },
    );
    cli.track(worker);
    let out = "";
    worker.stdout?.on("data", (d) => (out += d));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const jobs = await jobsIn(db);
      if (jobs.every((j) => j.state === "succeeded")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const done = await jobsIn(db);
    expect(done.map((j) => j.state)).toEqual(["succeeded", "succeeded", "succeeded"]);
    const exited = new Promise<number | null>((r) => worker.on("close", r));
    worker.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(out).toContain("stopped cleanly");

    const lines = readFileSync(ndjson, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const seqs = lines.map((e: { seq: number }) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    const kinds = lines.map((e: { kind: string }) => e.kind);
    expect(kinds.filter((k: string) => k === "job.succeeded")).toHaveLength(3);
    expect(kinds.filter((k: string) => k === "job.log")).toHaveLength(3);
    expect(kinds.at(-1)).toBe("worker.stopped");

    const workers = JSON.parse((await overseer(["--database", db, "workers", "--json"])).stdout);
    expect(workers[0]).toMatchObject({ status: "stopped" });
    // Every worker runs the built-in re-queue task, so a schedule can run it (docs/alerts.md), and
    // the approval task agents ask through (docs/mcp.md).
    expect([...workers[0].tasks].sort()).toEqual(["double", "overseer.approval", "overseer.requeue-dead"]);
  });

  it("pauses and resumes a queue", async () => {
    const db = join(tempDir(), "o.db");
    await overseer(["--database", db, "enqueue", "t", "--queue", "calls"]);
    const paused = JSON.parse((await overseer(["--database", db, "queues", "pause", "calls", "--json"])).stdout);
    expect(paused).toMatchObject({ name: "calls", paused: true, counts: { queued: 1 } });
    const list = JSON.parse((await overseer(["--database", db, "queues", "list", "--json"])).stdout);
    expect(list).toEqual([expect.objectContaining({ name: "calls", paused: true })]);
    const resumed = JSON.parse((await overseer(["--database", db, "queues", "resume", "calls", "--json"])).stdout);
    expect(resumed.paused).toBe(false);
  });

  it("shows a queue's circuit breaker and resets it", async () => {
    const db = join(tempDir(), "o.db");
    await overseer(["--database", db, "enqueue", "t", "--queue", "calls"]);
    const sdk = await createOverseer({ database: db });
    await sdk.store.tripBreaker("calls", { attempts: 10, failures: 8, windowMs: 60_000, divertTo: "sms" }, 60_000);
    await sdk.close();
    const table = await overseer(["--database", db, "queues", "list"]);
    expect(table.stdout).toMatch(/^QUEUE +PAUSED +BREAKER +SCHEDULED/);
    expect(table.stdout).toMatch(/\ncalls +no +open until \S+Z → sms +0 +1 /);
    const reset = await overseer(["--database", db, "queues", "reset-breaker", "calls"]);
    expect(reset).toMatchObject({ code: 0, stdout: "queue calls: circuit breaker closed\n" });
    const list = JSON.parse((await overseer(["--database", db, "queues", "list", "--json"])).stdout);
    expect(list).toEqual([expect.objectContaining({ name: "calls", breaker: null })]);
    const again = await overseer(["--database", db, "queues", "reset-breaker", "calls"]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toBe("overseer: BREAKER_NOT_OPEN: queue calls's circuit breaker is closed\n");
    const events = JSON.parse((await overseer(["--database", db, "--json", "events"])).stdout);
    expect(events.find((e: { kind: string }) => e.kind === "queue.breaker_closed").data).toMatchObject({
      queue: "calls",
      reason: "reset",
    });
  });

  it("prints events as NDJSON and follows new ones", async () => {
    const db = join(tempDir(), "o.db");
    await overseer(["--database", db, "enqueue", "t"]);
    const r = await overseer(["--database", db, "events", "--ndjson"]);
    expect(
      r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).kind),
    ).toEqual(["job.enqueued"]);

    const follower = spawn(
      process.execPath,
      [BIN, "--database", db, "events", "--follow", "--since", "1", "--ndjson"],
      {
        cwd: cli.dir,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    cli.track(follower);
    let out = "";
    follower.stdout?.on("data", (d) => (out += d));
    await new Promise((r) => setTimeout(r, 300));
    await overseer(["--database", db, "enqueue", "later"]);
    const deadline = Date.now() + 10_000;
    while (!out.includes('"job.enqueued"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(JSON.parse(out.trim().split("\n")[0] as string)).toMatchObject({ seq: 2, kind: "job.enqueued" });
    const exited = new Promise<number | null>((r) => follower.on("close", r));
    follower.kill("SIGINT");
    expect(await exited).toBe(0);
  });

  it("prunes finished jobs, runs and closed alerts into an NDJSON archive, and a dry run deletes nothing", async () => {
    const base = tempDir();
    const db = join(base, "o.db");
    const job = JSON.parse((await overseer(["--database", db, "enqueue", "t", "--json"])).stdout);
    await overseer(["--database", db, "jobs", "cancel", job.id]);
    // A cancelled run and a closed alert to prune, and a queued run and an open alert that stay.
    const sdk = await createOverseer({ database: db });
    const runSpec = { id: newId(), profile: null, params: {}, createdBy: null, spec: RUN_SPEC };
    const run = await sdk.store.createRun(runSpec);
    await sdk.store.controlRun(run.id, { action: "cancel" });
    const queuedRun = await sdk.store.createRun({ ...runSpec, id: newId() });
    const closed = (await sdk.raiseAlert({ summary: "disk full", dedupKey: "disk" })).alert;
    await sdk.store.closeAlert(closed.id, "ana");
    const open = (await sdk.raiseAlert({ summary: "disk full again", dedupKey: "disk" })).alert;
    await sdk.close();

    const dry = JSON.parse(
      (
        await overseer([
          ...["--database", db, "prune", "--cancelled", "0s", "--max-runs", "0", "--alerts", "0s"],
          ...["--dry-run", "--json"],
        ])
      ).stdout,
    );
    expect(dry).toMatchObject({ dryRun: true, jobs: { cancelled: 1 }, runs: 1, alerts: 1 });
    expect(await jobsIn(db)).toHaveLength(1);
    const untouched = await overseer(["--database", db, "prune", "--dry-run"]);
    expect(untouched.stdout).toBe(
      "would delete 0 succeeded, 0 dead, 0 cancelled job(s), 0 finished run(s), 0 closed alert(s), 0 lesson(s) and 0 event(s)\n",
    );
    const bad = await overseer(["--database", db, "prune", "--max-alerts", "lots"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("--max-alerts");

    const archive = join(base, "archive.ndjson");
    const real = await overseer([
      ...["--database", db, "prune", "--cancelled", "0s", "--runs", "0s", "--max-alerts", "0"],
      ...["--archive", archive],
    ]);
    expect(real.stdout).toBe(
      `deleted 0 succeeded, 0 dead, 1 cancelled job(s), 1 finished run(s), 1 closed alert(s), 0 lesson(s) and 0 event(s); archived to ${archive}\n`,
    );
    expect(await jobsIn(db)).toHaveLength(0);
    const lines = readFileSync(archive, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toMatchObject([
      { type: "job", job: { id: job.id, state: "cancelled" } },
      { type: "run", run: { id: run.id, state: "cancelled" }, turns: [] },
      { type: "alert", alert: { id: closed.id, status: "closed" }, notifications: [] },
    ]);
    const after = await createOverseer({ database: db });
    try {
      expect(await after.store.getRun(run.id)).toBeNull();
      expect((await after.store.getRun(queuedRun.id))?.state).toBe("queued");
      expect(await after.store.getAlert(closed.id)).toBeNull();
      expect((await after.store.getAlert(open.id))?.status).toBe("triggered");
    } finally {
      await after.close();
    }
  });
});
