/**
 * `overseer execution [enabled|dry-run]`: reads or sets the execution switch (docs/execution.md),
 * from the local database or through a server (`--url`, where turning it on needs an admin token).
 * Every change is audited as `execution.changed`.
 */
import type { Command } from "commander";
import { OverseerError } from "../../core/errors.js";
import { type ExecutionMode, type ExecutionState, parseExecutionMode } from "../../core/execution.js";
import { localUser } from "../approval-backend.js";
import {
  action,
  closing,
  type GlobalOptions,
  globals,
  loadConfig,
  openOverseer,
  printJson,
  printLine,
} from "../context.js";
import { refuseAsWithUrl, remoteClient } from "../remote.js";

interface ChangeFlags {
  reason?: string;
  as?: string;
}

export function registerExecution(program: Command): void {
  program
    .command("execution")
    .description("show or set the execution switch: whether handlers may do their side effects (default dry-run)")
    .argument(
      "[mode]",
      "enabled: approved actions run for real (an admin token with --url); dry-run: they are recorded, not run",
    )
    .option("--reason <text>", "why, kept in the audit")
    .option("--as <name>", "local mode: who makes the change (default $USER); with --url the token does")
    .action(
      action(async (mode: string | undefined, flags: ChangeFlags, command: Command) => {
        const g = globals(command);
        refuseAsWithUrl({ ...g, as: flags.as }, "the server knows who you are from the token");
        const to = mode === undefined ? null : parseExecutionMode(mode, "mode");
        if (to === null && flags.reason !== undefined) {
          throw new OverseerError("INVALID_ARGUMENT", "--reason goes with a mode to set: enabled or dry-run", {
            field: "reason",
          });
        }
        const state = await withExecution(g, (e) =>
          to === null ? e.get() : e.set(to, flags.reason ?? null, flags.as),
        );
        if (g.json) return printJson(state);
        printLine(describe(state));
      }),
    );
}

interface ExecutionBackend {
  get(): Promise<ExecutionState>;
  set(mode: ExecutionMode, reason: string | null, as: string | undefined): Promise<ExecutionState>;
  close(): Promise<void>;
}

async function withExecution<T>(options: GlobalOptions, fn: (backend: ExecutionBackend) => Promise<T>): Promise<T> {
  const client = remoteClient(options);
  if (client) {
    return closing(
      {
        get: () => client.execution(),
        set: (mode, reason) => client.setExecution(mode, reason === null ? {} : { reason }),
        close: async () => {
          // Nothing to close: the client holds no connection between requests.
        },
      },
      fn,
    );
  }
  // The node's config says which mode applies while the switch was never set.
  const config = options.config === undefined ? undefined : await loadConfig(options.config);
  const overseer = await openOverseer(options, undefined, config);
  return closing(
    {
      get: () => overseer.execution(),
      set: (mode, reason, as) => overseer.setExecution({ mode, reason, by: localUser(as) }),
      close: () => overseer.close(),
    },
    fn,
  );
}

function describe(state: ExecutionState): string {
  const mode =
    state.mode === "enabled" ? "enabled: approved actions run" : "dry-run: approved actions are recorded, not run";
  if (state.source === "config") return `execution ${mode} (the node's config; never switched)`;
  const why = state.reason === null ? "" : `: ${state.reason}`;
  return `execution ${mode} (set by ${state.changedBy} at ${state.changedAt}${why})`;
}
