/**
 * An agent asks through `overseer mcp` and a person decides in the dashboard: the official MCP
 * SDK's client drives the built CLI over stdio against the database of a real `overseer start`
 * (whose config turns on `overseer.command`); the proposal shows in the Approvals inbox with its
 * command and DRY RUN; the admin approves it in Chromium, and the agent's `wait_for_decision`
 * brings back the decision and the dry run. An agent whose MCP session runs on a viewer's token
 * cannot decide it.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterEach, describe, expect, it } from "vitest";
import { BIN } from "../test-support/cli.js";
import { dashboardHarness } from "../test-support/dashboard-harness.js";
import { answer, refusal } from "../test-support/mcp.js";

const e2e = dashboardHarness({
  prefix: "overseer-mcp-dashboard-e2e-",
  prepare(dir) {
    // The admin token is named "admin": the one who may approve commands.
    writeFileSync(join(dir, "overseer.config.json"), JSON.stringify({ commands: { approvers: ["admin"] } }));
  },
  globalArgs: (dir) => ["--config", join(dir, "overseer.config.json")],
  expectedHttpStatuses: [],
  viewport: { width: 1280, height: 900 },
});

const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
});

/** `overseer [global] mcp [own]` over stdio, as an MCP client starts it. */
async function agent(global: string[], own: string[] = []): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, ...global, "mcp", ...own],
    cwd: e2e.dir,
    env: { ...(process.env as Record<string, string>), OVERSEER_LOG_LEVEL: "warn" },
    stderr: "pipe",
  });
  const client = new Client({ name: "e2e-agent", version: "1.0.0" });
  await client.connect(transport);
  clients.push(client);
  return client;
}

describe("an MCP agent's proposal decided in the dashboard", () => {
  it("the agent proposes over stdio, the admin approves in the inbox, and the agent gets the decision", async () => {
    const claude = await agent(["--database", join(e2e.dir, "e2e.db")], ["--as", "claude"]);
    const proposed = answer(
      await claude.callTool({
        name: "propose_command",
        arguments: { command: "gh pr merge 7 --squash", title: "Merge PR 7", reason: "tests pass" },
      }),
    );
    await e2e.eventually(
      async () => (await e2e.request("GET", `/api/v1/approvals?jobId=${proposed.jobId}&state=pending`)).items,
      (items: unknown[]) => items.length === 1,
      "the proposal's request",
    );

    // A viewer's MCP session (through the server) may read it but not decide it.
    const watcher = await agent(["--url", e2e.url, "--token", e2e.viewer]);
    const seen = answer(
      await watcher.callTool({ name: "wait_for_decision", arguments: { jobId: proposed.jobId, timeoutSeconds: 1 } }),
    );
    expect(seen).toMatchObject({ done: false, approval: { state: "pending", title: "Merge PR 7" } });
    const refused = refusal(
      await watcher.callTool({ name: "decide_approval", arguments: { id: seen.approval.id, decision: "approve" } }),
    );
    expect(refused).toMatch(/^FORBIDDEN: /);

    // The admin decides in the dashboard: the card shows the command and DRY RUN.
    await e2e.signIn(e2e.admin);
    await e2e.page.getByRole("link", { name: /^Approvals/ }).click();
    const card = e2e.page.locator("article.approval-card", { hasText: "Merge PR 7" });
    await card.waitFor();
    expect(await card.textContent()).toContain("gh pr merge 7 --squash");
    expect(await card.locator(".badge.dry-run").textContent()).toBe("DRY RUN");
    expect(await e2e.accessibilityViolations(), "inbox with an MCP proposal").toEqual([]);
    await card.getByLabel("Reason").fill("reviewed");
    await card.getByRole("button", { name: "Approve" }).click();
    // The settled request leaves the list; the page says what became of it.
    expect(await e2e.text("output[aria-label='last decision']")).toBe("Merge PR 7: approved: the job continues");

    const decided = answer(
      await claude.callTool({ name: "wait_for_decision", arguments: { jobId: proposed.jobId, timeoutSeconds: 60 } }),
    );
    expect(decided).toMatchObject({
      done: true,
      approval: { state: "approved", outcome: { approved: true, decidedBy: "admin", channel: "dashboard" } },
      job: {
        state: "succeeded",
        result: { decision: "approved", decidedBy: "admin", reason: "reviewed", executed: false, dryRun: true },
      },
    });
  });
});
