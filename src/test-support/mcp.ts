/**
 * For the MCP tests: stand-ins for the built-in tasks `overseer.command` and `overseer.approval`
 * (they ask for approval and end with the shapes the real ones return), and reading a tool's
 * answer.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { expect } from "vitest";
import { APPROVAL_TASK, COMMAND_TASK } from "../mcp/tools.js";
import type { Overseer } from "../sdk/overseer.js";

interface CommandPayload {
  command: string;
  title?: string;
  reason?: string;
  risk?: "low" | "medium" | "high" | "critical";
}

interface ApprovalPayload {
  title: string;
  details?: unknown;
  risk?: "low" | "medium" | "high" | "critical";
}

/** Defines the two stand-in tasks on `overseer`; its worker runs them. */
export function defineStandInTasks(overseer: Overseer): void {
  overseer.defineTask(COMMAND_TASK, async (p: CommandPayload, ctx) => {
    const outcome = await ctx.requestApproval({
      title: p.title ?? `Run: ${p.command}`,
      details: { command: p.command, reason: p.reason ?? null },
      risk: p.risk ?? "medium",
    });
    return {
      decision: outcome.approved ? "approved" : "denied",
      decidedBy: outcome.decidedBy,
      reason: outcome.reason,
      executed: false,
      dryRun: true,
    };
  });
  overseer.defineTask(APPROVAL_TASK, async (p: ApprovalPayload, ctx) => {
    const outcome = await ctx.requestApproval({ title: p.title, details: p.details ?? null, risk: p.risk ?? "medium" });
    return {
      approved: outcome.approved,
      decidedBy: outcome.decidedBy,
      reason: outcome.reason,
      timedOut: outcome.timedOut,
    };
  });
}

/** A tool's successful answer, as its structured content. */
export function answer(result: unknown): any {
  const r = result as CallToolResult;
  expect(r.isError, `the tool failed: ${JSON.stringify(r.content)}`).not.toBe(true);
  return r.structuredContent;
}

/** A tool's refusal: its text (`CODE: message`). */
export function refusal(result: unknown): string {
  const r = result as CallToolResult;
  expect(r.isError, `the tool did not fail: ${JSON.stringify(r.content)}`).toBe(true);
  const [first] = r.content;
  return first?.type === "text" ? first.text : "";
}

/**
 * The id of the job's pending approval request, once its worker has asked: wait_for_decision
 * again until it shows one, each wait running out (a second at a time) while nobody decides.
 */
export async function pendingRequest(agent: Client, jobId: string): Promise<string> {
  for (;;) {
    const view = answer(await agent.callTool({ name: "wait_for_decision", arguments: { jobId, timeoutSeconds: 1 } }));
    expect(view).toMatchObject({ done: false, waitTimedOut: true });
    if (view.approval !== null) {
      expect(view).toMatchObject({ approval: { state: "pending" }, job: { state: "awaiting_approval" } });
      return view.approval.id;
    }
  }
}
