import { describe, expect, it } from "vitest";
import type { Approval } from "./approval.js";
import { DEFAULT_RUN_APPROVALS } from "./run.js";
import { answerStep, askRequest, firstTurnRequest, isAsk, toRunAnswer } from "./run-ask.js";

const POLICY = { approvers: ["group:leads"], quorum: 1, timeoutMs: 60_000, onTimeout: "escalate" as const };

describe("what a run asks", () => {
  it("tells requests from the rest of the telemetry", () => {
    expect(isAsk({ kind: "question", text: "?" })).toBe(true);
    expect(isAsk({ kind: "approval_request", title: "go" })).toBe(true);
    expect(isAsk({ kind: "progress", value: 1 })).toBe(false);
  });

  it("asks a question under the run's policy, at low risk, as the turn's step", () => {
    expect(askRequest({ kind: "question", text: "Which database?" }, POLICY, { id: "a1", turn: 3 })).toEqual({
      id: "a1",
      kind: "question",
      step: "turn-3",
      title: "Which database?",
      details: null,
      risk: "low",
      approvers: ["group:leads"],
      quorum: 1,
      requestedBy: null,
      onTimeout: "escalate",
      timeoutMs: 60_000,
    });
  });

  it("shows a question too long for a title whole in the details", () => {
    const text = `${"why ".repeat(100)}?`;
    const asked = askRequest({ kind: "question", text, details: { a: 1 } }, POLICY, { id: "a1", turn: 1 });
    expect(asked.title).toHaveLength(300);
    expect(asked.title.endsWith("…")).toBe(true);
    expect(asked.details).toEqual({ question: text, details: { a: 1 } });
  });

  it("asks an approval with its own risk, or medium, under the defaults when the profile has no policy", () => {
    const asked = askRequest(
      { kind: "approval_request", title: "Deploy", risk: "critical", details: { env: "prod" } },
      undefined,
      { id: "a2", turn: 1 },
    );
    expect(asked).toMatchObject({
      kind: "approval",
      title: "Deploy",
      risk: "critical",
      details: { env: "prod" },
      approvers: DEFAULT_RUN_APPROVALS.approvers,
      timeoutMs: DEFAULT_RUN_APPROVALS.timeoutMs,
      onTimeout: "deny",
    });
    expect(askRequest({ kind: "approval_request", title: "Go" }, undefined, { id: "a3", turn: 1 }).risk).toBe("medium");
  });

  it("asks before the first turn only when the policy says so, and never lets the starter decide", () => {
    const ids = { id: "f1", profile: "nightly", params: { repo: "x" }, createdBy: "ci" };
    expect(firstTurnRequest(undefined, ids)).toBeNull();
    expect(firstTurnRequest(POLICY, ids)).toBeNull();
    expect(firstTurnRequest({ ...POLICY, beforeFirstTurn: "Start nightly?" }, ids)).toMatchObject({
      id: "f1",
      kind: "approval",
      step: "before-first-turn",
      title: "Start nightly?",
      details: { profile: "nightly", params: { repo: "x" } },
      requestedBy: "ci",
    });
    expect(
      firstTurnRequest({ ...POLICY, beforeFirstTurn: "Go?" }, { ...ids, createdBy: null })?.requestedBy,
    ).toBeNull();
  });

  it("gives a turn the answer to the last earlier turn that ran to its end, past turns cut short", () => {
    const t = (turn: number, outcome: string) => ({ turn, outcome });
    expect(answerStep([], 1)).toBe("before-first-turn");
    expect(answerStep([t(1, "exited")], 2)).toBe("turn-1");
    expect(answerStep([t(1, "exited"), t(2, "interrupted")], 3)).toBe("turn-1");
    expect(answerStep([t(1, "exited"), t(2, "lost"), t(3, "spawn_failed")], 4)).toBe("turn-1");
    expect(answerStep([t(1, "interrupted")], 2)).toBe("before-first-turn");
    expect(answerStep([t(1, "exited"), t(2, "exited"), t(3, "running")], 3)).toBe("turn-2");
  });

  it("hands a settled request on as the next turn's answer: the whole question, the reason, no reason on a timeout", () => {
    const settled = (p: Partial<Approval>): Approval =>
      ({
        kind: "question",
        title: "Which…",
        details: { question: "Which database, in full?" },
        outcome: { approved: true, decidedBy: "ana", channel: "api", reason: "SQLite", at: "", timedOut: false },
        ...p,
      }) as Approval;
    expect(toRunAnswer(settled({}))).toEqual({
      kind: "question",
      asked: "Which database, in full?",
      approved: true,
      text: "SQLite",
      by: "ana",
      timedOut: false,
    });
    expect(toRunAnswer(settled({ kind: "approval", title: "Deploy" }))?.asked).toBe("Deploy");
    const timedOut = {
      approved: false,
      decidedBy: "watchdog",
      channel: "watchdog" as const,
      reason: "timed out",
      at: "",
    };
    expect(toRunAnswer(settled({ outcome: { ...timedOut, timedOut: true } }))).toMatchObject({
      text: null,
      timedOut: true,
    });
    expect(toRunAnswer(settled({ outcome: null }))).toBeNull();
  });
});
