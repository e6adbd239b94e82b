// The final status of a session, as a table: inferred from what happened, never from the agent's
// last message.
import { describe, expect, it } from "vitest";
import { inferStatus } from "./status.mjs";

const sure = { finding: "pods crash-loop", confidence: 0.9 };
const proposal = { summary: "rolled back the deployment" };
const auto = { approved: true, reason: "rule:staging", approval: null };
const approved = {
  approved: true,
  reason: "rule:prod",
  approval: { decidedBy: "alice", reason: null, timedOut: false },
};
const denied = {
  approved: false,
  reason: "rule:prod",
  approval: { decidedBy: "bob", reason: "freeze", timedOut: false },
};
const timedOut = { approved: false, reason: "rule:prod", approval: { decidedBy: null, reason: null, timedOut: true } };
const applied = { applied: true };
const healthy = { healthy: true, note: "error rate normal", message: "Resolved." };
const sick = { healthy: false, note: "still crash-looping", message: "Resolved!" };

describe("inferStatus", () => {
  it.each([
    [
      "an unsure investigation",
      { investigation: { finding: "no pattern", confidence: 0.3 } },
      { status: "needs_review", reason: "the investigation was 0.3 sure, below 0.5: no pattern" },
    ],
    [
      "confidence exactly at the floor goes on",
      { investigation: { ...sure, confidence: 0.5 }, proposal, gate: auto, fix: applied, verification: healthy },
      { status: "resolved", reason: "rolled back the deployment; error rate normal" },
    ],
    ["no proposal", { investigation: sure }, { status: "needs_review", reason: "the agent proposed no fix" }],
    [
      "a fix denied by a person",
      { investigation: sure, proposal, gate: denied },
      { status: "escalated", reason: "the fix was denied by bob: freeze; a person takes it from here" },
    ],
    [
      "a request that timed out as a denial",
      { investigation: sure, proposal, gate: timedOut },
      { status: "escalated", reason: "the fix was denied by nobody in time; a person takes it from here" },
    ],
    [
      "approved but not applied",
      { investigation: sure, proposal, gate: approved },
      { status: "needs_review", reason: "the fix was approved but not applied" },
    ],
    [
      "applied, and the agent says resolved, but the check says unhealthy",
      { investigation: sure, proposal, gate: approved, fix: applied, verification: sick },
      { status: "escalated", reason: "the fix was applied but the service is still unhealthy: still crash-looping" },
    ],
    [
      "applied and verified after an approval",
      { investigation: sure, proposal, gate: approved, fix: applied, verification: healthy },
      { status: "resolved", reason: "rolled back the deployment; error rate normal" },
    ],
  ])("%s", (_label, session, expected) => {
    expect(inferStatus(session)).toEqual(expected);
  });
});
