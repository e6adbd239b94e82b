/**
 * `overseer mcp`: Overseer's tools for an AI agent over the Model Context Protocol, on stdin and
 * stdout (see docs/mcp.md). On the database (`--database`) the agent acts as `--as NAME` (else
 * `$USER`) with operator rights, as the CLI's local user does; through a server (`--url`) it acts
 * as the token. Standard output carries protocol messages only: logs go to standard error.
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Command } from "commander";
import type { McpBackend } from "../../mcp/backend.js";
import { LocalMcpBackend } from "../../mcp/local-backend.js";
import { RemoteMcpBackend } from "../../mcp/remote-backend.js";
import { createMcpServer, type McpServerOptions } from "../../mcp/server.js";
import { localUser } from "../approval-backend.js";
import { action, type GlobalOptions, globals, loadConfig, makeLogger, openOverseer } from "../context.js";
import { refuseAsWithUrl, remoteClient } from "../remote.js";

export function registerMcp(program: Command): void {
  program
    .command("mcp")
    .description("serve Overseer's tools to an AI agent over MCP on stdin/stdout (add it to the agent's MCP config)")
    .option(
      "--as <name>",
      "who the agent acts as on the database: its jobs name it as the requester, its decisions are its (default $USER)",
    )
    .action(
      action(async (flags: { as?: string }, command: Command) => {
        const g = globals(command);
        refuseAsWithUrl({ ...g, as: flags.as }, "the server knows the agent by its token");
        await serveStdio(g, flags.as);
      }),
    );
}

async function serveStdio(options: GlobalOptions, as: string | undefined): Promise<void> {
  const logger = makeLogger(options.logLevel, "warn", options.logFormat);
  const client = remoteClient(options);
  let backend: McpBackend;
  let access: McpServerOptions["access"] = null;
  if (client) backend = new RemoteMcpBackend(client);
  else {
    // Checked first, so that a bad --as is refused before the database opens.
    const name = localUser(as);
    const config = options.config === undefined ? undefined : await loadConfig(options.config);
    const overseer = await openOverseer(options, logger, config);
    // Whoever can open the database can operate: the local user's agent decides as them.
    backend = new LocalMcpBackend(overseer, { name, mayOperate: true, channel: "cli" }, true);
    access = { name, scope: "operator" };
  }
  const server = createMcpServer({ backend, access, logger });
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    server
      .close()
      .then(() => backend.close())
      .then(
        () => process.exit(0),
        (err) => {
          logger.error({ err }, "the MCP server did not close cleanly");
          process.exit(1);
        },
      );
  };
  // The client ends the session by closing our standard input, or by a signal.
  process.stdin.once("end", stop);
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await server.connect(new StdioServerTransport());
}
