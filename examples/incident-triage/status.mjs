// A session's final status, inferred from what happened, never taken from the agent's last
// message: `resolved` only when an applied fix was verified healthy. Pure, so every case is a
// line of its table test.

/** Below this, an investigation's finding is not acted on: a person reviews it first. */
export const MIN_CONFIDENCE = 0.5;

/**
 * @param {{investigation: {finding: string, confidence: number},
 *   proposal?: {summary: string}, gate?: {approved: boolean, reason: string,
 *   approval: null | {decidedBy: string | null, reason: string | null, timedOut: boolean}},
 *   fix?: {applied: boolean}, verification?: {healthy: boolean, note: string}}} session
 * @returns {{status: "resolved" | "escalated" | "needs_review", reason: string}}
 */
export function inferStatus(session) {
  const { investigation, proposal, gate, fix, verification } = session;
  if (investigation.confidence < MIN_CONFIDENCE) {
    return {
      status: "needs_review",
      reason: `the investigation was ${investigation.confidence} sure, below ${MIN_CONFIDENCE}: ${investigation.finding}`,
    };
  }
  if (proposal === undefined || gate === undefined) {
    return { status: "needs_review", reason: "the agent proposed no fix" };
  }
  if (!gate.approved) {
    const who = gate.approval?.timedOut ? "nobody in time" : (gate.approval?.decidedBy ?? gate.reason);
    const why = gate.approval?.reason ? `: ${gate.approval.reason}` : "";
    return { status: "escalated", reason: `the fix was denied by ${who}${why}; a person takes it from here` };
  }
  if (!fix?.applied) return { status: "needs_review", reason: "the fix was approved but not applied" };
  if (!verification?.healthy) {
    return {
      status: "escalated",
      reason: `the fix was applied but the service is still unhealthy: ${verification?.note ?? "no check ran"}`,
    };
  }
  return { status: "resolved", reason: `${proposal.summary}; ${verification.note}` };
}
