/**
 * `overseer mcp` through the built binary, spoken to by the MCP SDK's own client over stdio, on
 * a database of the test backend: an agent proposes a command, a person decides it with the SDK
 * (as the dashboard would), and the agent gets the decision back with wait_for_decision. The
 * agent acts as `--as NAME`, so it cannot approve its own proposal; stdout carries protocol
 * messages only, so the client would fail on anything else.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { describe, expect, it, onTestFinished } from "vitest";
import { TOOLS } from "../mcp/tools.js";
import { BIN, cliSandbox } from "../test-support/cli.js";
import { testApi } from "../test-support/http.js";
import { answer, pendingRequest, refusal, TEST_COMMANDS } from "../test-support/mcp.js";
import { TEST_BACKEND, testDatabase } from "../test-support/test-backend.js";

const cli = cliSandbox("overseer-mcp-cli-");

async function agentOn(database: string, as: string) {
  return agent(["--database", database, "mcp", "--as", as]);
}

async function agent(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, ...args],
    // One folder per test, however many agents it starts: the sandbox removes it afterwards.
    cwd: cli.dir || cli.tempDir(),
    env: { ...(process.env as Record<string, string>), OVERSEER_LOG_LEVEL: "warn", ...env },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (d) => (stderr += d));
  const client = new Client({ name: "overseer-test-agent", version: "1.0.0" });
  await client.connect(transport);
  onTestFinished(() => client.close());
  return { client, stderr: () => stderr };
}

describe(`overseer mcp on ${TEST_BACKEND}`, () => {
  it("an agent proposes a command, a person approves it, and wait_for_decision brings the result", async () => {
    const db = await testDatabase("overseer-mcp-");
    const overseer = await db.open({ commands: TEST_COMMANDS });
    await overseer.worker({ pollMs: 20 }).start();
    const { client: agent, stderr } = await agentOn(db.database, "agent-7");

    const { tools } = await agent.listTools();
    expect(tools.map((t) => t.name)).toEqual(TOOLS.map((t) => t.name));

    const proposed = answer(
      await agent.callTool({
        name: "propose_command",
        arguments: { command: "npm publish --dry-run", title: "Publish 0.2.0", reason: "release day", risk: "high" },
      }),
    );
    expect(proposed).toMatchObject({ state: "queued", created: true });
    const job = await overseer.getJob(proposed.jobId);
    expect(job).toMatchObject({
      task: "overseer.command",
      payload: { command: "npm publish --dry-run", title: "Publish 0.2.0", reason: "release day", risk: "high" },
      enqueuedBy: "agent-7",
    });

    // Until the worker has asked, and while nobody decides, each wait runs out and says so.
    const approvalId = await pendingRequest(agent, proposed.jobId);
    expect(answer(await agent.callTool({ name: "get_job", arguments: { id: proposed.jobId } }))).toMatchObject({
      state: "awaiting_approval",
      approvals: [{ id: approvalId, title: "Publish 0.2.0", state: "pending", risk: "high", outcome: null }],
    });

    // The agent is the one who asked: it may not approve its own proposal.
    expect(
      refusal(await agent.callTool({ name: "decide_approval", arguments: { id: approvalId, decision: "approve" } })),
    ).toMatch(/^APPROVAL_FORBIDDEN: /);

    // A person decides, as the dashboard does; the agent's wait brings the decision back.
    const waiting = agent.callTool({
      name: "wait_for_decision",
      arguments: { jobId: proposed.jobId, timeoutSeconds: 600 },
    });
    await overseer.decideApproval(
      approvalId,
      { decision: "approve", reason: "go", channel: "dashboard" },
      {
        name: "alice",
        scope: "operator",
      },
    );
    expect(answer(await waiting)).toMatchObject({
      done: true,
      waitTimedOut: false,
      job: {
        state: "succeeded",
        result: { decision: "approved", decidedBy: "alice", reason: "go", executed: false, dryRun: true },
      },
      approval: { id: approvalId, state: "approved", outcome: { approved: true, decidedBy: "alice" } },
    });
    expect(stderr()).toBe("");
  });

  it("decides as --as NAME with operator rights, and takes claims and records lessons", async () => {
    const db = await testDatabase("overseer-mcp-");
    const overseer = await db.open({ commands: TEST_COMMANDS });
    await overseer.worker({ pollMs: 20 }).start();
    const asked = await overseer.enqueue("overseer.approval", { title: "Rotate the API key", risk: "medium" });
    const { client: reviewer } = await agentOn(db.database, "bob");

    const approvalId = await pendingRequest(reviewer, asked.id);
    const decided = answer(
      await reviewer.callTool({
        name: "decide_approval",
        arguments: { id: approvalId, decision: "deny", reason: "not during the freeze" },
      }),
    );
    expect(decided).toMatchObject({ state: "denied", outcome: { approved: false, decidedBy: "bob" } });
    const approval = await overseer.getApproval(approvalId);
    expect(approval?.decisions).toMatchObject([{ by: "bob", channel: "cli", reason: "not during the freeze" }]);

    const took = answer(
      await reviewer.callTool({
        name: "take_claim",
        arguments: { key: "story:ABC-12", owner: "bob", ttl: "5m", agent: "claude-code" },
      }),
    );
    expect(took).toMatchObject({ acquired: true, claim: { key: "story:ABC-12", owner: "bob", agent: "claude-code" } });
    expect(
      refusal(
        await reviewer.callTool({ name: "take_claim", arguments: { key: "story:ABC-12", owner: "eve", ttl: "5m" } }),
      ),
    ).toMatch(/^CLAIM_HELD: claim "story:ABC-12" is held by "bob"/);
    answer(
      await reviewer.callTool({ name: "refresh_claim", arguments: { key: "story:ABC-12", owner: "bob", ttl: "10m" } }),
    );
    answer(await reviewer.callTool({ name: "release_claim", arguments: { key: "story:ABC-12", owner: "bob" } }));
    expect(answer(await reviewer.callTool({ name: "list_claims", arguments: {} })).claims).toEqual([]);

    const recorded = answer(
      await reviewer.callTool({
        name: "record_lesson",
        arguments: {
          title: "API key rotation during a freeze",
          outcome: "denied: wait for the freeze to end",
          tags: ["keys"],
        },
      }),
    );
    expect(recorded).toMatchObject({ created: true, lesson: { createdBy: "bob", tags: ["keys"] } });
    const found = answer(
      await reviewer.callTool({ name: "search_lessons", arguments: { text: "rotate keys in a freeze" } }),
    );
    expect(found.lessons.map((l: { lesson: { id: string } }) => l.lesson.id)).toEqual([recorded.lesson.id]);
  });

  it("through a server (--url) acts as the token: a viewer's writes are refused by the server", async () => {
    const api = await testApi();
    await api.overseer.takeClaim("story:ABC-3", "agent-1", "1m");
    const { client: viewer } = await agent(["mcp", "--url", api.url], { OVERSEER_TOKEN: api.tokens.viewer });
    expect(answer(await viewer.callTool({ name: "list_claims", arguments: {} })).claims).toMatchObject([
      { key: "story:ABC-3", owner: "agent-1" },
    ]);
    expect(
      refusal(await viewer.callTool({ name: "take_claim", arguments: { key: "story:ABC-4", owner: "a", ttl: "1m" } })),
    ).toBe('FORBIDDEN: token "test-viewer" has scope viewer; this needs operator');

    const { client: operator } = await agent(["mcp", "--url", api.url], { OVERSEER_TOKEN: api.tokens.operator });
    const proposed = answer(
      await operator.callTool({ name: "propose_command", arguments: { command: "make deploy" } }),
    );
    expect(await api.overseer.getJob(proposed.jobId)).toMatchObject({
      task: "overseer.command",
      payload: { command: "make deploy" },
      enqueuedBy: "test-operator",
    });
  });
});
