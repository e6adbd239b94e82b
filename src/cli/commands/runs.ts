/** `overseer runs start|list|show|message|rerun|pause|resume|cancel|logs`. */
import type { Command } from "commander";
import type { Approval, Run } from "../../client/index.js";
import { OverseerError } from "../../core/errors.js";
import { describeBudget } from "../../core/run-budget.js";
import { isFinishedRunState, RUN_STATES, type RunControlAction, type RunState } from "../../core/run-state.js";
import { clip } from "../../core/text.js";
import { action, globals, parseIntOption, parseList, printJson, printLine, printTable } from "../context.js";
import { type RunBackend, withRunBackend } from "../run-backend.js";

export function registerRuns(program: Command): void {
  const runs = program
    .command("runs")
    .description("start, watch and steer agent runs (profiles come from the config's runs section)");

  runs
    .command("start")
    .description("start a run of a profile; a supervisor (overseer start) picks it up")
    .argument("<profile>", "a profile of the config file's runs.profiles")
    .option("-p, --param <name=value...>", "a string param; repeat for more")
    .option("--params <json>", "params as one JSON object (for numbers and booleans)")
    .option(
      "--budget <json>",
      'lower the profile\'s budget for this run, e.g. \'{"maxTokens":50000,"deadline":"30m"}\' (maxTokens, maxCostUsd, deadline, noProgressTurns, onExceeded)',
    )
    .action(
      action(
        async (profile: string, flags: { param?: string[]; params?: string; budget?: string }, command: Command) => {
          const g = globals(command);
          const params = parseParams(flags.params, flags.param ?? []);
          const budget = flags.budget === undefined ? undefined : parseJsonObject(flags.budget, "--budget", "budget");
          const run = await withRunBackend(g, (b) =>
            b.start({ profile, params, ...(budget === undefined ? {} : { budget }) }),
          );
          if (g.json) return printJson(run);
          printLine(`started run ${run.id} (${run.profile}); it is ${run.state}`);
        },
      ),
    );

  runs
    .command("list")
    .description("list runs, newest first")
    .option("--state <states>", `comma-separated: ${RUN_STATES.join(", ")}`)
    .option("--profile <name>", "only this profile")
    .option("--limit <n>", "at most this many (1-1000)", "50")
    .action(
      action(async (flags: { state?: string; profile?: string; limit: string }, command: Command) => {
        const g = globals(command);
        const states = parseRunStates(flags.state);
        const limit = parseIntOption(flags.limit, "--limit", 1, 1000);
        const list = await withRunBackend(g, (b) => b.list({ states, profile: flags.profile, limit }));
        if (g.json) return printJson(list);
        if (list.length === 0) return printLine("no runs");
        printTable(
          ["ID", "PROFILE", "STATE", "TURN", "TOKENS", "CREATED"],
          list.map((r) => [
            r.id,
            r.profile ?? "(ad hoc)",
            r.state,
            `${r.currentTurn}/${r.spec.maxTurns}`,
            String(r.stats.tokens.input + r.stats.tokens.output),
            r.createdAt,
          ]),
        );
      }),
    );

  runs
    .command("show")
    .description("show one run with its turns")
    .argument("<id>")
    .action(
      action(async (id: string, _flags, command: Command) => {
        const g = globals(command);
        const [detail, messages, requests] = await withRunBackend(
          g,
          async (b) => [await b.detail(id), await b.messages(id), await b.requests(id)] as const,
        );
        if (g.json) return printJson({ ...detail, messages, requests });
        const { run, turns } = detail;
        printLine(describeRun(run));
        printLine(`  command  ${[run.spec.command, ...run.spec.args].join(" ")}  (in ${run.spec.cwd})`);
        printLine(`  params   ${JSON.stringify(run.params)}`);
        if (run.rerunOf) printLine(`  rerun of ${run.rerunOf}`);
        if (detail.reruns.length > 0) printLine(`  reruns   ${detail.reruns.join(", ")}`);
        const { tokens, files, tests } = run.stats;
        printLine(
          `  tokens   ${tokens.input} in, ${tokens.output} out  files ${files.read} read, ${files.written} written, ` +
            `${files.deleted} deleted  tests ${tests.passed} passed, ${tests.failed} failed, ${tests.skipped} skipped`,
        );
        const { budget } = run.spec;
        if (budget !== undefined) printLine(`  budget   ${describeBudget(budget, run.stats)}`);
        if (run.completion.detected !== null) {
          printLine(`  complete ${run.completion.detected} in turn ${run.completion.turn}: ${run.completion.line}`);
        }
        if (run.error)
          printLine(`  error    ${run.error.code}: ${run.error.message} (retryable: ${run.error.retryable})`);
        for (const t of turns) {
          const exit = t.signal ?? (t.exitCode === null ? "" : `exit ${t.exitCode}`);
          printLine(`  turn ${t.turn} ${t.outcome} ${exit} ${t.outputBytes} bytes, started ${t.startedAt}`.trimEnd());
        }
        for (const m of messages) {
          const to = m.turn === null ? "waiting for the next turn" : `given to turn ${m.turn}`;
          printLine(`  message from ${m.sentBy ?? "an operator"} at ${m.createdAt}, ${to}: ${clip(m.body, 200)}`);
        }
        for (const a of [...requests].reverse()) printLine(`  ${describeRequest(a)}`);
      }),
    );

  runs
    .command("rerun")
    .description(
      "start a finished run again, linked to it: the same command and folder, or its profile anew with new params",
    )
    .argument("<id>")
    .option("-p, --param <name=value...>", "a string param over the old ones; repeat for more")
    .option("--params <json>", "params over the old ones, as one JSON object")
    .action(
      action(async (id: string, flags: { param?: string[]; params?: string }, command: Command) => {
        const g = globals(command);
        const changed = flags.params !== undefined || (flags.param ?? []).length > 0;
        const params = changed ? parseParams(flags.params, flags.param ?? []) : undefined;
        const run = await withRunBackend(g, (b) => b.rerun(id, params));
        if (g.json) return printJson(run);
        printLine(`started run ${run.id}, a rerun of ${id}; it is ${run.state}`);
      }),
    );

  runs
    .command("message")
    .description("send a message to a run: the next turn to start gets it in its input ({{messages}})")
    .argument("<id>")
    .argument("<text...>", "the message; several words are joined with spaces")
    .action(
      action(async (id: string, words: string[], _flags, command: Command) => {
        const g = globals(command);
        const message = await withRunBackend(g, (b) => b.message(id, words.join(" ")));
        if (g.json) return printJson(message);
        printLine(`sent message ${message.id} to run ${id}; the next turn to start gets it`);
      }),
    );

  const control = (name: RunControlAction, description: string) => {
    const command = runs.command(name).description(description).argument("<id>");
    if (name === "pause") command.option("--now", "freeze the turn's processes now (SIGSTOP) instead of at turn end");
    command.action(
      action(async (id: string, flags: { now?: boolean }, cmd: Command) => {
        const g = globals(cmd);
        const run = await withRunBackend(g, (b) => b.control(id, name, flags.now === true));
        if (g.json) return printJson(run);
        printLine(describeRun(run));
      }),
    );
  };
  control("pause", "pause a run when its current turn ends (or now, with --now)");
  control("resume", "resume a paused run, or withdraw a pending pause");
  control("cancel", "cancel a run: SIGTERM to its turn, SIGKILL after the grace period");

  runs
    .command("logs")
    .description("print a run's stored output, turn by turn (telemetry lines excluded)")
    .argument("<id>")
    .option("--turn <n>", "only this turn")
    .option("-f, --follow", "keep printing new output until the run finishes")
    .action(
      action(async (id: string, flags: { turn?: string; follow?: boolean }, command: Command) => {
        const g = globals(command);
        const only = flags.turn === undefined ? undefined : parseIntOption(flags.turn, "--turn", 1, 1_000_000_000);
        const controller = new AbortController();
        const stop = () => controller.abort();
        process.once("SIGINT", stop);
        try {
          await withRunBackend(g, (b) => printLogs(b, id, only, flags.follow === true, controller.signal));
        } finally {
          process.off("SIGINT", stop);
        }
      }),
    );
}

/** One request of a run, as `runs show` lists it: what it asked, and its answer or how to give one. */
function describeRequest(a: Approval): string {
  const when = a.step === "before-first-turn" ? "before turn 1" : `after ${a.step.replace("-", " ")}`;
  const asked = `${when}, ${a.kind === "question" ? "asked" : "asked to approve"} ${JSON.stringify(clip(a.title, 200))}`;
  if (a.state === "pending") {
    const how =
      a.kind === "question" ? `overseer approvals answer ${a.id} "..."` : `overseer approvals approve|deny ${a.id}`;
    return `${asked}: waiting for an answer (${how})`;
  }
  const o = a.outcome;
  if (o === null) return `${asked}: ${a.state}`;
  const said = o.reason === null ? "" : `: ${clip(o.reason, 200)}`;
  const verb = a.kind === "question" ? (o.approved ? "answered" : "dismissed") : o.approved ? "approved" : "denied";
  if (o.timedOut) return `${asked}: ${a.kind === "question" ? "nobody answered in time" : `timed out, ${verb}`}`;
  return `${asked}: ${verb} by ${o.decidedBy}${said}`;
}

export function describeRun(run: Run): string {
  return `run ${run.id} ${run.profile ?? "(ad hoc)"} ${run.state}, turn ${run.currentTurn}/${run.spec.maxTurns}, version ${run.version}`;
}

/**
 * Prints each turn's output exactly as stored, reading by byte offset so nothing is skipped or
 * repeated; with `follow`, polls for more until the run has finished and its last turn is read.
 */
async function printLogs(
  backend: RunBackend,
  id: string,
  only: number | undefined,
  follow: boolean,
  signal: AbortSignal,
): Promise<void> {
  let turn = only ?? 1;
  let offset = 0;
  for (;;) {
    const { run } = await backend.detail(id);
    const chunk = await backend.output(id, turn, offset);
    if (chunk === null && only !== undefined && !follow) {
      throw new OverseerError("RUN_TURN_NOT_FOUND", `run ${id} has no turn ${turn}`, { id, turn });
    }
    if (chunk !== null && chunk.data.length > 0) {
      process.stdout.write(chunk.data);
      offset += chunk.data.length;
      continue;
    }
    // This turn is read to its current end: move on if a later turn exists, else wait or stop.
    const later = only === undefined && turn < run.currentTurn;
    if (later) {
      turn++;
      offset = 0;
      continue;
    }
    if (!follow || isFinishedRunState(run.state) || signal.aborted) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function parseJsonObject(json: string, flag: string, field: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new OverseerError("INVALID_ARGUMENT", `${flag} is not valid JSON: ${(err as Error).message}`, { field });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new OverseerError("INVALID_ARGUMENT", `${flag} must be a JSON object`, { field });
  }
  return value as Record<string, unknown>;
}

function parseParams(json: string | undefined, pairs: string[]): Record<string, unknown> {
  const params = json === undefined ? {} : parseJsonObject(json, "--params", "params");
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq < 1) {
      throw new OverseerError("INVALID_ARGUMENT", `--param must be name=value; got "${pair}"`, { field: "param" });
    }
    params[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return params;
}

function parseRunStates(value: string | undefined): RunState[] | undefined {
  const list = parseList(value);
  if (list === undefined) return undefined;
  for (const s of list) {
    if (!(RUN_STATES as readonly string[]).includes(s)) {
      throw new OverseerError(
        "INVALID_STATE_FILTER",
        `unknown run state "${s}"; expected one of ${RUN_STATES.join(", ")}`,
        {
          field: "state",
          value: s,
        },
      );
    }
  }
  return list as RunState[];
}
