/**
 * For the MCP tests: the settings that turn on the built-in `overseer.command`, and reading a
 * tool's answer.
 */

import { tmpdir } from "node:os";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { expect } from "vitest";
import type { CommandsConfig } from "../config/commands.js";

/**
 * The `commands` config the MCP tests run the built-in `overseer.command` with: execution stays
 * dry-run, so nothing runs, and the folder is never used.
 */
export const TEST_COMMANDS: CommandsConfig = {
  approvers: [],
  risk: "high",
  approvalTimeoutMs: null,
  timeoutMs: 60_000,
  cwd: tmpdir(),
};

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
