/**
 * /api/v1/mcp with the MCP SDK's own client over real HTTP on loopback: an operator's agent
 * asks for approval and gets the decision back through wait_for_decision; a viewer's agent may
 * read but its writes are tool errors naming FORBIDDEN; no token is 401; bad arguments are
 * refused with messages naming the field. On SQLite, and on PostgreSQL with the test backend.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { describe, expect, it, onTestFinished } from "vitest";
import { parseConfig } from "../config/config.js";
import { testApi } from "../test-support/http.js";
import { answer, pendingRequest, refusal, TEST_COMMANDS } from "../test-support/mcp.js";
import { TEST_BACKEND, testDatabase } from "../test-support/test-backend.js";
import { TOOLS } from "./tools.js";

/** One run profile, so that a run can be started (no supervisor runs here: it stays queued). */
const ECHO_PROFILE = parseConfig(
  { runs: { profiles: { echo: { command: "node", args: ["-e", "1"], completion: { exitCode: 0 } } } } },
  "mcp test",
).runs;

async function connect(url: string, token?: string): Promise<Client> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/api/v1/mcp`), { requestInit: { headers } });
  const client = new Client({ name: "overseer-test", version: "1.0.0" });
  await client.connect(transport);
  onTestFinished(() => client.close());
  return client;
}

describe(`the MCP endpoint on ${TEST_BACKEND}`, () => {
  it("lists every tool; an operator's agent asks, a person decides, and wait_for_decision brings the answer", async () => {
    const api = await testApi({
      open: async (o) => (await testDatabase("overseer-mcp-")).open({ ...o, commands: TEST_COMMANDS }),
    });
    await api.overseer.worker({ pollMs: 20 }).start();
    const agent = await connect(api.url, api.tokens.operator);

    const { tools } = await agent.listTools();
    expect(tools.map((t) => t.name)).toEqual(TOOLS.map((t) => t.name));
    const wait = tools.find((t) => t.name === "wait_for_decision");
    expect(wait?.annotations?.readOnlyHint).toBe(true);
    expect(wait?.inputSchema.required).toEqual(["jobId"]);

    const asked = answer(
      await agent.callTool({
        name: "request_approval",
        arguments: { title: "Drop the staging database", details: { db: "staging" }, risk: "high" },
      }),
    );
    expect(asked).toMatchObject({ state: "queued", created: true });

    // Nobody has decided yet: the wait runs out, which is an answer, not an error.
    let view = answer(
      await agent.callTool({ name: "wait_for_decision", arguments: { jobId: asked.jobId, timeoutSeconds: 1 } }),
    );
    expect(view).toMatchObject({ done: false, waitTimedOut: true, job: { id: asked.jobId } });

    // The agent may not approve what it asked for.
    const pending = await pendingRequest(agent, asked.jobId);
    const own = refusal(
      await agent.callTool({ name: "decide_approval", arguments: { id: pending, decision: "approve" } }),
    );
    expect(own).toMatch(/^APPROVAL_FORBIDDEN: /);

    // A person decides over the HTTP API, as the dashboard does.
    const decided = await api.request("POST", `/api/v1/approvals/${pending}/decision`, {
      token: api.tokens.admin,
      body: { decision: "approve", reason: "staging only" },
    });
    expect(decided.status).toBe(200);
    view = answer(
      await agent.callTool({ name: "wait_for_decision", arguments: { jobId: asked.jobId, timeoutSeconds: 30 } }),
    );
    expect(view).toMatchObject({
      done: true,
      waitTimedOut: false,
      job: {
        state: "succeeded",
        result: { approved: true, decidedBy: "test-admin", reason: "staging only", timedOut: false },
      },
      approval: { id: pending, state: "approved", outcome: { approved: true, decidedBy: "test-admin" } },
    });

    const job = answer(await agent.callTool({ name: "get_job", arguments: { id: asked.jobId } }));
    expect(job).toMatchObject({ state: "succeeded", task: "overseer.approval", approvals: [{ id: pending }] });
    // The job names the agent's token as the one who asked.
    expect((await api.overseer.getJob(asked.jobId))?.enqueuedBy).toBe("test-operator");
  });

  it("lets a viewer's agent read, and refuses its writes with FORBIDDEN tool errors", async () => {
    const api = await testApi({ runs: ECHO_PROFILE });
    const run = await api.overseer.startRun({ profile: "echo" });
    await api.overseer.takeClaim("story:ABC-1", "agent-1", "1m");
    const job = await api.overseer.enqueue("report", { day: 1 });
    const viewer = await connect(api.url, api.tokens.viewer);

    expect(answer(await viewer.callTool({ name: "list_claims", arguments: {} })).claims).toMatchObject([
      { key: "story:ABC-1", owner: "agent-1" },
    ]);
    expect(answer(await viewer.callTool({ name: "get_job", arguments: { id: job.id } }))).toMatchObject({
      id: job.id,
      state: "queued",
      approvals: [],
    });
    expect(answer(await viewer.callTool({ name: "get_run", arguments: { id: run.id } }))).toMatchObject({
      id: run.id,
      state: "queued",
      currentTurn: 0,
      maxTurns: run.spec.maxTurns,
    });
    const writes = [
      { name: "decide_approval", arguments: { id: "01J00000000000000000000000", decision: "approve" } },
      { name: "propose_command", arguments: { command: "rm -rf build" } },
      { name: "take_claim", arguments: { key: "story:ABC-2", owner: "agent-2", ttl: "30s" } },
    ];
    for (const call of writes) {
      expect(refusal(await viewer.callTool(call))).toBe(
        `FORBIDDEN: token "test-viewer" has scope viewer; ${call.name} needs operator`,
      );
    }
    expect(await api.overseer.listJobs({ task: "overseer.command" })).toEqual([]);
    expect((await api.overseer.listClaims()).map((c) => c.key)).toEqual(["story:ABC-1"]);
  });

  it("refuses a request without a valid token with 401, and GET with 405", async () => {
    const api = await testApi();
    const initialize = {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
    };
    const headers = { accept: "application/json, text/event-stream" };
    const none = await api.request("POST", "/api/v1/mcp", { body: initialize, headers });
    expect([none.status, none.body.error.code]).toEqual([401, "UNAUTHENTICATED"]);
    await expect(connect(api.url)).rejects.toMatchObject({
      code: 401,
      message: expect.stringContaining("UNAUTHENTICATED"),
    });
    const metrics = await api.request("POST", "/api/v1/mcp", { body: initialize, headers, token: api.tokens.metrics });
    expect([metrics.status, metrics.body.error.code]).toEqual([403, "FORBIDDEN"]);
    const get = await api.request("GET", "/api/v1/mcp", { token: api.tokens.viewer, headers });
    expect([get.status, get.body.error.code, get.headers.get("allow")]).toEqual([405, "METHOD_NOT_ALLOWED", "POST"]);
  });

  it("names the field in a refusal of bad arguments, and gives Overseer's code for a refused call", async () => {
    const api = await testApi();
    const agent = await connect(api.url, api.tokens.operator);
    const call = async (name: string, args: Record<string, unknown>) =>
      refusal(await agent.callTool({ name, arguments: args }));

    expect(await call("wait_for_decision", { jobId: "x", timeoutSeconds: 601 })).toContain(
      "timeoutSeconds must be at most 600; call again to wait longer",
    );
    expect(await call("enqueue_job", { task: 5 })).toContain("task must be a string");
    expect(await call("propose_command", { command: "  " })).toContain("command must not be empty");
    expect(await call("decide_approval", { id: "a", decision: "maybe" })).toContain("decision must be approve or deny");
    expect(await call("take_claim", { key: "k", owner: "o", ttl: "1m", colour: "red" })).toMatch(/colour/);
    expect(await call("get_job", { id: "01J00000000000000000000000" })).toMatch(/^JOB_NOT_FOUND: /);
    expect(await call("get_run", { id: "01J00000000000000000000000" })).toMatch(/^RUN_NOT_FOUND: /);
    expect(await call("take_claim", { key: "k", owner: "o", ttl: "2d" })).toMatch(/^INVALID_ARGUMENT: .*ttl/);

    const enqueued = answer(
      await agent.callTool({
        name: "enqueue_job",
        arguments: { task: "report", payload: { day: 2 }, priority: "high", idempotencyKey: "report-2" },
      }),
    );
    expect(enqueued).toMatchObject({ task: "report", state: "queued", created: true });
    expect(enqueued.warnings).toMatchObject([{ code: "TASK_NOT_REGISTERED" }]);
    const again = answer(
      await agent.callTool({ name: "enqueue_job", arguments: { task: "report", idempotencyKey: "report-2" } }),
    );
    expect(again).toMatchObject({ id: enqueued.id, created: false });
  });
});
