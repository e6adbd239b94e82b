/**
 * `overseer tokens create|list|revoke`: API tokens for the HTTP server. A new token's secret is
 * printed once, alone on stdout (so `TOKEN=$(overseer tokens create ...)` captures it); the
 * store keeps only its hash, and `list` shows no secret.
 */
import type { Command } from "commander";
import { TOKEN_SCOPES, type TokenRecord } from "../../core/types.js";
import { action, globals, printJson, printLine, printTable, withOverseer } from "../context.js";

/** A token as the CLI shows it: everything but the hash. */
function shown(t: TokenRecord): Omit<TokenRecord, "hash"> {
  const { hash: _hash, ...rest } = t;
  return rest;
}

export function registerTokens(program: Command): void {
  const tokens = program.command("tokens").description("create, list and revoke HTTP API tokens");
  tokens
    .command("create")
    .description("make a token and print it once (only its hash is stored)")
    .requiredOption("--scope <scope>", `${TOKEN_SCOPES.join(", ")}`)
    .requiredOption("--name <name>", "a name to list and revoke it by, e.g. ci or dashboard")
    .action(
      action(async (flags: { scope: string; name: string }, command: Command) => {
        const g = globals(command);
        const { secret, token } = await withOverseer(g, (o) => o.createToken(flags.name, flags.scope));
        if (g.json) return printJson({ ...shown(token), token: secret });
        process.stderr.write(`token "${token.name}" (scope ${token.scope}) created; it is shown only this once:\n`);
        printLine(secret);
      }),
    );
  tokens
    .command("list")
    .description("tokens with their scope and state (never their secrets)")
    .action(
      action(async (_flags, command: Command) => {
        const g = globals(command);
        const list = await withOverseer(g, (o) => o.listTokens());
        if (g.json) return printJson(list.map(shown));
        if (list.length === 0) return printLine("no tokens yet; make one with `overseer tokens create`");
        printTable(
          ["NAME", "SCOPE", "CREATED", "REVOKED"],
          list.map((t) => [t.name, t.scope, t.createdAt, t.revokedAt ?? "-"]),
        );
      }),
    );
  tokens
    .command("revoke")
    .description("revoke the active token of this name; it stops working at once")
    .argument("<name>")
    .action(
      action(async (name: string, _flags, command: Command) => {
        const g = globals(command);
        const token = await withOverseer(g, (o) => o.revokeToken(name));
        if (g.json) printJson(shown(token));
        else printLine(`token ${token.name} revoked`);
      }),
    );
}
