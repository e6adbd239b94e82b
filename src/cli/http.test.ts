/**
 * `overseer tokens` and the HTTP API of `overseer start`, through the built binary: tokens are
 * printed once and never listed, `start` serves the API and makes a first admin token on a new
 * database, OVERSEER_ADMIN_TOKEN is honoured, `worker` serves nothing, and no token reaches
 * the process's log output.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateSecret } from "../auth/tokens.js";
import { cliSandbox, type WatchedProcess, watchProcess } from "../test-support/cli.js";
import { waitFor } from "../test-support/wait.js";

const cli = cliSandbox("overseer-http-cli-");

function tasksDir(base: string): string {
  const dir = join(base, "tasks");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "noop.mjs"), "export default async () => 'ok';\n");
  return dir;
}

/** Starts `overseer start` on port 0 and waits for the URL it prints. */
async function startServer(db: string, base: string, env: Record<string, string> = {}, extra: string[] = []) {
  const args = ["--database", db, "--log-level", "trace", "start", "--tasks", tasksDir(base), "--port", "0"];
  const node = watchProcess(cli.start([...args, "--no-summary", "--no-retention", ...extra], { env }));
  const match = await waitFor(
    "the HTTP API's URL",
    () =>
      /HTTP API on (http:\/\/127\.0\.0\.1:\d+)\/api\/v1/.exec(node.stdout()) ??
      (node.child.exitCode !== null ? fail(node) : null),
    { timeoutMs: 15_000 },
  );
  await waitFor("the node to be ready", () => node.stdout().includes("Ctrl-C to stop"), { timeoutMs: 15_000 });
  return { node, url: match[1] as string };
}

function fail(node: WatchedProcess): never {
  throw new Error(`overseer start exited early:\n${node.stdout()}\n${node.stderr()}`);
}

describe("overseer tokens", () => {
  it("create prints the secret once; list shows names and scopes but no secret; revoke stops it", async () => {
    const db = join(cli.tempDir(), "o.db");
    const made = await cli.run(["--database", db, "tokens", "create", "--scope", "operator", "--name", "ci"]);
    expect(made.code).toBe(0);
    const secret = made.stdout.trim();
    expect(secret).toMatch(/^ovs_[A-Za-z0-9_-]{43}$/);
    expect(made.stderr).toContain('token "ci" (scope operator) created; it is shown only this once');
    expect(made.stderr).not.toContain(secret);

    const json = await cli.run(["--database", db, "--json", "tokens", "create", "--scope", "viewer", "--name", "dash"]);
    const created = JSON.parse(json.stdout);
    expect(created).toMatchObject({ name: "dash", scope: "viewer", revokedAt: null });
    expect(created.token).toMatch(/^ovs_/);
    expect(created).not.toHaveProperty("hash");

    const list = await cli.run(["--database", db, "tokens", "list"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+SCOPE\s+CREATED\s+REVOKED\n/);
    expect(list.stdout).toMatch(/\nci\s+operator\s+\S+\s+-\n/);
    expect(list.stdout).not.toContain(secret);
    const listed = JSON.parse((await cli.run(["--database", db, "--json", "tokens", "list"])).stdout);
    expect(listed.map((t: { name: string }) => t.name)).toEqual(["ci", "dash"]);
    expect(JSON.stringify(listed)).not.toContain(created.token);
    expect(listed[0]).not.toHaveProperty("hash");

    const revoked = await cli.run(["--database", db, "tokens", "revoke", "ci"]);
    expect(revoked).toMatchObject({ code: 0, stdout: "token ci revoked\n" });
    const again = await cli.run(["--database", db, "tokens", "revoke", "ci"]);
    expect(again).toMatchObject({ code: 1, stderr: 'overseer: TOKEN_NOT_FOUND: no active token named "ci"\n' });
  });

  it("refuses a bad scope or name with one line and exit 2, a name in use with exit 1", async () => {
    const db = join(cli.tempDir(), "o.db");
    const scope = await cli.run(["--database", db, "tokens", "create", "--scope", "root", "--name", "x"]);
    expect(scope).toMatchObject({
      code: 2,
      stdout: "",
      stderr: 'overseer: INVALID_ARGUMENT: scope must be one of admin, operator, viewer, metrics; got "root"\n',
    });
    const name = await cli.run(["--database", db, "tokens", "create", "--scope", "admin", "--name", "a b"]);
    expect(name.code).toBe(2);
    expect(name.stderr).toMatch(/^overseer: INVALID_ARGUMENT: name must be/);
    expect((await cli.run(["--database", db, "tokens", "create", "--scope", "admin", "--name", "ops"])).code).toBe(0);
    const taken = await cli.run(["--database", db, "tokens", "create", "--scope", "admin", "--name", "ops"]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/^overseer: TOKEN_NAME_TAKEN: /);
    const missing = await cli.run(["--database", db, "tokens", "create", "--name", "y"]);
    expect(missing.code).toBe(2);
  });
});

describe("overseer start serves the HTTP API", () => {
  it("on a new database prints the URL and a first admin token once; the token works; no log line holds it", async () => {
    const base = cli.tempDir();
    const db = join(base, "o.db");
    const { node, url } = await startServer(db, base);
    const secret = /admin token "admin": (ovs_\S+)/.exec(node.stdout())?.[1];
    expect(secret).toBeDefined();
    const auth = { authorization: `Bearer ${secret}` };

    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const enqueued = await fetch(`${url}/api/v1/jobs`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ task: "noop" }),
    });
    expect(enqueued.status).toBe(201);
    const job = (await enqueued.json()) as { id: string };
    await waitFor("the job to succeed", async () => {
      const res = await fetch(`${url}/api/v1/jobs/${job.id}`, { headers: auth });
      return ((await res.json()) as { job: { state: string } }).job.state === "succeeded";
    });
    expect((await fetch(`${url}/api/v1/jobs`, { headers: { authorization: "Bearer nope" } })).status).toBe(401);
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: auth })).status).toBe(200);

    // An open event stream does not hold up a graceful stop.
    const stream = await fetch(`${url}/api/v1/events?since=0`, { headers: auth });
    expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(await node.stop()).toBe(0);
    expect(await stream.text()).toContain(`"jobId":"${job.id}"`);
    // Printed once, on stdout, for the person starting it; never in the log (stderr, at trace level).
    expect(node.stdout().split(secret as string)).toHaveLength(3); // the token line and the curl hint
    expect(node.stderr()).not.toContain(secret);
    expect(node.stderr()).not.toContain("Bearer");

    // A second start on the same database makes no new token.
    const second = await startServer(db, join(base, "second"));
    expect(second.node.stdout()).not.toContain("admin token");
    expect(await second.node.stop()).toBe(0);
    const tokens = JSON.parse((await cli.run(["--database", db, "--json", "tokens", "list"])).stdout);
    expect(tokens.map((t: { name: string }) => t.name)).toEqual(["admin"]);
  });

  it("seeds OVERSEER_ADMIN_TOKEN instead of making a token, and honours it", async () => {
    const base = cli.tempDir();
    const db = join(base, "o.db");
    const secret = generateSecret();
    const { node, url } = await startServer(db, base, { OVERSEER_ADMIN_TOKEN: secret }, ["--metrics-public"]);
    expect(node.stdout()).not.toContain("admin token");
    const res = await fetch(`${url}/api/v1/queues`, { headers: { authorization: `Bearer ${secret}` } });
    expect(res.status).toBe(200);
    // --metrics-public: a scraper needs no token.
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain("overseer_jobs_enqueued_total");
    expect(await node.stop()).toBe(0);
    expect(node.stdout()).not.toContain(secret);
    expect(node.stderr()).not.toContain(secret);
  });

  it("refuses bad --port, --host, --cors-origin and --prefetch values before opening the database", async () => {
    const base = cli.tempDir();
    const db = join(base, "o.db");
    const tasks = tasksDir(base);
    for (const [flags, message] of [
      [["--port", "http"], "--port must be a whole number from 0 to 65535"],
      [["--port", "70000"], "--port must be a whole number from 0 to 65535"],
      [["--cors-origin", "dash.example.com"], "--cors-origin takes origins"],
      [["--cors-origin", "https://dash.example.com/app"], "--cors-origin takes origins"],
      [["--prefetch", "lots"], '--prefetch must be "auto" or a whole number from 0 to 100000; got "lots"'],
      [["--prefetch", "-1"], '--prefetch must be "auto" or a whole number from 0 to 100000; got "-1"'],
      [["--prefetch", "100001"], '--prefetch must be "auto" or a whole number from 0 to 100000; got "100001"'],
    ] as const) {
      const r = await cli.run(["--database", db, "start", "--tasks", tasks, ...flags]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`overseer: INVALID_ARGUMENT: ${message}`);
    }
    const { existsSync } = await import("node:fs");
    expect(existsSync(db)).toBe(false);
  });

  it("stops with one line when the port is taken, and --no-http serves nothing", async () => {
    const base = cli.tempDir();
    const db = join(base, "o.db");
    const { node, url } = await startServer(db, base);
    const port = new URL(url).port;
    const clash = await cli.run([
      "--database",
      db,
      "start",
      "--tasks",
      join(base, "tasks"),
      "--port",
      port,
      "--no-summary",
    ]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toBe(`overseer: INVALID_ARGUMENT: cannot listen on 127.0.0.1:${port}: the port is in use\n`);
    expect(await node.stop()).toBe(0);

    const quiet = watchProcess(
      cli.start([
        "--database",
        db,
        "start",
        "--tasks",
        join(base, "tasks"),
        "--no-http",
        "--no-summary",
        "--port",
        port,
      ]),
    );
    await waitFor("the node to start", () => quiet.stdout().includes("Ctrl-C to stop"), { timeoutMs: 15_000 });
    expect(quiet.stdout()).not.toContain("HTTP API");
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    expect(await quiet.stop()).toBe(0);
  });
});

describe("overseer worker", () => {
  it("serves no HTTP API and takes no HTTP options", async () => {
    const base = cli.tempDir();
    const db = join(base, "o.db");
    const tasks = tasksDir(base);
    const refused = await cli.run(["--database", db, "worker", "--tasks", tasks, "--port", "0"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("unknown option '--port'");
    const worker = watchProcess(cli.start(["--database", db, "worker", "--tasks", tasks]));
    await waitFor("the worker to start", () => worker.stdout().includes("Ctrl-C to stop"), { timeoutMs: 15_000 });
    expect(worker.stdout()).not.toContain("HTTP");
    const code = await worker.stop();
    expect(code, worker.stdout() + worker.stderr()).toBe(0);
  });
  it("exits 0 once an operator stops its worker: `workers stop` from another process, read at a heartbeat", async () => {
    const base = cli.tempDir();
    const db = join(base, "o.db");
    // Not stopped by a signal: the process is left to end by itself.
    const worker = watchProcess(cli.start(["--database", db, "worker", "--tasks", tasksDir(base)]), () => undefined);
    await waitFor("the worker to start", () => worker.stdout().includes("Ctrl-C to stop"), { timeoutMs: 15_000 });
    const id = /worker (\S+)\. Ctrl-C/.exec(worker.stdout())?.[1] ?? "";
    const asked = await cli.run(["--database", db, "workers", "stop", id]);
    expect(asked.stdout, asked.stderr).toContain(`worker ${id}`);
    expect(await worker.stop(), worker.stdout() + worker.stderr()).toBe(0);
    expect(worker.stdout()).toContain("the worker was stopped by an operator");
    const shown = JSON.parse((await cli.run(["--database", db, "--json", "workers", "show", id])).stdout);
    expect(shown).toMatchObject({ id, status: "stopped", command: "stop", jobs: [] });
  });
});
