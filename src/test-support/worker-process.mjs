/**
 * A worker in a process of its own, for the crash-safety tests. Configured by one JSON argument:
 * { database, log, task, defaults, minMs, maxMs, stallAfter, worker: WorkerOptions } (`defaults`: the
 * task's, as `defineTask` takes them). With `stallAfter`,
 * once that many handlers have ended, every handler that starts runs until it is aborted (or the
 * process dies): the worker fills its slots and stops starting jobs, so a test can kill it at a
 * moment when every job it started has logged its start. Each execution appends
 * `start|end|abort <jobId> <epoch ms>` to `log` with appendFileSync, so a line written is in the
 * file even if the process is SIGKILLed right after. Prints `ready <workerId>` once it works.
 * SIGTERM stops the worker gracefully, closes the store and exits 0 (1 if stopping failed).
 */
import { appendFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { createOverseer } from "../../dist/index.js";

const config = JSON.parse(process.argv[2] ?? "{}");
const overseer = await createOverseer({ database: config.database });
const log = (what, jobId) => appendFileSync(config.log, `${what} ${jobId} ${Date.now()}\n`);

let ended = 0;
overseer.defineTask(
  config.task ?? "work",
  async (_payload, ctx) => {
    log("start", ctx.job.id);
    const stalled = config.stallAfter !== undefined && ended >= config.stallAfter;
    const ms = stalled ? 2_000_000_000 : config.minMs + Math.floor(Math.random() * (config.maxMs - config.minMs + 1));
    try {
      await sleep(ms, undefined, { signal: ctx.signal });
    } catch (err) {
      log("abort", ctx.job.id);
      throw err;
    }
    log("end", ctx.job.id);
    ended++;
    return { pid: process.pid };
  },
  config.defaults ?? {},
);

const worker = overseer.worker(config.worker ?? {});
process.once("SIGTERM", () => {
  worker
    .stop()
    .then(() => overseer.close())
    .then(
      () => process.exit(0),
      (err) => {
        console.error("stopping failed:", err);
        process.exit(1);
      },
    );
});
await worker.start();
process.stdout.write(`ready ${worker.id}\n`);
