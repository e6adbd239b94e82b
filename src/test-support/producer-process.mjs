/**
 * A producer in a process of its own, for the crash-safety tests: enqueues jobs as fast as it can
 * and prints each id `enqueue` returned, one per line, until it is killed. Configured by one JSON
 * argument: { database, task }. Writes to a pipe are synchronous on Linux, so a printed id has
 * left the process before the next enqueue starts.
 */
import { createOverseer } from "../../dist/index.js";

const config = JSON.parse(process.argv[2] ?? "{}");
const overseer = await createOverseer({ database: config.database });
process.stdout.write("ready\n");
for (let i = 0; ; i++) {
  const job = await overseer.enqueue(config.task ?? "work", { i });
  process.stdout.write(`${job.id}\n`);
}
