/**
 * `overseer jobs|queues|workers|events` with `--url` and `--token`, through the built binary
 * against a real server on loopback: the same output and exit codes as on the database itself,
 * server errors as one `CODE: message` line, and `events --follow` over the SSE stream.
 */
import { describe, expect, it, onTestFinished } from "vitest";
import { createToken } from "../auth/tokens.js";
import { startHttpServer } from "../http/server.js";
import { cliSandbox } from "../test-support/cli.js";
import { tempDatabase } from "../test-support/temp-database.js";
import { waitFor } from "../test-support/wait.js";

const cli = cliSandbox("overseer-remote-cli-");

async function setup() {
  const db = tempDatabase("overseer-remote-");
  const overseer = await db.open();
  const admin = (await createToken(overseer.store, "cli-admin", "admin")).secret;
  const viewer = (await createToken(overseer.store, "cli-viewer", "viewer")).secret;
  const server = await startHttpServer({ overseer, port: 0 });
  onTestFinished(() => server.close());
  const local = (args: string[]) => cli.run(["--database", db.path, ...args]);
  const remote = (args: string[], token = admin) => cli.run(["--url", server.url, "--token", token, ...args]);
  return { overseer, server, admin, viewer, local, remote, db };
}

describe("the CLI over HTTP (--url)", () => {
  it("prints what the local mode prints for reads", async () => {
    const s = await setup();
    s.overseer.defineTask("t", async () => ({ ok: true }));
    const done = await s.overseer.enqueue("t", { n: 1 }, { queue: "mail" });
    const worker = s.overseer.worker();
    await worker.start();
    await waitFor("the job to finish", async () => (await s.overseer.getJob(done.id))?.state === "succeeded");
    await worker.stop();
    for (let i = 0; i < 3; i++) await s.overseer.enqueue("other", { i }, { priority: i });
    await s.overseer.pauseQueue("mail");
    const reads = [
      ["jobs", "list"],
      ["--json", "jobs", "list", "--state", "queued", "--limit", "2"],
      ["jobs", "show", done.id],
      ["--json", "jobs", "show", done.id],
      ["queues", "list"],
      ["--json", "queues", "list"],
      ["workers"],
      ["--json", "workers"],
      ["events", "--limit", "5"],
      ["events", "--since", "3", "--limit", "4", "--ndjson"],
      ["--json", "events", "--job", done.id, "--since", "0"],
    ];
    for (const args of reads) {
      const [local, remote] = await Promise.all([s.local(args), s.remote(args)]);
      expect(remote, args.join(" ")).toEqual(local);
      expect(remote.code, args.join(" ")).toBe(0);
    }
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
    await s.overseer.cancel(b.id);
    expect(await s.remote(["jobs", "discard", b.id])).toMatchObject({ code: 0, stdout: `discarded ${b.id}\n` });

    // The same error, line and exit code as locally.
    for (const args of [
      ["jobs", "show", "01NOSUCHJOB000000000000000"],
      ["jobs", "retry", a.id],
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
});
