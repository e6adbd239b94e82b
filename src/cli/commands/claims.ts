/** `overseer claims take|refresh|release|list`: named leases for agents and scripts (docs/claims.md). */
import type { Command } from "commander";
import {
  CLAIM_HOLDER_FIELDS,
  type Claim,
  parseClaimTtl,
  validateClaimKey,
  validateClaimOwner,
} from "../../core/claim.js";
import { withClaimBackend } from "../claim-backend.js";
import { action, globals, printJson, printLine, printTable } from "../context.js";

interface OwnerFlags {
  owner: string;
  ttl: string;
}

export function registerClaims(program: Command): void {
  const claims = program
    .command("claims")
    .description("take, refresh and release named claims (leases with a TTL: one holder at a time)");

  claims
    .command("take")
    .description("take the claim on KEY for --owner, or refresh it if the owner holds it; exit 1 if someone else does")
    .argument("<key>", "what is claimed, e.g. story:ABC-12")
    .requiredOption("--owner <owner>", "who takes it (an agent, a script, a person)")
    .requiredOption("--ttl <duration>", "how long it is held unless refreshed: 30s, 5m, 2h (1s to 24h)")
    .option("--role <role>", "what the holder does here, e.g. reviewer")
    .option("--agent <agent>", "which agent takes it, e.g. claude-code")
    .option("--fingerprint <fingerprint>", "what tells this session of the agent from another, e.g. host:pid")
    .action(
      action(async (key: string, flags: OwnerFlags & HolderFlags, command: Command) => {
        const g = globals(command);
        const [k, owner, ttlMs] = checked(key, flags.owner, flags.ttl);
        const holder = holderOf(flags);
        const result = await withClaimBackend(g, (b) => b.take(k, owner, ttlMs, holder));
        if (g.json) return printJson(result);
        const { claim } = result;
        if (!result.acquired) return printLine(`refreshed ${describe(claim)}`);
        const over = result.previousOwner === null ? "" : ` (taken over from ${result.previousOwner})`;
        printLine(`took ${describe(claim)}${over}`);
      }),
    );

  claims
    .command("refresh")
    .description("extend the claim on KEY that --owner holds to now + --ttl; exit 1 if the owner does not hold it")
    .argument("<key>")
    .requiredOption("--owner <owner>", "the holder")
    .requiredOption("--ttl <duration>", "the new TTL from now: 30s, 5m, 2h (1s to 24h)")
    .action(
      action(async (key: string, flags: OwnerFlags, command: Command) => {
        const g = globals(command);
        const [k, owner, ttlMs] = checked(key, flags.owner, flags.ttl);
        const claim = await withClaimBackend(g, (b) => b.refresh(k, owner, ttlMs));
        if (g.json) return printJson(claim);
        printLine(`refreshed ${describe(claim)}`);
      }),
    );

  claims
    .command("release")
    .description("free the claim on KEY that --owner holds; exit 1 if the owner does not hold it")
    .argument("<key>")
    .requiredOption("--owner <owner>", "the holder")
    .action(
      action(async (key: string, flags: { owner: string }, command: Command) => {
        const g = globals(command);
        const k = validateClaimKey(key);
        const owner = validateClaimOwner(flags.owner, "--owner");
        const claim = await withClaimBackend(g, (b) => b.release(k, owner));
        if (g.json) return printJson(claim);
        printLine(`released claim ${claim.key} (token ${claim.token}) held by ${claim.owner}`);
      }),
    );

  claims
    .command("list")
    .description("the claims held now, by key")
    .action(
      action(async (_flags, command: Command) => {
        const g = globals(command);
        const list = await withClaimBackend(g, (b) => b.list());
        if (g.json) return printJson(list);
        if (list.length === 0) return printLine("no claims held");
        printTable(
          ["KEY", "OWNER", "ROLE", "AGENT", "TOKEN", "ACQUIRED", "EXPIRES"],
          list.map((c) => [c.key, c.owner, c.role ?? "-", c.agent ?? "-", String(c.token), c.acquiredAt, c.expiresAt]),
        );
      }),
    );
}

/** Checked before any database or server is opened, so bad input exits 2 at once. */
function checked(key: string, owner: string, ttl: string): [string, string, number] {
  return [validateClaimKey(key), validateClaimOwner(owner, "--owner"), parseClaimTtl(ttl, "--ttl")];
}

interface HolderFlags {
  role?: string;
  agent?: string;
  fingerprint?: string;
}

/** The holder flags given, checked before anything is opened (messages name the flag). */
function holderOf(flags: HolderFlags): HolderFlags {
  const holder: HolderFlags = {};
  for (const field of CLAIM_HOLDER_FIELDS) {
    const value = flags[field];
    if (value !== undefined) holder[field] = validateClaimOwner(value, `--${field}`);
  }
  return holder;
}

function describe(c: Claim): string {
  const who = [c.role, c.agent].filter((v) => v !== null).join(", ");
  return `claim ${c.key} as ${c.owner}${who === "" ? "" : ` (${who})`} (token ${c.token}) until ${c.expiresAt}`;
}
