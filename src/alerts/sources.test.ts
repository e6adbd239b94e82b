import { describe, expect, it } from "vitest";
import { parseConfig } from "../config/config.js";
import { newId } from "../core/ids.js";
import type { RunLease } from "../core/run.js";
import type { Overseer } from "../sdk/overseer.js";
import { SqliteStore } from "../store/sqlite/sqlite-store.js";
import { pendingApproval } from "../test-support/approvals.js";
import { tempDatabase } from "../test-support/temp-database.js";
import { sleep } from "../test-support/wait.js";
import { SOURCES_CURSOR } from "./sources.js";

const policies = {
  page: {
    steps: [
      { delay: "0s", notify: ["telegram:101"] },
      { delay: "1h", notify: ["telegram:102"] },
    ],
  },
};

async function setup(rules: unknown[]) {
  const { alerts } = parseConfig({ alerts: { policies, rules } }, "test");
  const overseer = await tempDatabase().open({ alerts });
  const sources = overseer.alertSources();
  if (sources === null) throw new Error("expected alert sources");
  await sources.pass(); // the cursor starts here
  return { overseer, sources };
}

describe("alert sources", () => {
  it("a pending approval raises an alert with the rule's policy; deciding it closes the alert", async () => {
    const { overseer, sources } = await setup([{ when: "approval.pending", policy: "page" }]);
    const approval = await pendingApproval(overseer);
    await sources.pass();
    const [alert] = await overseer.listAlerts();
    expect(alert).toMatchObject({
      source: "approval",
      status: "triggered",
      dedupKey: `approval:${approval.id}`,
      policy: { name: "page" },
      details: { approvalId: approval.id, jobId: approval.jobId },
    });
    await overseer.decideApproval(approval.id, { decision: "approve" }, { name: "ana", scope: "operator" });
    await sources.pass();
    expect(await overseer.getAlert(alert?.id ?? "")).toMatchObject({ status: "closed", closedBy: "ana" });
  });

  it("an approval alert names the lessons most like its job, for whoever decides it", async () => {
    const { overseer, sources } = await setup([{ when: "approval.pending", policy: "page" }]);
    await overseer.lessons.record({ title: "deploy web failed health checks", outcome: "resolved by rolling back" });
    await overseer.lessons.record({ title: "billing double charge", outcome: "added an idempotency key" });
    const approval = await pendingApproval(overseer, {}, "deploy-web");
    const other = await pendingApproval(overseer, {}, "rotate-certificates");
    await sources.pass();
    const details = async (id: string) =>
      (await overseer.listAlerts()).find((a) => a.dedupKey === `approval:${id}`)?.details as Record<string, unknown>;
    expect((await details(approval.id)).similarLessons).toEqual([
      "deploy web failed health checks: resolved by rolling back",
    ]);
    expect(await details(other.id)).not.toHaveProperty("similarLessons");
  });

  it("onTimeout escalate: the request stays pending and its alert escalates at the timeout, once", async () => {
    const { overseer, sources } = await setup([{ when: "approval.pending", policy: "page" }]);
    const approval = await pendingApproval(overseer, { onTimeout: "escalate", timeout: "1s" });
    await sources.pass();
    const [alert] = await overseer.listAlerts();
    expect(alert?.escalation).toMatchObject({ step: 0 });
    await sleep(1_100);
    expect(await overseer.store.expireApprovals()).toEqual([]);
    await sources.pass();
    await sources.pass();
    expect((await overseer.getApproval(approval.id))?.state).toBe("pending");
    const escalated = await overseer.getAlert(alert?.id ?? "");
    expect(escalated?.escalation).toMatchObject({ step: 1 });
    const timeline = await overseer.listAlertNotifications(alert?.id ?? "");
    expect(timeline.map((n) => n.target)).toEqual(["telegram:101", "telegram:102"]);
  });

  it("job.dead per queue and task, with a dedup key: a second death bumps the alert", async () => {
    const { overseer, sources } = await setup([{ when: "job.dead", queue: "payments", policy: "page" }]);
    for (const queue of ["payments", "payments", "other"]) {
      const job = await overseer.enqueue("charge", {}, { queue, maxAttempts: 1 });
      const [claimed] = await overseer.store.claim({
        workerId: "w",
        limit: 1,
        tasks: ["charge"],
        queues: [queue],
        leaseMs: 60_000,
      });
      expect(claimed?.job.id).toBe(job.id);
      await overseer.store.finish([
        {
          lease: claimed?.lease as never,
          outcome: "dead",
          error: { message: "card refused", code: "X", type: "Error", retryable: false } as never,
          reason: "permanent" as never,
        },
      ]);
    }
    await sources.pass();
    const alerts = await overseer.listAlerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ source: "job.dead", dedupKey: "job.dead:payments:charge", count: 2 });
  });

  it("several nodes on one store: only the one holding the sources claim applies the rules", async () => {
    const { alerts } = parseConfig({ alerts: { policies, rules: [{ when: "worker.lost", policy: "page" }] } }, "test");
    const db = tempDatabase();
    const nodes = [await db.open({ alerts }), await db.open({ alerts }), await db.open({ alerts })];
    const sources = nodes.map((n) => n.alertSources());
    for (const s of sources) await s?.pass(); // the first to pass leads; the others wait
    await nodes[0]?.store.appendEvents([{ kind: "worker.lost", workerId: "w-1", data: {} }]);
    for (const s of sources) await s?.pass();
    const [alert, ...more] = (await nodes[1]?.listAlerts()) ?? [];
    expect(more).toEqual([]);
    expect(alert).toMatchObject({ source: "worker.lost", count: 1 });
    // The leader closes: the next node to pass takes over and applies what comes after.
    await nodes[0]?.close();
    await sources[1]?.pass();
    await nodes[1]?.store.appendEvents([{ kind: "worker.lost", workerId: "w-2", data: {} }]);
    for (const s of sources.slice(1)) await s?.pass();
    expect((await nodes[1]?.listAlerts())?.map((a) => a.count).sort()).toEqual([1, 1]);
  });

  it("a node taking over from a leader that died goes on from the leader's position: nothing in the gap is lost", async () => {
    const { alerts } = parseConfig({ alerts: { policies, rules: [{ when: "worker.lost", policy: "page" }] } }, "test");
    const db = tempDatabase();
    let offset = 0;
    const clock = () => Date.now() + offset;
    const open = async () => db.open({ alerts, store: await SqliteStore.open({ path: db.path, clock }) });
    const [leader, follower] = [await open(), await open()];
    await leader.alertSources()?.pass();
    const [lost] = await leader.store.appendEvents([{ kind: "worker.lost", workerId: "w-1", data: {} }]);
    await leader.alertSources()?.pass();
    expect(await leader.store.getCursor(SOURCES_CURSOR)).toBe(lost);
    // The leader dies without a word (no close): an event lands in the gap while its claim lasts.
    await follower.store.appendEvents([{ kind: "worker.lost", workerId: "w-2", data: {} }]);
    await follower.alertSources()?.pass();
    expect((await follower.listAlerts()).map((a) => a.dedupKey)).toEqual(["worker.lost:w-1"]);
    offset += 16_000; // past the claim's TTL
    await follower.alertSources()?.pass();
    expect((await follower.listAlerts()).map((a) => a.dedupKey).sort()).toEqual(["worker.lost:w-1", "worker.lost:w-2"]);
    expect((await follower.listAlerts()).map((a) => a.count)).toEqual([1, 1]);
  });

  it("worker.lost and schedule.missed events raise their alerts", async () => {
    const { overseer, sources } = await setup([
      { when: "worker.lost", policy: "page" },
      { when: "schedule.missed", schedule: "nightly", policy: "page" },
    ]);
    await overseer.store.appendEvents([
      { kind: "worker.lost", workerId: "w-1", data: { staleMs: 30_000 } },
      { kind: "schedule.missed", data: { schedule: "nightly", missed: 3 } },
      { kind: "schedule.missed", data: { schedule: "hourly", missed: 1 } },
    ]);
    await sources.pass();
    const alerts = await overseer.listAlerts();
    expect(alerts.map((a) => a.dedupKey).sort()).toEqual(["schedule.missed:nightly", "worker.lost:w-1"]);
  });

  it("a queue's breaker raises an alert when it opens, bumps it when a probe fails, and closes it when it closes", async () => {
    const { overseer, sources } = await setup([{ when: "queue.breaker", queue: "calls", policy: "page" }]);
    const trip = { attempts: 10, failures: 7, windowMs: 60_000, divertTo: "sms" };
    await overseer.store.tripBreaker("calls", trip, 30_000);
    await overseer.store.tripBreaker("mail", trip, 30_000);
    await sources.pass();
    const [alert] = await overseer.listAlerts();
    expect(alert).toMatchObject({
      source: "queue.breaker",
      dedupKey: "queue.breaker:calls",
      status: "triggered",
      summary: "Circuit breaker of queue calls opened: 7 of 10 attempts failed, its jobs go to sms",
      details: { queue: "calls", reason: "failure_rate", ...trip },
    });
    expect(await overseer.listAlerts()).toHaveLength(1);
    await overseer.store.appendEvents([
      { kind: "queue.breaker_opened", data: { queue: "calls", reason: "probe_failed", probeJobId: "j1" } },
    ]);
    await sources.pass();
    expect(await overseer.getAlert(alert?.id ?? "")).toMatchObject({
      count: 2,
      details: { queue: "calls", reason: "probe_failed", probeJobId: "j1" },
    });
    await overseer.resetBreaker("calls", "ada");
    await sources.pass();
    expect(await overseer.getAlert(alert?.id ?? "")).toMatchObject({ status: "closed", closedBy: "ada" });
  });

  it("queue depth over the threshold raises; back under closes", async () => {
    const { overseer, sources } = await setup([{ when: "queue.depth", queue: "calls", above: 2, policy: "page" }]);
    for (let i = 0; i < 3; i++) await overseer.enqueue("call", { i }, { queue: "calls" });
    await sources.pass(Date.now() + 10_000);
    const [alert] = await overseer.listAlerts();
    expect(alert).toMatchObject({ source: "queue.depth", dedupKey: "queue.depth:calls", status: "triggered" });
    await sources.pass(Date.now() + 20_000); // still over: no second alert, no bump
    expect((await overseer.getAlert(alert?.id ?? ""))?.count).toBe(1);
    const [job] = await overseer.listJobs({ queue: "calls" });
    await overseer.cancel(job?.id ?? "");
    await sources.pass(Date.now() + 30_000);
    expect(await overseer.getAlert(alert?.id ?? "")).toMatchObject({ status: "closed", closedBy: "overseer" });
  });

  it("threshold rules with time windows: the first whose window is open decides; a shut window raises nothing but still closes", async () => {
    const { alerts } = parseConfig(
      {
        alerts: {
          policies: { ...policies, day: policies.page },
          timeWindows: { weekend: { timezone: "UTC", days: "sat,sun", from: "00:00", to: "24:00" } },
          rules: [
            { when: "queue.depth", queue: "calls", above: 2, policy: "page", outside: "weekend" },
            { when: "queue.depth", queue: "calls", above: 0, policy: "day", during: "weekend" },
          ],
        },
      },
      "test",
    );
    const overseer = await tempDatabase().open({ alerts });
    const sources = overseer.alertSources();
    if (sources === null) throw new Error("expected alert sources");
    const job = await overseer.enqueue("call", {}, { queue: "calls" });
    await sources.pass(Date.parse("2030-01-02T12:00:00Z")); // a Wednesday: the weekday rule, 1 is not over 2
    expect(await overseer.listAlerts()).toEqual([]);
    await sources.pass(Date.parse("2030-01-05T12:00:00Z")); // a Saturday: the weekend rule, 1 is over 0
    const [alert] = await overseer.listAlerts();
    expect(alert).toMatchObject({ source: "queue.depth", status: "triggered", policy: { name: "day" } });
    await sources.pass(Date.parse("2030-01-09T12:00:00Z")); // Wednesday again: not over 2, so it closes
    expect((await overseer.getAlert(alert?.id ?? ""))?.status).toBe("closed");
    await overseer.cancel(job.id);
    expect(await overseer.listAlerts({ statuses: ["triggered"] })).toEqual([]);
  });

  it("a threshold rule whose window is shut raises nothing, and closes its alert once the value is back under", async () => {
    const { alerts } = parseConfig(
      {
        alerts: {
          policies,
          timeWindows: { weekend: { timezone: "UTC", days: "sat,sun", from: "00:00", to: "24:00" } },
          rules: [{ when: "queue.depth", queue: "calls", above: 0, policy: "page", during: "weekend" }],
        },
      },
      "test",
    );
    const overseer = await tempDatabase().open({ alerts });
    const sources = overseer.alertSources();
    if (sources === null) throw new Error("expected alert sources");
    const job = await overseer.enqueue("call", {}, { queue: "calls" });
    await sources.pass(Date.parse("2030-01-02T12:00:00Z")); // Wednesday: shut
    expect(await overseer.listAlerts()).toEqual([]);
    await sources.pass(Date.parse("2030-01-05T12:00:00Z")); // Saturday: raised
    const [alert] = await overseer.listAlerts();
    expect(alert?.status).toBe("triggered");
    await sources.pass(Date.parse("2030-01-09T12:00:00Z")); // shut, still over: left open
    expect((await overseer.getAlert(alert?.id ?? ""))?.status).toBe("triggered");
    await overseer.cancel(job.id);
    await sources.pass(Date.parse("2030-01-10T12:00:00Z")); // shut, back under: closed
    expect((await overseer.getAlert(alert?.id ?? ""))?.status).toBe("closed");
  });

  it("run.failed and run.budget raise an alert per run, for the rule's profile only", async () => {
    const { overseer, sources } = await setup([
      { when: "run.failed", profile: "agent", policy: "page" },
      { when: "run.budget", policy: "page" },
    ]);
    const fail = async (profile: string) => {
      const lease = await runningRun(overseer, profile);
      const error = {
        code: "RUN_BUDGET_EXCEEDED" as const,
        message: "the run used 1200 tokens; its budget is 1000",
        retryable: false,
      };
      await overseer.store.updateRun(lease, {
        transition: "fail",
        error,
        transitionData: { ...error },
        events: [{ kind: "run.budget_exceeded", data: { ...error, action: "failed" } }],
      });
      return lease.runId;
    };
    const agent = await fail("agent");
    const other = await fail("other");
    await sources.pass();
    const alerts = (await overseer.listAlerts()).map((a) => [a.source, a.dedupKey, a.summary]);
    expect(alerts).toEqual(
      expect.arrayContaining([
        ["run.failed", `run.failed:${agent}`, `Run failed: agent run ${agent}: RUN_BUDGET_EXCEEDED`],
        ["run.budget", `run.budget:${agent}`, `Run stopped at its budget: agent run ${agent}: RUN_BUDGET_EXCEEDED`],
        ["run.budget", `run.budget:${other}`, `Run stopped at its budget: other run ${other}: RUN_BUDGET_EXCEEDED`],
      ]),
    );
    expect(alerts).toHaveLength(3);
    const failed = (await overseer.listAlerts({ source: "run.failed" }))[0];
    expect(failed?.details).toEqual({
      runId: agent,
      profile: "agent",
      turn: 0,
      code: "RUN_BUDGET_EXCEEDED",
      message: "the run used 1200 tokens; its budget is 1000",
    });
  });

  it("run.stalled: a running run quiet for longer than the rule raises, once; it closes when the run stops", async () => {
    const { overseer, sources } = await setup([{ when: "run.stalled", after: "1m", policy: "page" }]);
    const lease = await runningRun(overseer, "agent");
    await sources.pass(Date.now() + 10_000);
    expect(await overseer.listAlerts()).toEqual([]);
    await sources.pass(Date.now() + 120_000);
    const [alert] = await overseer.listAlerts();
    expect(alert).toMatchObject({ source: "run.stalled", dedupKey: `run.stalled:${lease.runId}`, status: "triggered" });
    expect(alert?.summary).toMatch(
      new RegExp(`^Run stalled: agent run ${lease.runId} has written nothing for 1[12]\\d s$`),
    );
    await sources.pass(Date.now() + 240_000); // still quiet: no second alert, no bump
    expect((await overseer.getAlert(alert?.id ?? ""))?.count).toBe(1);
    await overseer.controlRun(lease.runId, "cancel");
    await sources.pass(Date.now() + 300_000);
    expect(await overseer.getAlert(alert?.id ?? "")).toMatchObject({ status: "closed", closedBy: "overseer" });
  });

  it("run.stalled for one profile leaves the runs of other profiles alone", async () => {
    const { overseer, sources } = await setup([
      { when: "run.stalled", profile: "nightly", after: "1m", policy: "page" },
    ]);
    const other = await runningRun(overseer, "agent");
    const nightly = await runningRun(overseer, "nightly");
    await sources.pass(Date.now() + 120_000);
    // The agent run, just as quiet, raises nothing: no rule covers its profile.
    expect((await overseer.listAlerts()).map((a) => a.dedupKey)).toEqual([`run.stalled:${nightly.runId}`]);
    expect(await overseer.getRun(other.runId)).toMatchObject({ state: "running", profile: "agent" });
  });

  it("queue age over the threshold raises", async () => {
    const { overseer, sources } = await setup([{ when: "queue.age", queue: "calls", above: "1m", policy: "page" }]);
    await overseer.enqueue("call", {}, { queue: "calls" });
    await sources.pass(Date.now() + 10_000);
    expect(await overseer.listAlerts()).toEqual([]);
    await sources.pass(Date.now() + 120_000);
    expect((await overseer.listAlerts())[0]).toMatchObject({ source: "queue.age", dedupKey: "queue.age:calls" });
  });
});

/** A run of `profile` taken by a supervisor (running, turn 0), and its lease. */
async function runningRun(overseer: Overseer, profile: string): Promise<RunLease> {
  const id = newId();
  await overseer.store.createRun({
    id,
    profile,
    params: {},
    createdBy: null,
    spec: {
      command: "true",
      args: [],
      cwd: "/",
      env: [],
      maxTurns: 3,
      turnTimeoutMs: 60_000,
      graceMs: 1_000,
      completion: { exitCode: 0 },
      onTurnFailure: "fail",
    },
  });
  for (;;) {
    const claimed = await overseer.store.claimRun("supervisor-1", 60_000);
    if (claimed === null) throw new Error("the run was not claimable");
    if (claimed.run.id === id) return claimed.lease;
  }
}
