/**
 * Overseer as an MCP server: the tools of tools.ts on the SDK's McpServer, for either transport
 * (stdio in `overseer mcp`, streamable HTTP at /api/v1/mcp). A tool's failure is a tool result
 * with `isError: true` whose text is `CODE: message`, as the CLI prints it, and whose structured
 * content is the HTTP API's error envelope; never a stack trace. A write tool called by whom
 * may only read is refused before it runs, as the HTTP API refuses the route.
 */
import { readFileSync } from "node:fs";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { scopeAllows } from "../auth/scopes.js";
import { OverseerError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { TokenScope } from "../core/types.js";
import type { McpBackend } from "./backend.js";
import { type McpTool, TOOLS } from "./tools.js";

export interface McpServerOptions {
  backend: McpBackend;
  /**
   * The token (or local user) the tools act as, whose scope is checked before a tool runs; null
   * when a server behind the backend checks it (the stdio server with `--url`).
   */
  access: { name: string; scope: TokenScope } | null;
  logger: Logger;
}

export const MCP_SERVER_NAME = "overseer";

/** The package's version, told to clients (from dist/ or src/, the package root is two folders up). */
const VERSION = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

const INSTRUCTIONS =
  "Overseer runs durable jobs and asks people before risky steps. To run a risky command, call propose_command, " +
  "then wait_for_decision with the job id it returns (call it again while waitTimedOut is true). Use take_claim " +
  "before working on a shared story or task, and record_lesson / search_lessons to learn from past work.";

export function createMcpServer(options: McpServerOptions): McpServer {
  const server = new McpServer(
    { name: MCP_SERVER_NAME, version: VERSION },
    { capabilities: { tools: {} }, instructions: INSTRUCTIONS },
  );
  for (const tool of TOOLS) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.input,
        annotations: {
          title: tool.title,
          readOnlyHint: !tool.writes,
          destructiveHint: false,
          openWorldHint: false,
        },
      },
      (args: Record<string, unknown>, extra) => call(tool, args, extra.signal, options),
    );
  }
  return server;
}

async function call(
  tool: McpTool,
  args: Record<string, unknown>,
  signal: AbortSignal,
  options: McpServerOptions,
): Promise<CallToolResult> {
  try {
    const { access } = options;
    if (tool.writes && access !== null && !scopeAllows(access.scope, "operator")) {
      throw new OverseerError(
        "FORBIDDEN",
        `token "${access.name}" has scope ${access.scope}; ${tool.name} needs operator`,
        { scope: access.scope, required: "operator" },
      );
    }
    const result = await tool.run(options.backend, args, signal);
    return {
      content: [{ type: "text", text: JSON.stringify(result, null, 2) }],
      structuredContent: result as Record<string, unknown>,
    };
  } catch (err) {
    if (err instanceof OverseerError) return failure(err);
    // Not Overseer's refusal: the details go to the log, the agent gets the code and no stack.
    options.logger.error({ err, tool: tool.name }, "an MCP tool failed unexpectedly");
    return failure(
      new OverseerError("INTERNAL_ERROR", `${tool.name} failed unexpectedly; the server's log has the details`),
    );
  }
}

function failure(err: OverseerError): CallToolResult {
  const error = { code: err.code, message: err.message, details: err.details };
  return {
    isError: true,
    content: [{ type: "text", text: `${err.code}: ${err.message}` }],
    structuredContent: { error },
  };
}
