// The incident triage example as its README runs it, on the test backend (a SQLite file, or a
// PostgreSQL schema): app.mjs as real processes, incidents posted to its /incidents routes,
// approvals decided through Overseer's API. A staging incident resolves on its own; a production
// fix parks for approval, survives every node stopping, and goes on with the decision without
// asking the agent again; an unanswered approval escalates once with two nodes; a stale write is
// 409 and an action on a session in the middle of a step is 429 from another process; an unsure
// investigation ends needs_review; resolved incidents become lessons the next one finds.
import { execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it, onTestFinished } from "vitest";
import { BIN, watchProcess } from "../../src/test-support/cli.js";
import { testDatabase } from "../../src/test-support/test-backend.js";
import { waitFor } from "../../src/test-support/wait.js";

const APP = join(import.meta.dirname, "app.mjs");
const CONFIG = join(import.meta.dirname, "overseer.config.json");
const TOKEN = "incident-triage-test-admin-token-0123456789";

interface App {
  api: string;
  incidents: string;
  stop(): Promise<number | null>;
}

/** Starts app.mjs on the database with free ports; stopped (SIGTERM) when the test ends if still up. */
async function startApp(database: string, env: Record<string, string> = {}): Promise<App> {
  const child = spawn(process.execPath, [APP], {
    env: { ...process.env, DATABASE: database, PORT: "0", APP_PORT: "0", OVERSEER_ADMIN_TOKEN: TOKEN, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const watched = watchProcess(child);
  let stopped: Promise<number | null> | null = null;
  const stop = () => {
    stopped ??= watched.stop();
    return stopped;
  };
  onTestFinished(async () => {
    await stop();
  });
  const lines = await waitFor(
    "the app to say where it listens",
    () => {
      if (child.exitCode !== null) throw new Error(`app.mjs exited: ${watched.stderr()}`);
      const api = /overseer on (http:\S+)\//.exec(watched.stdout())?.[1];
      const incidents = /incidents on (http:\S+)/.exec(watched.stdout())?.[1];
      return api && incidents ? { api, incidents } : null;
    },
    { timeoutMs: 20_000 },
  );
  return { ...lines, stop };
}

/** The CLI on the database, with the example's config (its approver groups), as the README runs it. */
async function cli(database: string, args: string[]) {
  return (await promisify(execFile)(process.execPath, [BIN, "--database", database, "--config", CONFIG, ...args]))
    .stdout;
}

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      accept: "application/json",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

async function openIncident(app: App, incident: Record<string, unknown>): Promise<string> {
  const res = await call("POST", app.incidents, incident);
  expect(res.status).toBe(201);
  return res.body.session;
}

/** The session once its job is in one of `states`. */
async function sessionIn(app: App, id: string, states: string[], timeoutMs = 20_000) {
  return waitFor(
    `session ${id} to be ${states.join(" or ")}`,
    async () => {
      const res = await call("GET", `${app.incidents}/${id}`);
      return states.includes(res.body?.state) ? res.body : null;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

type Event = { kind: string; data: Record<string, unknown> };

async function events(app: App, id: string): Promise<Event[]> {
  return (await call("GET", `${app.api}/api/v1/jobs/${id}/events?limit=1000`)).body.items;
}

/** How many times each step began, over all of the session's executions. */
async function stepStarts(app: App, id: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const e of await events(app, id)) {
    if (e.kind === "step.started") counts[e.data.name as string] = (counts[e.data.name as string] ?? 0) + 1;
  }
  return counts;
}

async function pendingApproval(app: App, jobId: string) {
  return waitFor("the fix's approval request", async () => {
    const res = await call("GET", `${app.api}/api/v1/approvals?state=pending`);
    return res.body.items.find((a: { jobId: string }) => a.jobId === jobId) ?? null;
  });
}

const STAGING_DEPLOY = {
  title: "checkout api returns 502 after deploy",
  service: "checkout-api",
  environment: "staging",
};

describe("incident triage", () => {
  it("resolves a staging incident on its own, and keeps its lesson for the next one like it", async () => {
    const db = await testDatabase("overseer-triage-");
    const app = await startApp(db.database);
    const first = await openIncident(app, STAGING_DEPLOY);
    const done = await sessionIn(app, first, ["succeeded"]);
    expect(done).toMatchObject({ status: "resolved", reason: expect.stringContaining("rolled back the deployment") });
    expect(done.steps.map((s: { name: string }) => s.name)).toEqual([
      "intake",
      "recall",
      "triage",
      "investigate",
      "propose-fix",
      "apply-fix",
      "verify",
    ]);
    // The gate let it through on its own (staging), and said so on the timeline.
    const gate = (await events(app, first)).find((e) => e.kind === "gate.decided");
    expect(gate?.data).toMatchObject({ decision: "auto", reason: "rule:staging", environment: "staging" });

    // Two other incidents, then one like the first: the first's lesson comes first.
    for (const incident of [
      { title: "orders disk full on the primary volume", service: "orders-db", environment: "staging" },
      { title: "search pods OOMKilled, out of memory", service: "search", environment: "staging" },
    ]) {
      await sessionIn(app, await openIncident(app, incident), ["succeeded"]);
    }
    const next = await openIncident(app, { ...STAGING_DEPLOY, title: "checkout api 502s after the 1.9 deploy" });
    await sessionIn(app, next, ["succeeded"]);
    const similar = await call("GET", `${app.api}/api/v1/lessons/similar?jobId=${next}`);
    expect(similar.body.items[0].lesson).toMatchObject({ jobId: first, title: STAGING_DEPLOY.title });
    expect(similar.body.items[0].reason.terms).toEqual(expect.arrayContaining(["checkout", "deploy"]));
    const steps = await call("GET", `${app.api}/api/v1/jobs/${next}/steps/recall`);
    expect(steps.body.result[0]).toMatchObject({ title: STAGING_DEPLOY.title });
  });

  it("parks a production fix for approval, survives every node stopping, and goes on with the decision", async () => {
    const db = await testDatabase("overseer-triage-");
    const first = await startApp(db.database);
    const id = await openIncident(first, { ...STAGING_DEPLOY, environment: "production" });
    await sessionIn(first, id, ["awaiting_approval"]);
    const request = await pendingApproval(first, id);
    expect(request).toMatchObject({
      title: "deploy.rollback on checkout-api (production)",
      approvers: ["group:oncall"],
      details: { command: "kubectl rollout undo deployment/checkout-api", confidence: 0.9 },
    });
    expect(await first.stop()).toBe(0); // every node gone while it waits

    const second = await startApp(db.database);
    // Alice is in the oncall group the config defines; she decides on the command line.
    expect(await cli(db.database, ["approvals", "approve", request.id, "--as", "alice", "--reason", "safe"])).toContain(
      "approved",
    );
    const done = await sessionIn(second, id, ["succeeded"]);
    expect(done.status).toBe("resolved");
    // Nothing before the gate ran twice: the agent was not asked again, nothing applied twice.
    expect(await stepStarts(second, id)).toEqual({
      intake: 1,
      recall: 1,
      triage: 1,
      investigate: 1,
      "propose-fix": 1,
      "apply-fix": 1,
      verify: 1,
    });
  });

  it("escalates an unanswered approval exactly once with two nodes watching; a denial ends it escalated", async () => {
    const db = await testDatabase("overseer-triage-");
    const env = { INCIDENT_APPROVAL_TIMEOUT: "2s" };
    const [a, b] = await Promise.all([startApp(db.database, env), startApp(db.database, env)]);
    const id = await openIncident(a, { ...STAGING_DEPLOY, environment: "production" });
    const request = await pendingApproval(a, id);
    const escalations = async () =>
      (await call("GET", `${a.api}/api/v1/events?since=0&limit=1000`)).body.items.filter(
        (e: Event) => e.kind === "alert.escalated" && e.data.by === "approval-timeout",
      );
    await waitFor("the approval's alert to escalate", async () => (await escalations()).length > 0, {
      timeoutMs: 20_000,
    });
    // Both nodes saw the timeout; give the slower one time to have acted too.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await escalations()).toHaveLength(1);
    // The request still waits for a person; Bob's denial through the API ends the session escalated, with who and why.
    const bob = JSON.parse(
      await cli(db.database, ["--json", "tokens", "create", "--name", "bob", "--scope", "operator"]),
    );
    const denied = await call(
      "POST",
      `${b.api}/api/v1/approvals/${request.id}/decision`,
      { decision: "deny", reason: "change freeze" },
      { authorization: `Bearer ${bob.token}` },
    );
    expect(denied.status).toBe(200);
    const done = await sessionIn(b, id, ["succeeded"]);
    expect(done).toMatchObject({
      status: "escalated",
      reason: "the fix was denied by bob: change freeze; a person takes it from here",
    });
  });

  it("a stale write gets 409; an action on a session in the middle of a step gets 429 from another process", async () => {
    const db = await testDatabase("overseer-triage-");
    // Two processes on one database: one runs the sessions, the other only serves (WORKER=off).
    const [worker, other] = await Promise.all([startApp(db.database), startApp(db.database, { WORKER: "off" })]);
    const id = await openIncident(other, { ...STAGING_DEPLOY, delayMs: 1_500 });
    const running = await sessionIn(other, id, ["running"]);
    const busy = await call("POST", `${other.incidents}/${id}/retry`, undefined, {
      "if-match": `"${running.version}"`,
    });
    expect(busy.status).toBe(429);
    expect(busy.headers.get("retry-after")).toBe("1");
    expect(busy.body.error.code).toBe("BUSY");
    // Overseer's own API answers the same from there.
    const api = await call("POST", `${other.api}/api/v1/jobs/${id}/retry`);
    expect([api.status, api.headers.get("retry-after")]).toEqual([429, "1"]);

    const done = await sessionIn(worker, id, ["succeeded"]);
    const stale = await call("POST", `${other.incidents}/${id}/retry`, undefined, {
      "if-match": `"${running.version}"`,
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe("VERSION_CONFLICT");
    // With the version just read, the write goes through to the state machine (a resolved session is not retried).
    const current = await call("POST", `${other.incidents}/${id}/retry`, undefined, {
      "if-match": `"${done.version}"`,
    });
    expect([current.status, current.body.error.code]).toEqual([409, "INVALID_TRANSITION"]);
  });

  it("ends an unsure investigation as needs_review, with its reason, and asks nobody to apply anything", async () => {
    const db = await testDatabase("overseer-triage-");
    const app = await startApp(db.database);
    const id = await openIncident(app, {
      title: "intermittent timeouts for some users",
      service: "gateway",
      environment: "production",
    });
    const done = await sessionIn(app, id, ["succeeded"]);
    expect(done).toMatchObject({
      status: "needs_review",
      reason: "the investigation was 0.35 sure, below 0.5: nothing in the logs explains the symptom",
    });
    expect(done.steps.map((s: { name: string }) => s.name)).toEqual(["intake", "recall", "triage", "investigate"]);
    expect((await call("GET", `${app.api}/api/v1/approvals?jobId=${id}`)).body.items).toEqual([]);
  });

  it("refuses a bad incident with 400 naming each problem, and stores nothing", async () => {
    const db = await testDatabase("overseer-triage-");
    const app = await startApp(db.database);
    const res = await call("POST", app.incidents, { title: "", service: "Checkout API", environment: "prod" });
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({
      code: "INVALID_INCIDENT",
      message:
        "title must be 1-200 characters; service must be a lower-case name such as checkout-api (at most 55 characters); " +
        "environment must be one of production, staging",
    });
    expect((await call("POST", app.incidents, undefined)).status).toBe(400);
    expect((await call("GET", `${app.api}/api/v1/jobs`)).body.items).toEqual([]);
  });
});
