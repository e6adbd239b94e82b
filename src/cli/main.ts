#!/usr/bin/env -S node --max-semi-space-size=2 --heap-growing-percent=50
/** The `overseer` command. One file per command group under commands/. */
import { readFileSync } from "node:fs";
import { type Command, CommanderError } from "commander";
import { registerAlerts } from "./commands/alerts.js";
import { registerApprovals } from "./commands/approvals.js";
import { registerClaims } from "./commands/claims.js";
import { registerEnqueue } from "./commands/enqueue.js";
import { registerEvents } from "./commands/events.js";
import { registerExecution } from "./commands/execution.js";
import { registerJobs } from "./commands/jobs.js";
import { registerLessons } from "./commands/lessons.js";
import { registerMaintenance } from "./commands/maintenance.js";
import { registerMcp } from "./commands/mcp.js";
import { registerOncall } from "./commands/oncall.js";
import { registerQueues } from "./commands/queues.js";
import { registerRequeue } from "./commands/requeue.js";
import { type NodeFlags, runNode } from "./commands/run-node.js";
import { registerRuns } from "./commands/runs.js";
import { registerSchedules } from "./commands/schedules.js";
import { registerTokens } from "./commands/tokens.js";
import { action, EXIT_BAD_INPUT, globals } from "./context.js";
import { createsDatabase } from "./database-location.js";
import { commandPath, OverseerCommand } from "./unknown-command.js";

/** Set for the commands that run a node (`start`, `worker`), whose work must outlive their output. */
let runsNode = false;

// `overseer ... | head -1`: the reader went away, which is no error of ours. A one-shot command
// ends quietly; a node goes on working (and stops as usual on SIGTERM), printing nothing more.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") {
    if (!runsNode) process.exit(0);
    return;
  }
  process.stderr.write(`overseer: cannot write to standard output: ${err.message}\n`);
  process.exit(1);
});

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

const program = new OverseerCommand("overseer")
  .description("Durable jobs, agent runs and human approvals: one process and one SQLite file to start.")
  .option("--database <path>", "SQLite database file (env OVERSEER_DATABASE; default ./data/overseer.db)")
  .option("--config <file>", "config file with schedules (.json, .yaml or .yml)")
  .option("--json", "machine-readable output")
  .option("--durability <mode>", "normal (survives process crashes) or full (also power loss)")
  .option("--log-level <level>", "fatal, error, warn, info, debug, trace or silent")
  .option("--log-format <format>", "text (readable lines) or json; default text when the log (stderr) is a terminal")
  .option(
    "--url <url>",
    "talk to this server's HTTP API instead of the database (env OVERSEER_URL); tokens, schedules, prune, migrate, start and worker always use the database",
  )
  .option("--token <token>", "API token for --url (env OVERSEER_TOKEN, which keeps it out of the process list)")
  .version(version, "-V, --version", "print the version")
  .showHelpAfterError()
  .exitOverride()
  // Told to each command's own code through its options: whether it may create the database.
  .hook("preAction", (_program, actionCommand) => {
    const { config } = globals(actionCommand);
    const path = commandPath(actionCommand);
    runsNode = path === "start" || path === "worker";
    program.setOptionValue("createsDatabase", createsDatabase(path, config !== undefined));
  });

const nodeOptions = (command: Command) =>
  command
    .option("--tasks <dir>", "folder of task modules (each default-exports a handler; the file name is the task name)")
    .option("--concurrency <n>", "jobs run at once", "10")
    .option(
      "--prefetch <n>",
      'jobs claimed ahead of free slots and held until one frees; "auto": what the slots finish in about 100 ms',
      "auto",
    )
    .option("--queues <names>", "comma-separated queues to work (default: all)")
    .option("--lease <duration>", "lease length, e.g. 30s")
    .option("--shutdown-timeout <duration>", "on SIGTERM, how long running jobs may finish", "10s")
    .option("--events-ndjson <file>", "mirror the event log to this append-only NDJSON file")
    .option("--no-scheduler", "do not fire the schedules of --config in this process");

nodeOptions(
  program
    .command("start")
    .description(
      "run Overseer in one process: worker, HTTP API and dashboard, retention, and a status line in a terminal",
    ),
)
  .option("--host <host>", "address the HTTP API listens on", "127.0.0.1")
  .option("--port <port>", "port of the HTTP API (0 picks a free one)", "7070")
  .option("--cors-origin <origins>", "comma-separated origins browsers may call the API from (default: none)")
  .option("--metrics-public", "serve /metrics without a token (for a scraper on a trusted network)")
  .option("--request-timeout <duration>", "time a client has to send a request's headers and body (default 30s)")
  .option("--keep-alive-timeout <duration>", "how long an idle HTTP connection stays open (default 72s)")
  .option("--max-connections <n>", "open HTTP connections allowed, event streams included (default 1024)")
  .option("--no-http", "do not serve the HTTP API")
  .option("--demo", "add demo tasks and a demo producer")
  .option("--no-summary", "no status line (there is one only when stdout is a terminal)")
  .option("--no-retention", "do not prune old jobs, runs, alerts and events hourly")
  .option("--no-runs", "do not supervise runs in this process")
  .action(action(async (flags: NodeFlags, command: Command) => runNode("start", flags, globals(command))));

nodeOptions(program.command("worker").description("run a worker for the tasks in --tasks"))
  .option("--runs", "also supervise runs (the profiles come from --config)")
  .action(action(async (flags: NodeFlags, command: Command) => runNode("worker", flags, globals(command))));

registerEnqueue(program);
registerJobs(program);
registerQueues(program);
registerRequeue(program);
registerSchedules(program);
registerRuns(program);
registerClaims(program);
registerExecution(program);
registerOncall(program);
registerLessons(program);
registerApprovals(program);
registerAlerts(program);
registerTokens(program);
registerEvents(program);
registerMcp(program);
registerMaintenance(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander has already printed its message; help and version are not errors.
    process.exit(err.code === "commander.helpDisplayed" || err.code === "commander.version" ? 0 : EXIT_BAD_INPUT);
  }
  throw err;
}
