/**
 * The approval rules as tables: who may decide (`mayDecide`), what one decision does to a request
 * (`decide`), and what the watchdog does when its time is up (`timeOut`). Pure, so every case
 * is one call on plain data.
 */
import { describe, expect, it } from "vitest";
import {
  type Approval,
  type ApprovalDecision,
  type ApprovalRequest,
  type ApprovalState,
  buildNewApproval,
  type Decider,
  decide,
  mayDecide,
  type OnTimeout,
  timeOut,
} from "./approval.js";
import type { Risk } from "./gate-policy.js";

const T0 = "2030-01-01T00:00:00.000Z";
const T1 = "2030-01-01T00:01:00.000Z";
const T2 = "2030-01-01T00:02:00.000Z";

function approval(overrides: Partial<Approval> = {}): Approval {
  return {
    id: "ap1",
    jobId: "job1",
    runId: null,
    kind: "approval",
    step: "approval:deploy#1",
    title: "Deploy to production",
    details: { service: "api" },
    risk: "high",
    approvers: [],
    quorum: 1,
    requestedBy: null,
    onTimeout: "deny",
    execution: null,
    test: false,
    state: "pending",
    decisions: [],
    outcome: null,
    createdAt: T0,
    expiresAt: T2,
    settledAt: null,
    version: 1,
    ...overrides,
  };
}

function decider(name: string, identities: string[] = [], mayOperate = true): Decider {
  return { name, identities, mayOperate };
}

const approve = { decision: "approve" as const, reason: "looks fine", channel: "api" as const };
const deny = { decision: "deny" as const, reason: "not now", channel: "dashboard" as const };

describe("mayDecide", () => {
  const cases: Array<[string, Partial<Approval>, Decider, string | null]> = [
    ["any operator when approvers is empty", {}, decider("ana"), null],
    ["not a non-operator when approvers is empty", {}, decider("viewer", [], false), "operator scope needed"],
    ["a listed token name", { approvers: ["ana", "bo"] }, decider("bo"), null],
    ["not an unlisted token name", { approvers: ["ana"] }, decider("bo"), "not among the approvers"],
    ["a listed name even without operator scope", { approvers: ["ana"] }, decider("ana", [], false), null],
    ["a member of a listed group", { approvers: ["group:sre"] }, decider("bo", ["group:sre"]), null],
    ["not a member of another group", { approvers: ["group:sre"] }, decider("bo", ["group:dev"]), "not among"],
    ["a listed telegram id", { approvers: ["telegram:42"] }, decider("tg", ["telegram:42"]), null],
    ["not another telegram id", { approvers: ["telegram:42"] }, decider("tg", ["telegram:43"]), "not among"],
    ["not the requester, by name", { requestedBy: "ana" }, decider("ana"), "asked for this approval"],
    [
      "not the requester, even when listed",
      { requestedBy: "ana", approvers: ["ana", "bo"] },
      decider("ana"),
      "asked for this approval",
    ],
    [
      "not the requester through an identity",
      { requestedBy: "telegram:42", approvers: ["telegram:42"] },
      decider("tg", ["telegram:42"]),
      "asked for this approval",
    ],
    ["someone other than the requester", { requestedBy: "ana" }, decider("bo"), null],
  ];
  it.each(cases)("%s", (_, overrides, who, refusal) => {
    const result = mayDecide(approval(overrides), who);
    if (refusal === null) expect(result).toBeNull();
    else expect(result).toContain(refusal);
  });
});

describe("decide", () => {
  it("an approval with quorum 1 settles the request as approved", () => {
    const result = decide(approval(), approve, decider("ana"), T1);
    expect(result).toEqual({
      ok: true,
      settled: true,
      approval: approval({
        state: "approved",
        decisions: [{ decision: "approve", by: "ana", channel: "api", reason: "looks fine", at: T1 }],
        outcome: { approved: true, decidedBy: "ana", channel: "api", reason: "looks fine", at: T1, timedOut: false },
        settledAt: T1,
        version: 2,
      }),
    });
  });

  it("a denial settles at once, even with a quorum", () => {
    const result = decide(approval({ quorum: 3 }), deny, decider("bo"), T1);
    expect(result).toMatchObject({
      ok: true,
      settled: true,
      approval: {
        state: "denied",
        outcome: { approved: false, decidedBy: "bo", channel: "dashboard", reason: "not now", at: T1, timedOut: false },
        settledAt: T1,
        version: 2,
      },
    });
  });

  it("quorum 2 needs two different approvers", () => {
    const first = decide(approval({ quorum: 2 }), approve, decider("ana"), T1);
    expect(first).toMatchObject({ ok: true, settled: false, approval: { state: "pending", settledAt: null } });
    if (!first.ok) throw new Error("unreachable");
    expect(first.approval.decisions).toHaveLength(1);
    expect(first.approval.outcome).toBeNull();
    expect(first.approval.version).toBe(2);

    const again = decide(first.approval, approve, decider("ana"), T2);
    expect(again).toMatchObject({ ok: false, code: "APPROVAL_ALREADY_DECIDED", state: "pending" });

    const second = decide(first.approval, { ...approve, channel: "cli" }, decider("bo"), T2);
    expect(second).toMatchObject({
      ok: true,
      settled: true,
      approval: {
        state: "approved",
        outcome: { approved: true, decidedBy: "ana, bo", channel: "cli", at: T2, timedOut: false },
        settledAt: T2,
        version: 3,
      },
    });
  });

  it("a denial after one approval of a quorum denies", () => {
    const first = decide(approval({ quorum: 2 }), approve, decider("ana"), T1);
    if (!first.ok) throw new Error("unreachable");
    const second = decide(first.approval, deny, decider("ana"), T2);
    expect(second).toMatchObject({ ok: true, settled: true, approval: { state: "denied" } });
    if (!second.ok) throw new Error("unreachable");
    expect(second.approval.decisions.map((d) => [d.by, d.decision])).toEqual([
      ["ana", "approve"],
      ["ana", "deny"],
    ]);
  });

  it("the requester cannot approve or deny", () => {
    for (const d of [approve, deny]) {
      expect(decide(approval({ requestedBy: "ana" }), d, decider("ana"), T1)).toMatchObject({
        ok: false,
        code: "APPROVAL_FORBIDDEN",
        state: "pending",
      });
    }
  });

  it("someone not among the approvers is refused", () => {
    const result = decide(approval({ approvers: ["group:sre"] }), approve, decider("bo", ["group:dev"]), T1);
    expect(result).toMatchObject({ ok: false, code: "APPROVAL_FORBIDDEN", state: "pending" });
  });

  it.each([
    ["a listed token name", ["ana"], decider("ana")],
    ["a member of a listed group", ["group:sre"], decider("bo", ["group:sre"])],
    ["a listed telegram id", ["telegram:42"], decider("tg", ["telegram:42"], false)],
  ] as const)("approvers by %s may decide", (_, approvers, who) => {
    expect(decide(approval({ approvers: [...approvers] }), approve, who, T1)).toMatchObject({
      ok: true,
      settled: true,
    });
  });

  const settled: Array<[Exclude<ApprovalState, "pending">, string]> = [
    ["approved", "by ana"],
    ["denied", "by ana"],
    ["timed_out", "by watchdog"],
    ["cancelled", ""],
  ];
  it.each(settled)("a late decision on a %s request is refused with its state", (state, by) => {
    const outcome =
      state === "cancelled"
        ? null
        : {
            approved: state === "approved",
            decidedBy: by.slice(3),
            channel: "api" as const,
            reason: null,
            at: T1,
            timedOut: state === "timed_out",
          };
    const request = approval({ state, outcome, settledAt: T1, version: 2 });
    for (const d of [approve, deny]) {
      const result = decide(request, d, decider("zed"), T2);
      expect(result).toMatchObject({ ok: false, code: "APPROVAL_SETTLED", state });
      if (result.ok) throw new Error("unreachable");
      expect(result.message).toContain(state);
      if (by !== "") expect(result.message).toContain(by);
    }
  });

  it("does not change the request it was given", () => {
    const request = approval({ quorum: 2 });
    const copy = structuredClone(request);
    decide(request, approve, decider("ana"), T1);
    expect(request).toEqual(copy);
  });
});

describe("timeOut", () => {
  const cases: Array<[OnTimeout, boolean, string]> = [
    ["deny", false, "timed out; onTimeout is deny"],
    ["approve", true, "timed out; onTimeout is approve"],
  ];
  it.each(cases)("onTimeout %s: approved %s", (onTimeout, approved, reason) => {
    const earlier: ApprovalDecision = { decision: "approve", by: "ana", channel: "api", reason: null, at: T1 };
    const result = timeOut(approval({ onTimeout, quorum: 2, decisions: [earlier] }), T2);
    expect(result).toEqual({
      approval: approval({
        onTimeout,
        quorum: 2,
        state: "timed_out",
        decisions: [
          earlier,
          { decision: approved ? "approve" : "deny", by: "watchdog", channel: "watchdog", reason, at: T2 },
        ],
        outcome: { approved, decidedBy: "watchdog", channel: "watchdog", reason, at: T2, timedOut: true },
        settledAt: T2,
        version: 2,
      }),
    });
  });

  it("an escalate request stays pending: its alert escalates instead", () => {
    expect(timeOut(approval({ onTimeout: "escalate" }), T2)).toBeNull();
  });

  it.each(["approved", "denied", "timed_out", "cancelled"] as const)("a %s request does not time out", (state) => {
    expect(timeOut(approval({ state, settledAt: T1 }), T2)).toBeNull();
  });
});

describe("buildNewApproval", () => {
  const ids = { id: "ap1", step: "approval:1", defaultTimeoutMs: 600_000 };
  const request = (over: Partial<ApprovalRequest> = {}): ApprovalRequest => ({ title: "Restart the api", ...over });

  it.each([
    ["an empty title", request({ title: " " }), null, "requestApproval: title must be 1-300 characters"],
    ["an unknown risk", request({ risk: "severe" as Risk }), null, "risk must be one of"],
    ["approvers not a list", request({ approvers: "ops" as unknown as string[] }), null, "approvers must be a list"],
    ["a quorum of 0", request({ quorum: 0 }), null, "quorum must be a whole number from 1 to 20"],
    ["a quorum above the people listed", request({ approvers: ["ada"], quorum: 2 }), null, "only 1 approver(s)"],
    ["a timeout under 1 s", request({ timeout: 500 }), null, "timeout must be from 1 s to 366 days"],
    [
      "a group the config does not define",
      request({ approvers: ["ada", "group:sres"] }),
      ["sre"],
      "approvers names group:sres, a group the config does not define (approvals.groups: sre)",
    ],
    [
      "any group, when the config defines none",
      request({ approvers: ["group:sre"] }),
      [],
      "approvers names group:sre, a group the config does not define (approvals.groups: none)",
    ],
  ] as const)("refuses %s", (_label, r, groups, message) => {
    expect(() => buildNewApproval(r, { ...ids, groups })).toThrow(message);
  });

  it("accepts defined groups, and any group when it is not told the config's", () => {
    const known = buildNewApproval(request({ approvers: ["group:sre", "telegram:42"] }), { ...ids, groups: ["sre"] });
    expect(known).toMatchObject({ approvers: ["group:sre", "telegram:42"], timeoutMs: 600_000, risk: "medium" });
    expect(buildNewApproval(request({ approvers: ["group:anyone"] }), ids).approvers).toEqual(["group:anyone"]);
  });
});
