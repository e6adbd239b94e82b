/**
 * `overseer enqueue|jobs|queues|workers|concurrency|events` with `--url` and `--token`, through the built binary
 * against a real server on loopback: the same output and exit codes as on the database itself,
 * server errors as one `CODE: message` line, and `events --follow` over the SSE stream.
 */
import { join, resolve } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { createToken } from "../auth/tokens.js";
import { parseConfig } from "../config/config.js";
import { startHttpServer } from "../http/server.js";
import type { Overseer } from "../sdk/overseer.js";
import { cliSandbox, type RunOptions } from "../test-support/cli.js";
import { tempDatabase } from "../test-support/temp-database.js";
import { waitFor } from "../test-support/wait.js";

const cli = cliSandbox("overseer-remote-cli-");
const FIXTURES = resolve(import.meta.dirname, "../engine/runs/fixtures");

/** A run profile, `agent`, whose pretend agent completes at turn 2. */
function agentProfile(baseDir: string) {
  const agent = {
    command: process.execPath,
    args: [join(FIXTURES, "agent.mjs"), "2", ".stop"],
    completion: { stopFile: ".stop" },
  };
  return parseConfig({ runs: { profiles: { agent } } }, "test", baseDir).runs;
}

async function setup(options: { runs?: boolean } = {}) {
  const db = tempDatabase("overseer-remote-");
  const overseer = await db.open(options.runs ? { runs: agentProfile(db.dir) } : {});
  const admin = (await createToken(overseer.store, "cli-admin", "admin")).secret;
  const viewer = (await createToken(overseer.store, "cli-viewer", "viewer")).secret;
  const server = await startHttpServer({ overseer, port: 0 });
  onTestFinished(() => server.close());
  const local = (args: string[]) => cli.run(["--database", db.path, ...args]);
  const remote = (args: string[], token = admin, options: RunOptions = {}) =>
    cli.run(["--url", server.url, "--token", token, ...args], options);
  return { overseer, server, admin, viewer, local, remote, db };
}

/** A worker in another process registering these tasks on the server's database. */
async function registerWorker(overseer: Overseer, tasks: string[]): Promise<void> {
  await overseer.store.registerWorker({ id: "w-1", name: "w", host: "h", pid: 1, queues: null, tasks, concurrency: 1 });
}

describe("the CLI over HTTP (--url)", () => {
  it("shows, quiets, resumes and stops a worker as the database does; refusals are the same line", async () => {
    const s = await setup();
    await registerWorker(s.overseer, ["t"]);
    await s.overseer.store.registerWorker({
      id: "w-2",
      name: "w2",
      host: "h",
      pid: 2,
      queues: null,
      tasks: ["t"],
      concurrency: 4,
    });
    for (const args of [
      ["workers", "show", "w-1"],
      ["--json", "workers", "show", "w-1"],
      ["workers", "list"],
    ]) {
      const [local, remote] = await Promise.all([s.local(args), s.remote(args, s.viewer)]);
      expect(remote, args.join(" ")).toEqual(local);
      expect(remote.code, args.join(" ")).toBe(0);
    }
    // A viewer may read, not steer.
    const refused = await s.remote(["workers", "quiet", "w-1"], s.viewer);
    expect([refused.code, refused.stderr]).toEqual([2, expect.stringContaining("FORBIDDEN")]);
    const quiet = await s.remote(["workers", "quiet", "w-1"]);
    expect(quiet).toMatchObject({ code: 0, stdout: "worker w-1 (w) asked to go quiet; status active\n" });
    expect(JSON.parse((await s.local(["--json", "workers", "show", "w-1"])).stdout)).toMatchObject({
      command: "quiet",
    });
    expect((await s.local(["workers", "list"])).stdout).toContain("active (quiet asked)");
    expect((await s.local(["workers", "resume", "w-1"])).code).toBe(0);
    const [localStop, remoteStop] = await Promise.all([
      s.local(["--json", "workers", "stop", "w-1"]),
      s.remote(["--json", "workers", "stop", "w-2"]),
    ]);
    expect(JSON.parse(localStop.stdout)).toMatchObject({ id: "w-1", command: "stop" });
    expect(JSON.parse(remoteStop.stdout)).toMatchObject({ id: "w-2", command: "stop" });
    // Quiet after a stop, and an unknown worker: the same refusal from both ends.
    for (const args of [
      ["workers", "quiet", "w-1"],
      ["workers", "show", "nope"],
    ]) {
      const [local, remote] = await Promise.all([s.local(args), s.remote(args)]);
      expect(remote, args.join(" ")).toEqual(local);
      expect(remote.code, args.join(" ")).toBe(1);
    }
    expect((await s.local(["workers", "quiet", "w-1"])).stderr).toContain("WORKER_INVALID_TRANSITION");
    expect((await s.local(["workers", "show", "nope"])).stderr).toBe(
      'overseer: WORKER_NOT_FOUND: no worker has id "nope"\n',
    );
  });

  it("prints what the local mode prints for reads", async () => {
    const s = await setup();
    s.overseer.defineTask("t", async () => ({ ok: true }));
    const done = await s.overseer.enqueue("t", { n: 1 }, { queue: "mail" });
    const worker = s.overseer.worker();
    await worker.start();
    await waitFor("the job to finish", async () => (await s.overseer.getJob(done.id))?.state === "succeeded");
    await worker.stop();
    for (let i = 0; i < 3; i++) await s.overseer.enqueue("other", { i }, { priority: i });
    for (const key of ["acct-1", "acct-2", "acct-2"])
      await s.overseer.enqueue("call", {}, { concurrency: { key, limit: 2 } });
    await s.overseer.pauseQueue("mail");
    await s.overseer.store.tripBreaker("mail", { attempts: 4, failures: 4, windowMs: 60_000, divertTo: "t" }, 60_000);
    const reads = [
      ["jobs", "list"],
      ["--json", "jobs", "list", "--state", "queued", "--limit", "2"],
      ["jobs", "show", done.id],
      ["--json", "jobs", "show", done.id],
      ["queues", "list"],
      ["--json", "queues", "list"],
      ["workers"],
      ["--json", "workers"],
      ["concurrency"],
      ["--json", "concurrency", "--busiest", "--limit", "1"],
      ["events", "--limit", "5"],
      ["events", "--since", "3", "--limit", "4", "--ndjson"],
      ["--json", "events", "--job", done.id, "--since", "0"],
    ];
    for (const args of reads) {
      const [local, remote] = await Promise.all([s.local(args), s.remote(args)]);
      expect(remote, args.join(" ")).toEqual(local);
      expect(remote.code, args.join(" ")).toBe(0);
    }
    expect((await s.local(["concurrency", "--busiest", "--limit", "1"])).stdout.split("\n")).toEqual([
      expect.stringMatching(/^KEY +RUNNING +LIMIT +WAITING$/),
      expect.stringMatching(/^acct-2 +0 +2 +2$/),
      "1 of 2 keys shown; 0 queued jobs held back by a full key",
      "",
    ]);
  });

  it("operates like the local mode, and prints server errors as one line with the same exit code", async () => {
    const s = await setup();
    const a = await s.overseer.enqueue("t");
    const b = await s.overseer.enqueue("t");
    const cancelled = await s.remote(["jobs", "cancel", a.id]);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toMatch(new RegExp(`^${a.id} t \\[cancelled\\]`));
    expect((await s.remote(["jobs", "retry", a.id])).stdout).toMatch(/\[queued\]/);
    expect(await s.remote(["queues", "pause", "default"])).toMatchObject({ code: 0, stdout: "queue default paused\n" });
    expect(await s.remote(["--json", "queues", "resume", "default"])).toMatchObject({ code: 0 });
    await s.overseer.store.tripBreaker(
      "default",
      { attempts: 4, failures: 4, windowMs: 60_000, divertTo: null },
      60_000,
    );
    expect(await s.remote(["queues", "reset-breaker", "default"])).toMatchObject({
      code: 0,
      stdout: "queue default: circuit breaker closed\n",
    });
    await s.overseer.cancel(b.id);
    expect(await s.remote(["jobs", "discard", b.id])).toMatchObject({ code: 0, stdout: `discarded ${b.id}\n` });

    // The same error, line and exit code as locally.
    for (const args of [
      ["jobs", "show", "01NOSUCHJOB000000000000000"],
      ["jobs", "retry", a.id],
      ["queues", "reset-breaker", "default"],
    ]) {
      const [local, remote] = await Promise.all([s.local(args), s.remote(args)]);
      expect(remote, args.join(" ")).toEqual(local);
      expect(remote.code).not.toBe(0);
      expect(remote.stderr).toMatch(/^overseer: [A-Z_]+: .+\n$/);
    }
    const forbidden = await s.remote(["jobs", "cancel", a.id], s.viewer);
    expect(forbidden).toMatchObject({ code: 2, stdout: "" });
    expect(forbidden.stderr).toMatch(
      /^overseer: FORBIDDEN: token "cli-viewer" has scope viewer; this needs operator\n$/,
    );
    const badToken = await s.remote(["jobs", "list"], "ovs_wrong");
    expect(badToken.code).toBe(2);
    expect(badToken.stderr).toMatch(/^overseer: UNAUTHENTICATED: /);
    expect(badToken.stderr).not.toContain("ovs_wrong");
    const unreachable = await cli.run(["--url", "http://127.0.0.1:1", "--token", s.admin, "queues", "list"]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^overseer: SERVER_UNREACHABLE: cannot reach http:\/\/127\.0\.0\.1:1: /);
    const badUrl = await cli.run(["--url", "ftp://x", "jobs", "list"]);
    expect(badUrl).toMatchObject({ code: 2 });
    expect(badUrl.stderr).toMatch(/^overseer: INVALID_ARGUMENT: --url must start with http/);
  });

  it("lists jobs by payload fields, locally and over HTTP alike; a bad --payload is refused before any request", async () => {
    const s = await setup();
    const a = await s.overseer.enqueue("call", { phone: "+15550100", customer: { id: 42 } });
    await s.overseer.enqueue("call", { phone: "+15550101", customer: { id: 42 } });
    const c = await s.overseer.enqueue("call", { phone: "+15550100", customer: { id: 7 } });
    for (const run of [s.local, s.remote]) {
      const ids = async (...flags: string[]) =>
        JSON.parse((await run(["--json", "jobs", "list", ...flags])).stdout).map((j: { id: string }) => j.id);
      expect(await ids("--payload", "phone=+15550100")).toEqual([c.id, a.id]);
      expect(await ids("--payload", "phone=+15550100", "--payload", "customer.id=42")).toEqual([a.id]);
    }
    for (const flag of ["phone", "=x", "a..b=x", "a b=x"]) {
      const r = await s.remote(["jobs", "list", "--payload", flag]);
      expect(r, flag).toMatchObject({ code: 2, stdout: "" });
      expect(r.stderr, flag).toMatch(/^overseer: INVALID_ARGUMENT: .*payload/);
    }
  });

  it("reads OVERSEER_URL and OVERSEER_TOKEN, and follows events over SSE", async () => {
    const s = await setup();
    await s.overseer.enqueue("t", {}, { queue: "before" });
    const env = { OVERSEER_URL: `${s.server.url}/api/v1`, OVERSEER_TOKEN: s.viewer };
    expect(await cli.run(["--json", "queues", "list"], { env })).toMatchObject({ code: 0 });
    const child = cli.start(["events", "--follow", "--ndjson", "--limit", "1"], { env });
    let out = "";
    child.stdout?.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    await waitFor("the latest event", () => out.includes('"job.enqueued"'), { timeoutMs: 15_000 });
    const job = await s.overseer.enqueue("t", {}, { queue: "after" });
    await waitFor("the live event", () => out.includes(job.id), { timeoutMs: 15_000 });
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const seqs = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it("enqueues through the server as the local mode does, idempotency key and --ndjson included", async () => {
    const s = await setup();
    await registerWorker(s.overseer, ["send-sms", "t", "report"]);
    const one = await s.remote([
      "enqueue",
      "send-sms",
      "--payload",
      '{"to":"+1"}',
      "--priority",
      "high",
      "--queue",
      "sms",
    ]);
    expect(one).toMatchObject({ code: 0, stderr: "" });
    const [, id] = one.stdout.match(/^enqueued (\S+) send-sms \[queued\] queue=sms priority=-?\d+ runAt=\S+\n$/) ?? [];
    expect(id).toBeDefined();
    expect(await s.overseer.getJob(id as string)).toMatchObject({ task: "send-sms", payload: { to: "+1" } });

    // --json: the job, field for field (and in order) as the local mode prints it.
    const created = await s.remote([
      "--json",
      "enqueue",
      "t",
      "--key",
      "k1",
      "--delay",
      "1h",
      "--max-attempts",
      "3",
      "--backoff",
      "1m,5m",
    ]);
    expect(created).toMatchObject({ code: 0, stderr: "" });
    const job = JSON.parse(created.stdout);
    expect(job).toMatchObject({ task: "t", state: "scheduled", maxAttempts: 3, idempotencyKey: "k1" });
    expect(job.backoff).toEqual({ type: "schedule", delaysMs: [60_000, 300_000], jitter: 0 });
    const local = JSON.parse((await s.local(["--json", "enqueue", "t", "--key", "k-local"])).stdout);
    expect(Object.keys(job)).toEqual(Object.keys(local));
    expect(created.stdout).toBe(`${JSON.stringify(await s.overseer.getJob(job.id), null, 2)}\n`);

    // The same key again finds the job, and says so as the local mode does.
    const again = await s.remote(["enqueue", "t", "--key", "k1"]);
    expect(again).toMatchObject({ code: 0, stderr: "" });
    expect(again.stdout).toMatch(new RegExp(`^exists \\(idempotency key\\) ${job.id} t \\[scheduled\\]`));
    expect(again.stdout).toBe((await s.local(["enqueue", "t", "--key", "k1"])).stdout);
    expect(JSON.parse((await s.remote(["--json", "enqueue", "t", "--key", "k1"])).stdout).id).toBe(job.id);

    // --ndjson: one request, one transaction.
    const many = await s.remote(["--json", "enqueue", "report", "--ndjson", "--queue", "reports"], s.admin, {
      input: '{"n":1}\n\n{"n":2}\n{"n":3}\n',
    });
    expect(many).toMatchObject({ code: 0, stderr: "" });
    const jobs = JSON.parse(many.stdout) as Array<{ id: string; payload: unknown; queue: string }>;
    expect(jobs.map((j) => j.payload)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(new Set(jobs.map((j) => j.queue))).toEqual(new Set(["reports"]));
    const text = await s.remote(["enqueue", "report", "--ndjson"], s.admin, { input: '{"n":4}\n{"n":5}\n' });
    expect(text.stdout).toMatch(/^enqueued 2 job\(s\): \S+ \.\. \S+\n$/);
    expect(await s.remote(["enqueue", "report", "--ndjson"], s.admin)).toMatchObject({
      code: 0,
      stdout: "enqueued 0 job(s)\n",
    });
    expect((await s.overseer.listJobs({ limit: 100 })).length).toBe(8);
  });

  it("prints the server's TASK_NOT_REGISTERED warning on stderr, as the local mode does, and exits 0", async () => {
    const s = await setup();
    await registerWorker(s.overseer, ["send-email", "report"]);
    const args = ["enqueue", "sned-email", "--payload", '{"to":"a@example.com"}'];
    const remote = await s.remote(args);
    expect(remote.code).toBe(0);
    expect(remote.stdout).toMatch(/^enqueued \S+ sned-email \[queued\]/);
    expect(remote.stderr).toBe(
      "warning TASK_NOT_REGISTERED: no worker has registered task 'sned-email'; known tasks: send-email, report\n",
    );
    expect((await s.local(args)).stderr).toBe(remote.stderr);

    // --json: the job as the local mode prints it, without the fields the API adds.
    const json = await s.remote(["--json", ...args]);
    expect(json.stderr).toBe(remote.stderr);
    const job = JSON.parse(json.stdout);
    expect(json.stdout).toBe(`${JSON.stringify(await s.overseer.getJob(job.id), null, 2)}\n`);

    const bulk = await s.remote(["enqueue", "reprot", "--ndjson"], s.admin, { input: '{"n":1}\n{"n":2}\n' });
    expect(bulk).toMatchObject({ code: 0, stdout: expect.stringMatching(/^enqueued 2 job\(s\)/) });
    expect(bulk.stderr).toBe(
      "warning TASK_NOT_REGISTERED: no worker has registered task 'reprot'; known tasks: report, send-email\n",
    );
    expect(await s.remote(["enqueue", "send-email"])).toMatchObject({ code: 0, stderr: "" });
  });

  it("refuses bad enqueue input before any request, and prints the server's refusal as one line", async () => {
    const s = await setup();
    // Nothing listens on port 1: a command that reached the network would say SERVER_UNREACHABLE.
    const nowhere = (args: string[], input?: string) =>
      cli.run(["--url", "http://127.0.0.1:1", "--token", s.admin, ...args], { input });
    for (const [args, code, input] of [
      [["enqueue", "t", "--payload", "{oops"], "INVALID_PAYLOAD"],
      [["enqueue", "no spaces allowed"], "INVALID_TASK_NAME"],
      [["enqueue", "t", "--delay", "-5s"], "INVALID_ARGUMENT"],
      [["enqueue", "t", "--priority", "urgent"], "INVALID_ARGUMENT"],
      [["enqueue", "t", "--max-attempts", "0"], "INVALID_ARGUMENT"],
      [["enqueue", "t", "--backoff", "1m,,5m"], "INVALID_ARGUMENT"],
      [["enqueue", "t", "--backoff", "fixed"], "INVALID_ARGUMENT"],
      [["enqueue", "t", "--backoff", "exponential:1s:1h:2h"], "INVALID_ARGUMENT"],
      [["enqueue", "t", "--ndjson", "--key", "k"], "INVALID_ARGUMENT", '{"n":1}\n'],
      [["enqueue", "t", "--ndjson"], "INVALID_PAYLOAD", '{"n":1}\nnot json\n'],
      [["enqueue", "t", "--ndjson"], "INVALID_ARGUMENT", '{"n":1}\n'.repeat(1_001)],
    ] as Array<[string[], string, string?]>) {
      const r = await nowhere(args, input);
      expect(r, args.join(" ")).toMatchObject({ code: 2, stdout: "" });
      expect(r.stderr, args.join(" ")).toMatch(new RegExp(`^overseer: ${code}: .+\\n$`));
    }
    const tooMany = await nowhere(["enqueue", "t", "--ndjson"], '{"n":1}\n'.repeat(1_001));
    expect(tooMany.stderr).toMatch(/at most 1000 jobs .*standard input has 1001/);
    // The same line as the local mode gives.
    const bad = ["enqueue", "t", "--payload", "{oops"];
    expect((await nowhere(bad)).stderr).toBe((await s.local(bad)).stderr);

    const forbidden = await s.remote(["enqueue", "t"], s.viewer);
    expect(forbidden).toMatchObject({ code: 2, stdout: "" });
    expect(forbidden.stderr).toBe('overseer: FORBIDDEN: token "cli-viewer" has scope viewer; this needs operator\n');
    const forbiddenBatch = await s.remote(["enqueue", "t", "--ndjson"], s.viewer, { input: '{"n":1}\n' });
    expect(forbiddenBatch).toMatchObject({ code: 2, stdout: "" });
    expect(forbiddenBatch.stderr).toMatch(/^overseer: FORBIDDEN: /);
    expect(await s.overseer.listJobs({ limit: 10 })).toEqual([]);
  });

  it("prints and follows one run's events with --run, as the local mode does", async () => {
    const s = await setup({ runs: true });
    await s.overseer.enqueue("t");
    const run = await s.overseer.startRun({ profile: "agent" });
    const other = await s.overseer.startRun({ profile: "agent" });
    const follow = ["events", "--run", run.id, "--since", "0", "--follow", "--ndjson"];
    const localChild = cli.start(["--database", s.db.path, ...follow]);
    const remoteChild = cli.start(["--url", s.server.url, "--token", s.viewer, ...follow]);
    const outputs = [localChild, remoteChild].map((child) => {
      const o = { out: "", exited: new Promise<number | null>((r) => child.on("close", r)) };
      child.stdout?.on("data", (d) => (o.out += d));
      return o;
    });
    const [localOut, remoteOut] = outputs as [(typeof outputs)[0], (typeof outputs)[0]];
    for (const o of outputs) await waitFor("run.queued", () => o.out.includes('"run.queued"'), { timeoutMs: 15_000 });
    s.overseer.runSupervisor({ pollMs: 100 }).start();
    // Through the server the stream ends with the run; locally it keeps waiting until interrupted.
    expect(await remoteOut.exited).toBe(0);
    await waitFor("run.completed", () => localOut.out.includes('"run.completed"'), { timeoutMs: 15_000 });
    await waitFor("the other run", async () => (await s.overseer.getRun(other.id))?.state === "completed", {
      timeoutMs: 15_000,
    });
    localChild.kill("SIGTERM");
    expect(await localOut.exited).toBe(0);
    const parse = (out: string) =>
      out
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { seq: number; kind: string; runId: string | null });
    const [local, remote] = [parse(localOut.out), parse(remoteOut.out)];
    expect(remote).toEqual(local);
    expect(new Set(remote.map((e) => e.runId))).toEqual(new Set([run.id]));
    expect(remote[0]?.kind).toBe("run.queued");
    expect(remote.at(-1)?.kind).toBe("run.completed");

    for (const args of [
      ["--json", "events", "--run", run.id, "--since", "0", "--limit", "1000"],
      ["events", "--run", run.id, "--limit", "3"],
      ["events", "--run", other.id, "--ndjson", "--limit", "1000"],
    ]) {
      const [l, r] = await Promise.all([s.local(args), s.remote(args, s.viewer)]);
      expect(r, args.join(" ")).toEqual(l);
      expect(r.code, args.join(" ")).toBe(0);
    }
    // A run that never existed is RUN_NOT_FOUND, from the database as from the server.
    const unknownArgs = ["events", "--run", "01NOSUCHRUN000000000000000"];
    const [localUnknown, remoteUnknown] = await Promise.all([s.local(unknownArgs), s.remote(unknownArgs, s.viewer)]);
    expect(remoteUnknown).toEqual(localUnknown);
    expect(remoteUnknown).toMatchObject({ code: 1, stdout: "" });
    expect(remoteUnknown.stderr).toBe('overseer: RUN_NOT_FOUND: no run with id "01NOSUCHRUN000000000000000"\n');
    const json = JSON.parse((await s.remote(["--json", "events", "--run", run.id, "--since", "0"])).stdout);
    expect(json.map((e: { seq: number }) => e.seq)).toEqual(local.map((e) => e.seq));
    const both = ["events", "--run", run.id, "--job", "01NOSUCHJOB000000000000000"];
    const [l, r] = await Promise.all([s.local(both), s.remote(both)]);
    expect(r).toEqual(l);
    expect(r).toMatchObject({ code: 2, stdout: "" });
    expect(r.stderr).toBe("overseer: INVALID_ARGUMENT: --job and --run cannot be combined; give one of them\n");
  });
});
