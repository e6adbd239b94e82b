/**
 * Approval-gated commands, as built-in tasks. `overseer.command` takes a shell command an agent
 * proposes, asks the config's `commands.approvers` with the command shown (`details.command`),
 * and, once approved, runs it only if the approved action may run (`outcome.execution`: asked in
 * enabled mode, not a test item, and still enabled); otherwise it records `command.executed.dryrun`
 * and runs nothing. A run records `command.executed` with its exit code and the tail of its
 * output. At most once: its start is stored before it runs, and an execution that finds it runs
 * nothing (`COMMAND_INTERRUPTED`).
 * `overseer.approval` asks a person on behalf of an agent with nothing to run (MCP's
 * `request_approval`) and returns the decision.
 */
import { spawn } from "node:child_process";
import type { CommandsConfig } from "../config/commands.js";
import type { ApprovalOutcome } from "../core/approval.js";
import { PermanentError } from "../core/errors.js";
import type { ExecutionMode } from "../core/execution.js";
import { RISKS, type Risk } from "../core/gate-policy.js";
import { defineTask, type JobContext, type TaskDefinition } from "../core/task.js";
import type { Store } from "../store/store.js";

export const COMMAND_TASK = "overseer.command";
export const APPROVAL_TASK = "overseer.approval";

const MAX_COMMAND = 10_000;
/** A request's title is at most 300 characters (core/approval.ts); the others are shown in its details. */
const MAX_TEXT = { title: 300, reason: 4_000 } as const;
/** The output kept from a command (its tail), in the job's result and the event. */
const MAX_OUTPUT = 16 * 1024;

export interface CommandPayload {
  /** A shell command line (`/bin/sh -c`). */
  command: string;
  /** Default `Run: <command>`. */
  title?: string;
  /** Why the agent proposes it: shown to the approvers. */
  reason?: string;
  /** Default: the config's `commands.risk`. */
  risk?: Risk;
  /** A test item: shown as such, never run. */
  test?: boolean;
}

export interface CommandResult {
  decision: "approved" | "denied";
  decidedBy: string;
  reason: string | null;
  /** The command ran. */
  executed: boolean;
  /** Approved, but recorded as a dry run and not run. */
  dryRun: boolean;
  exitCode?: number | null;
  /** The tail of what it wrote to stdout and stderr. */
  output?: string;
}

export interface ApprovalPayload {
  title: string;
  details?: unknown;
  risk?: Risk;
  test?: boolean;
}

export interface ApprovalTaskResult {
  approved: boolean;
  decidedBy: string;
  reason: string | null;
  timedOut: boolean;
}

export function commandTask(
  store: Pick<Store, "appendEvents">,
  config: CommandsConfig,
  /** Reads the switch from the store now: checked once more just before a command runs. */
  switchNow: () => Promise<ExecutionMode>,
): TaskDefinition {
  return defineTask<CommandPayload, CommandResult>(
    COMMAND_TASK,
    async (payload, ctx) => {
      const p = checkCommandPayload(payload);
      const outcome = await ctx.requestApproval({
        title: p.title ?? `Run: ${oneLine(p.command)}`,
        details: {
          command: p.command,
          cwd: config.cwd,
          ...(p.reason === undefined ? {} : { reason: p.reason }),
          // Who proposed it is the token that enqueued it, never what the payload says.
          ...(ctx.job.enqueuedBy === null ? {} : { proposedBy: ctx.job.enqueuedBy }),
        },
        risk: p.risk ?? config.risk,
        approvers: config.approvers,
        ...(config.approvalTimeoutMs === null ? {} : { timeout: config.approvalTimeoutMs }),
        ...(p.test ? { test: true } : {}),
        execution: ctx.execution,
      });
      const decided = { decidedBy: outcome.decidedBy, reason: outcome.reason };
      if (!outcome.approved) return { decision: "denied", ...decided, executed: false, dryRun: false };
      const note = (kind: string, data: Record<string, unknown>) =>
        store.appendEvents([{ kind, jobId: ctx.job.id, data: { command: p.command, ...data } }]);
      // The job's mode is the switch as its worker last read it (at most a second old): read it
      // once more, so that an admin who has just turned execution off stops this command.
      const allowed = outcome.execution === "enabled" && (await switchNow()) === "enabled";
      if (!allowed) {
        await note("command.executed.dryrun", { why: dryRunWhy(p, ctx, outcome.execution) });
        return { decision: "approved", ...decided, executed: false, dryRun: true };
      }
      // At most once: the start is stored before the command runs, so any later execution of
      // this job (a graceful shutdown's hand-back, a lost lease, a retry or a re-queue of it)
      // finds it and runs nothing. Running the command again takes a new proposal.
      let first = false;
      await ctx.step("command-started", () => {
        first = true;
        return new Date().toISOString();
      });
      if (!first) {
        await note("command.interrupted", {});
        throw new PermanentError(
          "the command was started by an earlier execution of this job, which ended before its outcome was recorded; it is not run twice: propose it again",
          { code: "COMMAND_INTERRUPTED" },
        );
      }
      const ran = await runCommand(p.command, config.cwd, ctx.signal, config.timeoutMs);
      await note("command.executed", { exitCode: ran.exitCode, signal: ran.signal, output: ran.output });
      if (ran.exitCode !== 0) {
        const how = ran.exitCode === null ? `was stopped by ${ran.signal}` : `exited with code ${ran.exitCode}`;
        throw new PermanentError(`the command ${how}: ${lastLine(ran.output)}`, { code: "COMMAND_FAILED" });
      }
      return { decision: "approved", ...decided, executed: true, dryRun: false, exitCode: 0, output: ran.output };
    },
    { maxAttempts: 1, timeout: config.timeoutMs },
  );
}

export function approvalTask(): TaskDefinition {
  return defineTask<ApprovalPayload, ApprovalTaskResult>(
    APPROVAL_TASK,
    async (payload, ctx) => {
      if (payload === null || typeof payload !== "object") {
        throw invalidPayload("payload must be an object with a title");
      }
      const outcome: ApprovalOutcome = await ctx.requestApproval({
        title: payload.title,
        details: payload.details,
        ...(payload.risk === undefined ? {} : { risk: payload.risk }),
        ...(payload.test === undefined ? {} : { test: payload.test }),
      });
      return {
        approved: outcome.approved,
        decidedBy: outcome.decidedBy,
        reason: outcome.reason,
        timedOut: outcome.timedOut,
      };
    },
    { maxAttempts: 1 },
  );
}

/** Validates a proposal: PermanentError INVALID_PAYLOAD naming the field (a proposal that is wrong stays wrong). */
export function checkCommandPayload(payload: unknown): CommandPayload {
  if (payload === null || typeof payload !== "object") throw invalidPayload("payload must be an object with a command");
  const p = payload as Record<string, unknown>;
  if (typeof p.command !== "string" || p.command.trim() === "" || p.command.length > MAX_COMMAND) {
    throw invalidPayload(`command must be a shell command line of 1-${MAX_COMMAND} characters`);
  }
  if (p.command.includes("\u0000")) throw invalidPayload("command must not contain a NUL character");
  for (const [field, max] of Object.entries(MAX_TEXT)) {
    const value = p[field];
    if (value !== undefined && (typeof value !== "string" || value.trim() === "" || value.length > max)) {
      throw invalidPayload(`${field} must be text of 1-${max} characters`);
    }
  }
  if (p.risk !== undefined && !(RISKS as readonly unknown[]).includes(p.risk)) {
    throw invalidPayload(`risk must be one of ${RISKS.join(", ")}`);
  }
  if (p.test !== undefined && typeof p.test !== "boolean") throw invalidPayload("test must be true or false");
  return p as unknown as CommandPayload;
}

function invalidPayload(message: string): PermanentError {
  return new PermanentError(message, { code: "INVALID_PAYLOAD" });
}

function dryRunWhy(p: CommandPayload, ctx: JobContext, allowed: ExecutionMode | undefined): string {
  if (p.test) return "a test item never runs";
  if (ctx.execution === "dry-run") return "execution is dry-run";
  if (allowed === "enabled") return "execution was turned off before the command ran";
  return "execution was dry-run when the command was proposed";
}

interface Ran {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** The environment a command gets: enough to find programs and write files, none of the node's secrets. */
const PASSED_ENV = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR", "TERM"];
/** After SIGTERM at an abort, how long a command's process group has before SIGKILL. */
const KILL_GRACE_MS = 5_000;
/** After the shell exits, how long its output pipes may stay open (a background child holds them) before they are cut. */
const DRAIN_MS = 1_000;

/**
 * Runs `command` with `/bin/sh -c` in `cwd`, in a process group of its own, with only
 * PASSED_ENV of the environment (the node's tokens and channel secrets stay out of commands and
 * of the output people and agents read). The output's last MAX_OUTPUT bytes are kept. The job's
 * signal, or `timeoutMs` (the config's, whatever timeout the job was enqueued with), stops the
 * whole group: SIGTERM, then SIGKILL after KILL_GRACE_MS.
 */
function runCommand(command: string, cwd: string, signal: AbortSignal, timeoutMs: number): Promise<Ran> {
  const env = Object.fromEntries(
    PASSED_ENV.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]]])),
  );
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", command], { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const group = (sig: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // The group is gone already.
      }
    };
    let killer: NodeJS.Timeout | undefined;
    const stop = () => {
      group("SIGTERM");
      killer = setTimeout(() => group("SIGKILL"), KILL_GRACE_MS).unref();
    };
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
    // The config's timeout holds whatever timeout the job was enqueued with.
    const limit = setTimeout(stop, timeoutMs).unref();
    let output = Buffer.alloc(0);
    const keep = (chunk: Buffer) => {
      output = Buffer.concat([output, chunk]);
      if (output.length > MAX_OUTPUT) output = output.subarray(output.length - MAX_OUTPUT);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let settled = false;
    const finish = (exitCode: number | null, killedBy: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", stop);
      clearTimeout(limit);
      clearTimeout(killer);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ exitCode, signal: killedBy, output: output.toString("utf8") });
    };
    child.on("error", (err) => {
      if (settled) return;
      settled = true;
      reject(new PermanentError(`the command could not start in ${cwd}: ${err.message}`, { code: "COMMAND_FAILED" }));
    });
    child.on("close", finish);
    child.on("exit", (exitCode, killedBy) => {
      setTimeout(() => finish(exitCode, killedBy), DRAIN_MS).unref();
    });
  });
}

function oneLine(text: string): string {
  const line = text.trim().split("\n")[0] as string;
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

function lastLine(output: string): string {
  const lines = output.trim().split("\n");
  return (lines.at(-1) ?? "").slice(0, 300) || "no output";
}
