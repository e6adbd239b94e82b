/**
 * What `overseer mcp` serves: the MCP tools on stdin and stdout. On the database (`--database`)
 * the agent acts as `--as NAME` (else `$USER`) with operator rights, as the CLI's local user does;
 * through a server (`--url`) it acts as the token. Standard output carries protocol messages
 * only: logs go to standard error.
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { McpBackend } from "../mcp/backend.js";
import { LocalMcpBackend } from "../mcp/local-backend.js";
import { RemoteMcpBackend } from "../mcp/remote-backend.js";
import { createMcpServer, type McpServerOptions } from "../mcp/server.js";
import { localUser } from "./approval-backend.js";
import { type GlobalOptions, loadConfig, makeLogger, openOverseer } from "./context.js";
import { remoteClient } from "./remote.js";

export async function serveMcpStdio(options: GlobalOptions, as: string | undefined): Promise<void> {
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
