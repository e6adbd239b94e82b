/**
 * A producer in a process of its own, for the crash-safety tests: enqueues jobs as fast as it can
 * and prints each id `enqueue` returned, one per line, until it is killed. Configured by one JSON
 * argument: { database, task }. Each id is written to the file descriptor directly (writeSync,
 * retried while the pipe is full), so a printed id has left the process before the next enqueue
 * starts: nothing printed can be lost in a stream buffer when the process is killed.
 */
import { writeSync } from "node:fs";
import { createOverseer } from "../../dist/index.js";

function print(line) {
  const bytes = Buffer.from(line);
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(1, bytes, done);
    } catch (err) {
      if (err.code !== "EAGAIN") throw err;
    }
  }
}

const config = JSON.parse(process.argv[2] ?? "{}");
const overseer = await createOverseer({ database: config.database });
print("ready\n");
for (let i = 0; ; i++) {
  const job = await overseer.enqueue(config.task ?? "work", { i });
  print(`${job.id}\n`);
}
