/**
 * `startNode`, in-process on a real SQLite file: a node serves its API with the first admin
 * token, runs its tasks, registers the schedules and heartbeats it is given, and stops once
 * however often it is told to; a port in use stops it with nothing begun; a part it is told to
 * leave out does not run.
 */
import { afterEach, expect, it } from "vitest";
import { parseConfig } from "../config/config.js";
import { EMPTY_ALERTS } from "../config/defaults.js";
import { defineTask } from "../core/task.js";
import { tempDatabase } from "../test-support/temp-database.js";
import { waitFor } from "../test-support/wait.js";
import { type RunningNode, startNode } from "./node.js";
import { createOverseer } from "./overseer.js";

const echo = defineTask("echo", async (payload: { word: string }) => payload.word);
const started: RunningNode[] = [];
afterEach(async () => {
  for (const node of started.splice(0).reverse()) await node.stop();
});

async function start(...args: Parameters<typeof startNode>): Promise<RunningNode> {
  const node = await startNode(...args);
  started.push(node);
  return node;
}

it("serves the API with its first admin token, runs its tasks, fires its schedules, and stops once", async () => {
  const db = tempDatabase("overseer-node-");
  const node = await start({
    database: db.path,
    tasks: [echo],
    http: { port: 0 },
    worker: { pollMs: 20 },
    schedules: { nightly: { cron: "0 2 * * *", task: "echo", payload: { word: "night" } } },
    retention: false,
  });
  expect(node.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(node.firstAdminToken?.name).toBe("admin");
  expect(node.worker?.isRunning).toBe(true);
  expect(node.scheduler).not.toBeNull();
  expect(node.supervisor).not.toBeNull();

  const res = await fetch(`${node.url}/api/v1/jobs`, {
    method: "POST",
    headers: { authorization: `Bearer ${node.firstAdminToken?.secret}`, "content-type": "application/json" },
    body: JSON.stringify({ task: "echo", payload: { word: "hello" } }),
  });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: string };
  const done = await waitFor("the job to succeed", async () => {
    const job = await node.overseer.getJob(id);
    return job?.state === "succeeded" ? job : null;
  });
  expect(done.result).toBe("hello");
  expect((await node.overseer.listSchedules()).map((s) => s.name)).toEqual(["nightly"]);
  expect((await fetch(`${node.url}/`)).headers.get("content-type")).toContain("text/html");

  await Promise.all([node.stop(), node.stop()]);
  await node.stop();
  expect(node.worker?.isRunning).toBe(false);
  await expect(fetch(`${node.url}/healthz`)).rejects.toThrow();
  // Stopped cleanly: the worker says so in the database.
  const after = await db.open();
  expect((await after.listWorkers()).map((w) => w.status)).toEqual(["stopped"]);
});

it("a port in use stops it with nothing begun", async () => {
  const db = tempDatabase("overseer-node-");
  const first = await start({ database: db.path, http: { port: 0 }, retention: false });
  const port = Number(new URL(first.url as string).port);
  await expect(
    startNode({ database: db.path, tasks: [echo], http: { port }, schedules: [], retention: false }),
  ).rejects.toMatchObject({
    code: "INVALID_ARGUMENT",
    message: `cannot listen on 127.0.0.1:${port}: the port is in use`,
  });
  const overseer = await db.open();
  expect(await overseer.listWorkers()).toEqual([]);

  // A new database on a port in use gets no token nobody was shown: the next start makes and shows one.
  const fresh = tempDatabase("overseer-node-");
  await expect(startNode({ database: fresh.path, http: { port }, retention: false })).rejects.toMatchObject({
    code: "INVALID_ARGUMENT",
  });
  expect(await (await fresh.open()).store.listTokens()).toEqual([]);
});

it("runs only the parts it is asked for; given schedules replace the stored ones only where it fires them", async () => {
  const db = tempDatabase("overseer-node-");
  const setup = await createOverseer({ database: db.path });
  await setup.syncSchedules({ old: { cron: "0 3 * * *", task: "echo" } });
  await setup.close();
  const removed = async (node: RunningNode) =>
    (await node.overseer.listSchedules()).map((s) => [s.name, s.removed] as const);

  const quiet = await start({ database: db.path, http: false, scheduler: false, schedules: [], retention: false });
  expect(quiet).toMatchObject({ url: null, firstAdminToken: null, worker: null, scheduler: null });
  expect(await removed(quiet)).toEqual([["old", false]]);
  await quiet.stop();

  const node = await start({
    database: db.path,
    tasks: [echo],
    http: false,
    superviseRuns: false,
    schedules: [],
    alerts: { ...EMPTY_ALERTS, heartbeats: [{ name: "nightly-backup", intervalMs: 3_600_000, policy: null }] },
    retention: false,
  });
  expect(node).toMatchObject({ url: null, supervisor: null, scheduler: null });
  expect(node.worker?.isRunning).toBe(true);
  expect(await removed(node)).toEqual([["old", true]]);
  expect((await node.overseer.listHeartbeats()).map((h) => h.name)).toEqual(["nightly-backup"]);
});

it("a node that only supervises runs times out what they ask: a run denied its start by the timeout is cancelled", async () => {
  const db = tempDatabase("overseer-node-");
  const runs = parseConfig(
    {
      runs: {
        profiles: {
          gated: {
            command: process.execPath,
            args: ["-e", ""],
            approvals: { beforeFirstTurn: true, timeout: "1s", onTimeout: "deny" },
            completion: { exitCode: 0 },
          },
        },
      },
    },
    "test",
  ).runs;
  const node = await start({ database: db.path, runs, http: false, retention: false });
  expect(node.worker, "no tasks, no alerting: no worker, and yet the watchdog runs").toBeNull();
  const run = await node.overseer.startRun({ profile: "gated" });
  expect(run.state).toBe("waiting");
  const ended = await waitFor("the timeout to deny the start", async () => {
    const now = await node.overseer.getRun(run.id);
    return now?.state === "cancelled" ? now : null;
  });
  expect(ended.startedAt).toBeNull();
  expect((await node.overseer.listApprovals({ runId: run.id }))[0]?.state).toBe("timed_out");
});
