/**
 * `overseer enqueue TASK`: one job, or with --ndjson one job per line of standard input, in one
 * transaction; into the database or, with `--url`, through the server's `POST /api/v1/jobs`.
 * Input is validated before the database is opened or the server is called.
 */
import { createInterface } from "node:readline";
import type { Command } from "commander";
import type { Job } from "../../client/index.js";
import { OverseerError } from "../../core/errors.js";
import { type BackoffOption, buildNewJob, type EnqueueOptions } from "../../core/job-options.js";
import type { EnqueueWarning } from "../../core/known-tasks.js";
import { BULK, withBackend } from "../backend.js";
import { action, globals, parseIntOption, printJson, printLine } from "../context.js";
import { remoteOf } from "../remote.js";

interface EnqueueFlags {
  payload?: string;
  priority?: string;
  delay?: string;
  runAt?: string;
  key?: string;
  queue?: string;
  maxAttempts?: string;
  backoff?: string;
  timeout?: string;
  ndjson?: boolean;
}

export function registerEnqueue(program: Command): void {
  program
    .command("enqueue")
    .description("enqueue a job (or, with --ndjson, one job per line of standard input)")
    .argument("<task>", "task name")
    .option("--payload <json>", "payload as JSON", "null")
    .option("--priority <p>", "integer (lower runs first) or high, default, low")
    .option("--delay <duration>", "start after this long, e.g. 30s, 5m")
    .option("--run-at <time>", "start at this ISO-8601 time")
    .option("--key <key>", "idempotency key")
    .option("--queue <name>", "queue", undefined)
    .option("--max-attempts <n>", "attempts before the job is dead")
    .option(
      "--backoff <spec>",
      "wait between attempts: a retry schedule 1m,5m,15m (past its end, its last), fixed:30s, or exponential[:base[:cap]]",
    )
    .option("--timeout <duration>", "abort an attempt that runs longer, e.g. 30s, 5m (it fails with ATTEMPT_TIMEOUT)")
    .option("--ndjson", "read one JSON payload per line from standard input and enqueue them all in one transaction")
    .action(
      action(async (task: string, flags: EnqueueFlags, command: Command) => {
        const options = enqueueOptions(flags);
        const g = globals(command);
        if (flags.ndjson) {
          if (flags.key !== undefined) {
            throw new OverseerError(
              "INVALID_ARGUMENT",
              "--key cannot be combined with --ndjson (one key for many jobs)",
              {
                field: "key",
              },
            );
          }
          const payloads = await readNdjson();
          for (const payload of payloads) buildNewJob(task, payload, options, undefined);
          if (payloads.length > BULK && remoteOf(g)) {
            // The API takes at most BULK jobs per request, and one request is one transaction:
            // splitting the input silently would break the all-or-nothing promise.
            throw new OverseerError(
              "INVALID_ARGUMENT",
              `--ndjson with --url enqueues at most ${BULK} jobs (one request, one transaction, the API's limit); standard input has ${payloads.length}: split it into batches of ${BULK}`,
              { field: "ndjson", max: BULK, count: payloads.length },
            );
          }
          const results = await withBackend(g, (b) =>
            b.enqueueMany(payloads.map((payload) => ({ task, payload, options }))),
          );
          printWarnings(results.flatMap((r) => r.warnings));
          const jobs = results.map((r) => r.job);
          if (g.json) printJson(jobs);
          else
            printLine(`enqueued ${jobs.length} job(s)${jobs.length ? `: ${jobs[0]?.id} .. ${jobs.at(-1)?.id}` : ""}`);
          return;
        }
        const payload = parseJson(flags.payload ?? "null", "--payload");
        // Validate before opening: bad input must not even create the database file, nor reach a server.
        buildNewJob(task, payload, options, undefined);
        const result = await withBackend(g, (b) => b.enqueue(task, payload, options));
        printWarnings(result.warnings);
        if (g.json) printJson(result.job);
        else printLine(`${result.created ? "enqueued" : "exists (idempotency key)"} ${describeJob(result.job)}`);
      }),
    );
}

function enqueueOptions(flags: EnqueueFlags): EnqueueOptions {
  const options: EnqueueOptions = {};
  if (flags.queue !== undefined) options.queue = flags.queue;
  if (flags.priority !== undefined) {
    options.priority = /^-?\d+$/.test(flags.priority) ? Number(flags.priority) : (flags.priority as "high");
  }
  if (flags.delay !== undefined) {
    if (flags.delay.trim().startsWith("-")) {
      throw new OverseerError("INVALID_ARGUMENT", `--delay must not be negative; got "${flags.delay}"`, {
        field: "delay",
      });
    }
    options.delay = flags.delay;
  }
  if (flags.runAt !== undefined) options.runAt = flags.runAt;
  if (flags.key !== undefined) options.idempotencyKey = flags.key;
  if (flags.maxAttempts !== undefined)
    options.maxAttempts = parseIntOption(flags.maxAttempts, "--max-attempts", 1, 1000);
  if (flags.backoff !== undefined) options.backoff = parseBackoffFlag(flags.backoff);
  if (flags.timeout !== undefined) options.timeout = flags.timeout;
  return options;
}

/**
 * `--backoff` as an enqueue option, checked by buildNewJob like any other: `1m,5m,15m` (a retry
 * schedule), `fixed:30s`, or `exponential`, `exponential:1s`, `exponential:1s:1h` (base, cap).
 */
export function parseBackoffFlag(spec: string): BackoffOption {
  const [kind, ...args] = spec.trim().split(":");
  if (kind === "fixed" && args.length === 1) return { type: "fixed", delay: args[0] as string };
  if (kind === "exponential" && args.length <= 2) {
    const [base, cap] = args;
    return { type: "exponential", ...(base ? { base } : {}), ...(cap ? { cap } : {}) };
  }
  if (args.length === 0 && kind !== undefined && kind !== "" && kind !== "fixed" && kind !== "exponential") {
    return kind.split(",").map((d) => d.trim());
  }
  throw new OverseerError(
    "INVALID_ARGUMENT",
    `--backoff must be a retry schedule such as 1m,5m,15m, fixed:<delay> or exponential[:<base>[:<cap>]]; got "${spec}"`,
    { field: "backoff" },
  );
}

/**
 * One line on stderr per warning (a bulk enqueue of one task warns once): the jobs were enqueued,
 * so the exit code stays 0, and stdout stays what a script parses.
 */
function printWarnings(warnings: readonly EnqueueWarning[]): void {
  const lines = new Set(warnings.map((w) => `warning ${w.code}: ${w.message}\n`));
  for (const line of lines) process.stderr.write(line);
}

export function describeJob(job: Job): string {
  return `${job.id} ${job.task} [${job.state}] queue=${job.queue} priority=${job.priority} runAt=${job.runAt}`;
}

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new OverseerError("INVALID_PAYLOAD", `${field} is not valid JSON: ${(err as Error).message}`, { field });
  }
}

async function readNdjson(): Promise<unknown[]> {
  const payloads: unknown[] = [];
  let line = 0;
  for await (const text of createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
    line++;
    if (text.trim() === "") continue;
    payloads.push(parseJson(text, `standard input line ${line}`));
  }
  return payloads;
}
