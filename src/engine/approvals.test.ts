/**
 * Approvals from handlers, with real workers on a real store (a SQLite file, and a PostgreSQL
 * schema): the request frees the worker, survives every node going away, and the handler goes
 * on with the decision without re-running its earlier steps; timeouts apply exactly once with
 * two nodes watching; `ctx.gate` asks only when the policy says so.
 */
import { describe, expect, it } from "vitest";
import type { ApprovalOutcome } from "../core/approval.js";
import type { GatePolicy } from "../core/gate-policy.js";
import type { Job } from "../core/types.js";
import type { Overseer } from "../sdk/overseer.js";
import { TEST_BACKEND, testDatabase } from "../test-support/test-backend.js";
import { waitFor } from "../test-support/wait.js";

async function stateOf(overseer: Overseer, id: string, states: string[], timeoutMs = 15_000): Promise<Job> {
  return waitFor(
    `job ${id} to be ${states.join(" or ")}`,
    async () => {
      const job = await overseer.getJob(id);
      return job && states.includes(job.state) ? job : null;
    },
    { timeoutMs, intervalMs: 20 },
  );
}

const operator = (name: string) => ({ name, scope: "operator" as const });

describe(`approvals on ${TEST_BACKEND}`, () => {
  it("frees the worker while it waits, survives every node stopping, and goes on with the decision", async () => {
    const open = (await testDatabase("overseer-approvals-")).open;
    let prepared = 0;
    const define = (overseer: Overseer) =>
      overseer.defineTask("deploy", async (release: { version: string }, ctx) => {
        await ctx.step("build", () => ++prepared);
        const decision = await ctx.requestApproval({
          title: `Deploy ${release.version} to production`,
          details: { version: release.version, diff: "+12 -3" },
          risk: "high",
          timeout: "1h",
          requestedBy: "release-bot",
        });
        return { deployed: decision.approved, by: decision.decidedBy, prepared };
      });
    const first = await open();
    define(first);
    first.defineTask("ping", async () => "pong");
    await first.worker({ concurrency: 1, pollMs: 20 }).start();
    const job = await first.enqueue("deploy", { version: "1.4.0" });
    await stateOf(first, job.id, ["awaiting_approval"]);
    // Its only slot is free: another job runs meanwhile.
    const ping = await first.enqueue("ping");
    expect((await stateOf(first, ping.id, ["succeeded"])).result).toBe("pong");
    const [pending] = await first.listApprovals({ states: ["pending"] });
    expect(pending).toMatchObject({ jobId: job.id, title: "Deploy 1.4.0 to production", risk: "high" });
    await first.close(); // every node gone while it waits

    const second = await open();
    define(second);
    await second.worker({ pollMs: 20 }).start();
    await expect(
      second.decideApproval(pending?.id as string, { decision: "approve" }, operator("release-bot")),
    ).rejects.toMatchObject({ code: "APPROVAL_FORBIDDEN" });
    await second.decideApproval(pending?.id as string, { decision: "approve", reason: "looks good" }, operator("ada"));
    const done = await stateOf(second, job.id, ["succeeded", "dead"]);
    expect(done.result).toEqual({ deployed: true, by: "ada", prepared: 1 });
    expect(prepared).toBe(1);
    await expect(
      second.decideApproval(pending?.id as string, { decision: "deny" }, operator("grace")),
    ).rejects.toMatchObject({ code: "APPROVAL_SETTLED", details: { state: "approved" } });
  });

  it("applies a timeout exactly once with two nodes watching", async () => {
    const open = (await testDatabase("overseer-approvals-")).open;
    const nodes = [await open(), await open()];
    for (const node of nodes) {
      node.defineTask("ask", async (_p, ctx) => {
        const decision = await ctx.requestApproval({ title: "Rotate keys", timeout: "1s", onTimeout: "approve" });
        return decision;
      });
      await node.worker({ pollMs: 20, maintenanceMs: 50 }).start();
    }
    const job = await nodes[0]?.enqueue("ask");
    const done = await stateOf(nodes[0] as Overseer, job?.id as string, ["succeeded"], 20_000);
    expect(done.result).toMatchObject({ approved: true, decidedBy: "watchdog", channel: "watchdog", timedOut: true });
    const settled = (await nodes[0]?.readEvents({ jobId: job?.id }))?.filter((e) => e.kind === "approval.settled");
    expect(settled).toHaveLength(1);
  });

  it("ctx.gate goes on, notifies or asks, as the policy says", async () => {
    const gates: GatePolicy = {
      rules: [
        { name: "prod-deploys", action: ["deploy.*"], environment: ["production"], outcome: "approve" },
        { name: "staging", environment: ["staging"], outcome: "auto" },
      ],
      default: { low: "auto", medium: "notify", high: "approve", critical: "approve" },
    };
    const open = (await testDatabase("overseer-approvals-")).open;
    const overseer = await open({ gates });
    overseer.defineTask("change", async (p: { action: string; env: string; risk: "low" | "medium" | "high" }, ctx) => {
      const gate = await ctx.gate(p.action, { risk: p.risk, environment: p.env, timeout: "1h" });
      return { action: gate.action, reason: gate.reason, approved: gate.approved };
    });
    await overseer.worker({ pollMs: 20 }).start();
    const staging = await overseer.enqueue("change", { action: "deploy.web", env: "staging", risk: "high" });
    expect((await stateOf(overseer, staging.id, ["succeeded"])).result).toEqual({
      action: "auto",
      reason: "rule:staging",
      approved: true,
    });
    const notify = await overseer.enqueue("change", { action: "cache.flush", env: "production", risk: "medium" });
    expect((await stateOf(overseer, notify.id, ["succeeded"])).result).toMatchObject({
      action: "notify",
      approved: true,
    });
    expect((await overseer.readEvents({ jobId: notify.id })).map((e) => e.kind)).toContain("gate.notified");

    const prod = await overseer.enqueue("change", { action: "deploy.web", env: "production", risk: "low" });
    await stateOf(overseer, prod.id, ["awaiting_approval"]);
    const [request] = await overseer.listApprovals({ states: ["pending"], jobId: prod.id });
    await overseer.decideApproval(request?.id as string, { decision: "deny", reason: "freeze week" }, operator("ada"));
    const denied = await stateOf(overseer, prod.id, ["succeeded"]);
    expect(denied.result).toEqual({ action: "approve", reason: "rule:prod-deploys", approved: false });
    const outcome = JSON.parse(
      (await overseer.store.listJobSteps(prod.id)).find((s) => s.kind === "approval")?.resultJson ?? "null",
    ) as ApprovalOutcome;
    expect(outcome).toMatchObject({ approved: false, decidedBy: "ada", reason: "freeze week", timedOut: false });
  });

  it("ctx.gate asks when the caller is unsure, and an undeclared environment fails the job at once", async () => {
    const gates: GatePolicy = {
      environments: ["production", "staging"],
      rules: [{ name: "unsure", confidence: { below: 0.6 }, outcome: "approve" }],
      default: { low: "auto", medium: "notify", high: "approve", critical: "approve" },
    };
    const overseer = await (await testDatabase("overseer-approvals-")).open({ gates });
    overseer.defineTask("fix", async (p: { env: string; confidence: number }, ctx) => {
      const gate = await ctx.gate("restart pods", { risk: "low", environment: p.env, confidence: p.confidence });
      return { action: gate.action, reason: gate.reason };
    });
    await overseer.worker({ pollMs: 20 }).start();
    const sure = await overseer.enqueue("fix", { env: "staging", confidence: 0.9 });
    expect((await stateOf(overseer, sure.id, ["succeeded"])).result).toEqual({ action: "auto", reason: "default:low" });
    const unsure = await overseer.enqueue("fix", { env: "staging", confidence: 0.4 });
    await stateOf(overseer, unsure.id, ["awaiting_approval"]);
    const [request] = await overseer.listApprovals({ states: ["pending"], jobId: unsure.id });
    expect(request?.details).toMatchObject({ confidence: 0.4, rule: "rule:unsure" });
    // A typo for "production" is refused, not judged by the rules of some other environment.
    const typo = await overseer.enqueue("fix", { env: "prod", confidence: 0.9 }, { maxAttempts: 3 });
    const dead = await stateOf(overseer, typo.id, ["dead"]);
    expect(dead).toMatchObject({ attempts: 1, lastError: { code: "INVALID_ARGUMENT", retryable: false } });
    expect(dead.lastError?.message).toContain('environment "prod" is not one the config declares');
  });

  it("refuses an approver group the config does not define, before anything is stored", async () => {
    const overseer = await (await testDatabase("overseer-approvals-")).open({
      approvals: { groups: { sre: ["ada"] }, defaultTimeoutMs: 3_600_000 },
    });
    overseer.defineTask("ask", async (p: { group: string }, ctx) => {
      const decision = await ctx.requestApproval({ title: "Restart the api", approvers: [`group:${p.group}`] });
      return decision.approved;
    });
    await overseer.worker({ pollMs: 20 }).start();
    const known = await overseer.enqueue("ask", { group: "sre" });
    await stateOf(overseer, known.id, ["awaiting_approval"]);
    const typo = await overseer.enqueue("ask", { group: "sres" }, { maxAttempts: 3 });
    const dead = await stateOf(overseer, typo.id, ["dead"]);
    expect(dead).toMatchObject({ attempts: 1, lastError: { code: "INVALID_ARGUMENT", retryable: false } });
    expect(dead.lastError?.message).toBe(
      "requestApproval: approvers names group:sres, a group the config does not define (approvals.groups: sre)",
    );
    expect(await overseer.listApprovals({ jobId: typo.id })).toEqual([]);
  });

  it("a worker whose config defines no group does not check them", async () => {
    const overseer = await (await testDatabase("overseer-approvals-")).open();
    overseer.defineTask(
      "ask",
      async (_p, ctx) => (await ctx.requestApproval({ title: "t", approvers: ["group:sre"] })).approved,
    );
    await overseer.worker({ pollMs: 20 }).start();
    const job = await overseer.enqueue("ask");
    await stateOf(overseer, job.id, ["awaiting_approval"]);
    expect((await overseer.listApprovals({ jobId: job.id }))[0]?.approvers).toEqual(["group:sre"]);
  });
});
