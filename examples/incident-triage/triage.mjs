// The triage session: one durable job per incident, moving through the agent's steps. Each
// step is a ctx.step, so a session that parks (for an approval) or dies with its worker goes
// on where it was and never asks the agent, nor applies a fix, twice. The risky step goes
// through the gate policy of overseer.config.json; the final status is inferred from what
// happened (status.mjs); what the session taught is kept as a lesson for the next one.
import { defineTask, PermanentError } from "overseer";
import { askAgent } from "./agent.mjs";
import { inferStatus, MIN_CONFIDENCE } from "./status.mjs";

export const ENVIRONMENTS = ["production", "staging"];

/** How long a fix waits for a person before its alert escalates (it keeps waiting after). */
const APPROVAL_TIMEOUT = process.env.INCIDENT_APPROVAL_TIMEOUT ?? "15m";

export const triage = defineTask(
  "triage",
  async (payload, ctx) => {
    const incident = await ctx.step("intake", () => checkIncident(payload));
    // Lessons of earlier incidents like this one, for the agent's context (and the dashboard shows them too).
    const lessons = await ctx.step("recall", async () =>
      (await ctx.similarLessons("job")).slice(0, 3).map(({ lesson, reason }) => ({
        id: lesson.id,
        title: lesson.title,
        outcome: lesson.outcome,
        matched: reason.terms,
      })),
    );
    const context = { incident, lessons };
    const triaged = await ctx.step("triage", () => askAgent("triage", context));
    const investigation = await ctx.step("investigate", () => askAgent("investigate", { ...context, triaged }));
    if (investigation.confidence < MIN_CONFIDENCE) return finish(ctx, incident, { investigation });

    const proposal = await ctx.step("propose-fix", () => askAgent("propose", { ...context, investigation }));
    const gate = await ctx.gate(proposal.action, {
      risk: proposal.risk,
      environment: incident.environment,
      confidence: investigation.confidence,
      title: `${proposal.action} on ${incident.service} (${incident.environment})`,
      details: {
        incident: incident.title,
        finding: investigation.finding,
        confidence: investigation.confidence,
        command: proposal.command,
      },
      approvers: ["group:oncall"],
      timeout: APPROVAL_TIMEOUT,
      onTimeout: "escalate",
    });
    if (!gate.approved) return finish(ctx, incident, { investigation, proposal, gate });

    const fix = await ctx.step("apply-fix", () => applyFix(proposal));
    const verification = await ctx.step("verify", () => askAgent("verify", { ...context, proposal, fix }));
    return finish(ctx, incident, { investigation, proposal, gate, fix, verification });
  },
  { timeout: "10m" },
);

/** The session's outcome, and a lesson for the next incident like it (a review teaches nothing yet). */
async function finish(ctx, incident, session) {
  const outcome = inferStatus(session);
  if (outcome.status !== "needs_review") {
    await ctx.recordLesson({
      title: incident.title,
      body: [
        `Finding: ${session.investigation.finding} (confidence ${session.investigation.confidence}).`,
        ...(session.proposal ? [`Proposed: ${session.proposal.command}.`] : []),
        ...(session.verification ? [`Check after the fix: ${session.verification.note}.`] : []),
      ].join("\n"),
      outcome: `${outcome.status}: ${outcome.reason}`,
      tags: [
        `service:${incident.service}`,
        incident.environment,
        ...(session.proposal ? [session.proposal.action] : []),
      ],
    });
  }
  return { ...outcome, ...(session.proposal ? { action: session.proposal.action } : {}) };
}

/** The remediation runner: here it only records the command; a real one runs it (kubectl, an API). */
function applyFix(proposal) {
  return { applied: true, command: proposal.command };
}

/** An incident as the session takes it; bad input is a permanent error (it would fail every retry alike). */
export function checkIncident(input) {
  const problems = incidentProblems(input);
  if (problems.length > 0)
    throw new PermanentError(`not an incident: ${problems.join("; ")}`, { code: "BAD_INCIDENT" });
  const { title, service, environment, description = "", scenario, delayMs } = input;
  return {
    title: title.trim(),
    service,
    environment,
    description,
    ...(scenario ? { scenario } : {}),
    ...(delayMs ? { delayMs } : {}),
  };
}

/** What is wrong with an incident, one phrase per field; empty when it is fine. */
export function incidentProblems(input) {
  if (input === null || typeof input !== "object" || Array.isArray(input)) return ["send a JSON object"];
  const problems = [];
  if (typeof input.title !== "string" || input.title.trim() === "" || input.title.length > 200) {
    problems.push("title must be 1-200 characters");
  }
  // At most 55 characters, so that its lesson's tag (`service:<name>`) stays within 64.
  if (typeof input.service !== "string" || !/^[a-z0-9][a-z0-9-]{0,54}$/.test(input.service)) {
    problems.push("service must be a lower-case name such as checkout-api (at most 55 characters)");
  }
  if (!ENVIRONMENTS.includes(input.environment)) problems.push(`environment must be one of ${ENVIRONMENTS.join(", ")}`);
  if (input.description !== undefined && (typeof input.description !== "string" || input.description.length > 4000)) {
    problems.push("description must be text of at most 4000 characters");
  }
  if (
    input.delayMs !== undefined &&
    !(Number.isInteger(input.delayMs) && input.delayMs >= 0 && input.delayMs <= 60_000)
  ) {
    problems.push("delayMs must be 0-60000");
  }
  return problems;
}
