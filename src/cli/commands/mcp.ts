/**
 * `overseer mcp`: Overseer's tools for an AI agent over the Model Context Protocol, on stdin and
 * stdout (see docs/mcp.md and serve-mcp.ts).
 */
import type { Command } from "commander";
import { action, globals } from "../context.js";
import { refuseAsWithUrl } from "../remote.js";

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
        // The MCP SDK loads only for this command: every other one starts without it.
        const { serveMcpStdio } = await import("../serve-mcp.js");
        await serveMcpStdio(g, flags.as);
      }),
    );
}
