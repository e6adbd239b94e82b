/**
 * The execution switch as handlers see it, with real workers on a real store: `ctx.execution`
 * follows the node's config until an admin sets the switch, a task's own mode wins, and an
 * approved action may run only if it was asked in enabled mode, is not a test item, and the
 * switch is still on when the job resumes.
 */
import { describe, expect, it } from "vitest";
import type { ApprovalOutcome } from "../core/approval.js";
import type { ExecutionMode } from "../core/execution.js";
import { finishedJob, requestOf } from "../test-support/approvals.js";
import { TEST_BACKEND, testDatabase } from "../test-support/test-backend.js";
import { ExecutionReader } from "./execution-reader.js";

const admin = { name: "root", identities: [], mayOperate: true };

describe(`execution mode on ${TEST_BACKEND}`, () => {
  it("ctx.execution: dry-run by default, the config's until the switch is set, a task's own over both", async () => {
    const db = await testDatabase("overseer-execution-");
    const overseer = await db.open();
    overseer.defineTask("mode", async (_p, ctx) => ctx.execution);
    overseer.defineTask("always-dry", async (_p, ctx) => ctx.execution, { execution: "dry-run" });
    overseer.defineTask("always-on", async (_p, ctx) => ctx.execution, { execution: "enabled" });
    await overseer.worker({ pollMs: 20 }).start();
    const modes = async () => {
      const results: unknown[] = [];
      for (const task of ["mode", "always-dry", "always-on"]) {
        results.push((await finishedJob(overseer, (await overseer.enqueue(task)).id)).result);
      }
      return results;
    };
    expect(await modes()).toEqual(["dry-run", "dry-run", "enabled"]);
    expect(await overseer.execution()).toMatchObject({ mode: "dry-run", source: "config", version: 0 });
    await overseer.setExecution({ mode: "enabled", by: "root", reason: "go" });
    // A change through this process's SDK reaches its workers at once.
    expect(await modes()).toEqual(["enabled", "dry-run", "enabled"]);
    await overseer.close();

    // A node whose config says enabled follows the switch once it was set, not its config.
    const configured = await db.open({ execution: "enabled" });
    await configured.setExecution({ mode: "dry-run", by: "ana", reason: "incident" });
    expect(await configured.execution()).toMatchObject({ mode: "dry-run", source: "switch", changedBy: "ana" });
    await configured.close();
    const fresh = await (await testDatabase("overseer-execution-")).open({ execution: "enabled" });
    expect(await fresh.execution()).toMatchObject({ mode: "enabled", source: "config" });
    await fresh.close();
  });

  it("an approved action runs only if asked in enabled mode, not a test item, and execution is still on", async () => {
    const overseer = await (await testDatabase("overseer-execution-")).open();
    overseer.defineTask("act", async (p: { test?: boolean }, ctx) => {
      const outcome: ApprovalOutcome = await ctx.requestApproval({
        title: "Act",
        execution: ctx.execution,
        ...(p.test ? { test: true } : {}),
      });
      return { approved: outcome.approved, execution: outcome.execution };
    });
    await overseer.worker({ pollMs: 20 }).start();
    const decideOne = async (payload: object, between?: () => Promise<unknown>) => {
      const job = await overseer.enqueue("act", payload);
      const request = await requestOf(overseer, job.id);
      await between?.();
      await overseer.decideApproval(request.id, { decision: "approve" }, admin);
      return { request, result: (await finishedJob(overseer, job.id)).result };
    };

    const dry = await decideOne({});
    expect(dry.request).toMatchObject({ execution: "dry-run", test: false });
    expect(dry.result).toEqual({ approved: true, execution: "dry-run" });
    // Turned on after the request was shown as a dry run: approving it still runs nothing.
    const shownDry = await decideOne({}, () => overseer.setExecution({ mode: "enabled", by: "root", reason: null }));
    expect(shownDry.result).toEqual({ approved: true, execution: "dry-run" });

    const live = await decideOne({});
    expect(live.request).toMatchObject({ execution: "enabled", test: false });
    expect(live.result).toEqual({ approved: true, execution: "enabled" });
    const testItem = await decideOne({ test: true });
    expect(testItem.request).toMatchObject({ execution: "enabled", test: true });
    expect(testItem.result).toEqual({ approved: true, execution: "dry-run" });
    // Turned off after it was asked in enabled mode: the kill switch stops it still.
    const stopped = await decideOne({}, () => overseer.setExecution({ mode: "dry-run", by: "ana", reason: "stop" }));
    expect(stopped.request).toMatchObject({ execution: "enabled" });
    expect(stopped.result).toEqual({ approved: true, execution: "dry-run" });
    await overseer.close();
  });

  it("a request made without ctx.execution is not governed: no DRY RUN, no outcome.execution", async () => {
    const overseer = await (await testDatabase("overseer-execution-")).open();
    overseer.defineTask("ungoverned", async (_p, ctx) => {
      const outcome = await ctx.requestApproval({ title: "Deploy" });
      return { execution: outcome.execution ?? "absent" };
    });
    await overseer.worker({ pollMs: 20 }).start();
    const job = await overseer.enqueue("ungoverned");
    const request = await requestOf(overseer, job.id);
    expect(request).toMatchObject({ execution: null, test: false });
    await overseer.decideApproval(request.id, { decision: "approve" }, admin);
    expect((await finishedJob(overseer, job.id)).result).toEqual({ execution: "absent" });
    await overseer.close();
  });
});

describe("ExecutionReader", () => {
  it("current() never waits: it gives the last mode and reads a stale one again in the background", async () => {
    let now = 0;
    let stored: ExecutionMode | null = "enabled";
    let reads = 0;
    const store = {
      async getExecution() {
        reads++;
        if (stored === null) throw new Error("database gone");
        return { mode: stored, changedBy: "root", changedAt: "", reason: null, version: 1 };
      },
    };
    const reader = new ExecutionReader(store, "dry-run", 1_000, () => now);
    // Never read: the config's mode, and a read starts for the next caller.
    expect(reader.current()).toBe("dry-run");
    expect(reads).toBe(1);
    await reader.read(); // the one in flight, shared
    expect(reads).toBe(1);
    expect(reader.current()).toBe("enabled");
    now = 999;
    stored = "dry-run";
    expect(reader.current()).toBe("enabled"); // fresh still: no read
    expect(reads).toBe(1);
    now = 1_000;
    expect(reader.current()).toBe("enabled"); // stale: the old mode now, a read begins
    expect(await reader.read()).toBe("dry-run");
    expect(reads).toBe(2);
    // A failed read puts dry-run in force until a read succeeds.
    reader.remember("enabled");
    stored = null;
    now = 5_000;
    expect(reader.current()).toBe("enabled");
    expect(await reader.read()).toBe("dry-run");
    expect(reader.current()).toBe("dry-run");
  });

  it("a read begun before this process set the switch does not overwrite it", async () => {
    let release: (mode: ExecutionMode) => void = () => undefined;
    const store = {
      getExecution: () =>
        new Promise<{ mode: ExecutionMode; changedBy: string; changedAt: string; reason: null; version: number }>(
          (resolve) => {
            release = (mode) => resolve({ mode, changedBy: "x", changedAt: "", reason: null, version: 1 });
          },
        ),
    };
    const reader = new ExecutionReader(store, "dry-run", 1_000, () => 0);
    const reading = reader.read();
    reader.remember("dry-run"); // this process just turned it off
    release("enabled"); // what the read saw before
    expect(await reading).toBe("dry-run");
    expect(reader.current()).toBe("dry-run");
  });

  it("shares one read among callers meanwhile, and follows the config while the switch was never set", async () => {
    let reads = 0;
    const store = {
      async getExecution() {
        reads++;
        return null;
      },
    };
    const reader = new ExecutionReader(store, "enabled", 1_000, () => 0);
    expect(await Promise.all([reader.read(), reader.read(), reader.read()])).toEqual(["enabled", "enabled", "enabled"]);
    expect(reads).toBe(1);
  });
});
