/**
 * Runs that ask people, end to end: a real store (SQLite, or PostgreSQL by the test switch), the
 * supervisor and a real subprocess (fixtures/ask-lines.mjs) that prints the telemetry it is given
 * on its first turn and records each input it gets.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { Decider } from "../../core/approval.js";
import { rejectsWith } from "../../store/conformance/suite.js";
import { runsSandbox } from "../../test-support/runs.js";
import { TEST_BACKEND } from "../../test-support/test-backend.js";
import { waitFor } from "../../test-support/wait.js";

const AGENT = resolve(import.meta.dirname, "fixtures", "ask-lines.mjs");
const runs = runsSandbox("overseer-run-requests-");
const { until } = runs;
const line = (event: string, rest: Record<string, unknown>) => JSON.stringify({ overseer_event: event, ...rest });
const as = (name: string): Decider => ({ name, identities: [], mayOperate: true });

/** A profile running the fixture, its turns' input showing the answer; `lines` printed on turn 1. */
function profile(lines: string[], extra: Record<string, unknown> = {}) {
  return {
    command: process.execPath,
    args: [AGENT, ...lines],
    maxTurns: 3,
    completion: { stopFile: ".stop" },
    input: { template: "turn {{turn}} [{{answer}}] [{{answer.text}}|{{answer.approved}}]" },
    ...extra,
  };
}

function inputs(): string[] {
  return readFileSync(join(runs.work, "inputs.log"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l).input);
}

describe(`runs that ask people, on ${TEST_BACKEND}`, () => {
  it("parks on an approval request with its risk and details under the profile's policy, and hands the denial on", async () => {
    const request = line("approval_request", { title: "Push to main", risk: "high", details: { branch: "main" } });
    const o = await runs.setUp({
      pusher: profile([request], { approvals: { approvers: ["lead"], timeout: "10m", onTimeout: "escalate" } }),
    });
    const run = await o.startRun({ profile: "pusher" });
    expect((await until(run.id, ["waiting"])).currentTurn).toBe(1);
    const [asked] = await o.listApprovals({ runId: run.id });
    expect(asked).toMatchObject({
      kind: "approval",
      step: "turn-1",
      title: "Push to main",
      risk: "high",
      details: { branch: "main" },
      approvers: ["lead"],
      onTimeout: "escalate",
    });
    expect(Date.parse(asked?.expiresAt ?? "") - Date.parse(asked?.createdAt ?? "")).toBe(600_000);
    await rejectsWith(
      () => o.decideApproval(asked?.id ?? "", { decision: "deny", reason: null, channel: "api" }, as("ana")),
      "APPROVAL_FORBIDDEN",
    );
    await o.decideApproval(
      asked?.id ?? "",
      { decision: "deny", reason: "not on a Friday", channel: "api" },
      as("lead"),
    );
    expect((await until(run.id, ["completed", "failed"])).state).toBe("completed");
    expect(inputs()).toEqual([
      "turn 1 [] [|]",
      'turn 2 [Your request "Push to main" was denied by lead: "not on a Friday".] [not on a Friday|false]',
    ]);
  });

  it("asks only a turn's first request, and says so", async () => {
    const o = await runs.setUp({
      twice: profile([line("question", { text: "First?" }), line("question", { text: "Second?" })]),
    });
    const run = await o.startRun({ profile: "twice" });
    await until(run.id, ["waiting"]);
    expect((await o.listApprovals({ runId: run.id })).map((a) => a.title)).toEqual(["First?"]);
    const warnings = (await o.readEvents({ runId: run.id })).filter((e) => e.kind === "run.warning");
    expect(warnings.map((e) => e.data)).toEqual([
      { turn: 1, message: "turn 1 asked 2 times; only its first request is asked" },
    ]);
  });

  it("waits rather than pauses when a pause was asked during the turn that asked, and says so", async () => {
    // Turn 1 asks only once the test has asked for the pause (it waits for .go).
    const o = await runs.setUp({ slow: profile(["--wait-for=.go", line("question", { text: "Go on?" })]) });
    const run = await o.startRun({ profile: "slow" });
    await until(run.id, ["running"]);
    await o.controlRun(run.id, "pause");
    writeFileSync(join(runs.work, ".go"), "");
    await until(run.id, ["waiting"]);
    const waited = (await o.readEvents({ runId: run.id })).find((e) => e.kind === "run.waiting");
    expect(waited?.data).toMatchObject({
      from: "pausing",
      to: "waiting",
      turn: 1,
      kind: "question",
      pauseDropped: true,
    });
  });

  it("keeps an answer for the next turn when the turn after it was cut short by its node's shutdown", async () => {
    const o = await runs.setUp(
      { slow: profile([line("question", { text: "Which branch?" }), "--later=3000"]) },
      { supervise: false },
    );
    const first = o.runSupervisor({ pollMs: 100 });
    first.start();
    const run = await o.startRun({ profile: "slow" });
    await until(run.id, ["waiting"]);
    const [asked] = await o.listApprovals({ runId: run.id });
    await o.decideApproval(asked?.id ?? "", { decision: "approve", reason: "main", channel: "api" }, as("ana"));
    // Turn 2 has read its input (the answer) when the node stops.
    await waitFor("turn 2 to read its input", async () => (inputs().length === 2 ? true : null));
    await first.stop();
    expect((await o.listRunTurns(run.id)).map((t) => t.outcome)).toEqual(["exited", "interrupted"]);
    o.runSupervisor({ pollMs: 100 }).start();
    expect((await until(run.id, ["completed", "failed"])).state).toBe("completed");
    const answered = 'You asked: "Which branch?". ana answered: "main".';
    expect(inputs()).toEqual(["turn 1 [] [|]", `turn 2 [${answered}] [main|true]`, `turn 3 [${answered}] [main|true]`]);
  });

  it("says so when a turn that asked is interrupted by its node's shutdown, and asks nothing", async () => {
    const o = await runs.setUp(
      { slow: profile([line("question", { text: "Which?" }), "--linger=5000"]) },
      { supervise: false },
    );
    const supervisor = o.runSupervisor({ pollMs: 100 });
    supervisor.start();
    const run = await o.startRun({ profile: "slow" });
    await waitFor("the question's telemetry", async () =>
      (await o.readEvents({ runId: run.id })).some((e) => e.kind === "run.question") ? true : null,
    );
    await supervisor.stop();
    expect((await o.getRun(run.id))?.state).toBe("running");
    expect(await o.listApprovals({ runId: run.id })).toEqual([]);
    const warnings = (await o.readEvents({ runId: run.id })).filter((e) => e.kind === "run.warning");
    expect(warnings.map((e) => e.data)).toEqual([
      { turn: 1, message: "turn 1's question was not asked: the turn was interrupted" },
    ]);
  });

  it("says so when a turn's request is not asked because the same turn completed the run", async () => {
    const o = await runs.setUp({
      done: profile([line("question", { text: "Anything else?" })], { completion: { exitCode: 0 } }),
    });
    const run = await o.startRun({ profile: "done" });
    expect((await until(run.id, ["completed", "failed", "waiting"])).state).toBe("completed");
    expect(await o.listApprovals({ runId: run.id })).toEqual([]);
    const warnings = (await o.readEvents({ runId: run.id })).filter((e) => e.kind === "run.warning");
    expect(warnings.map((e) => e.data)).toEqual([
      { turn: 1, message: "turn 1's question was not asked: the run completed (exit_code in the same turn)" },
    ]);
  });

  it("asks before the first turn: the starter may not approve, another person starts it, and turn 1 gets the answer", async () => {
    const o = await runs.setUp({
      gated: profile([], { approvals: { beforeFirstTurn: true } }),
      titled: profile([], { approvals: { beforeFirstTurn: "Run the migration on prod?" } }),
    });
    const run = await o.startRun({ profile: "gated" }, { createdBy: "ci" });
    expect(run.state).toBe("waiting");
    const [asked] = await o.listApprovals({ runId: run.id });
    expect(asked).toMatchObject({ step: "before-first-turn", title: "Start a gated run?", requestedBy: "ci" });
    await rejectsWith(
      () => o.decideApproval(asked?.id ?? "", { decision: "approve", reason: null, channel: "api" }, as("ci")),
      "APPROVAL_FORBIDDEN",
    );
    await o.decideApproval(asked?.id ?? "", { decision: "approve", reason: "go", channel: "api" }, as("ana"));
    expect((await until(run.id, ["completed", "failed"])).state).toBe("completed");
    expect(inputs()[0]).toBe('turn 1 [Your request "Start a gated run?" was approved by ana: "go".] [go|true]');

    const titled = await o.startRun({ profile: "titled" });
    expect((await o.listApprovals({ runId: titled.id }))[0]?.title).toBe("Run the migration on prod?");
    // A rerun asks again.
    await o.controlRun(titled.id, "cancel");
    const again = await o.rerunRun(titled.id);
    expect(again.state).toBe("waiting");
  });
});
