// The NDJSON mirror across restarts: it resumes after the file's last event, skipping and
// repeating nothing, and survives a torn last line left by a process that died mid-write.
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { silentLogger } from "../core/logger.js";
import { tempDatabase } from "../test-support/temp-database.js";
import { EventMirror } from "./event-mirror.js";

function seqsIn(file: string): number[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.startsWith("{") && line.endsWith("}"))
    .map((line) => (JSON.parse(line) as { seq: number }).seq);
}

it("resumes after the last event in the file, with no gap and no repeat", async () => {
  const db = tempDatabase();
  const overseer = await db.open();
  const file = join(db.dir, "events.ndjson");

  await overseer.enqueue("a");
  await overseer.enqueue("b");
  const first = new EventMirror(overseer.store, file, silentLogger);
  first.start();
  await first.stop();
  expect(seqsIn(file)).toEqual([1, 2]);

  // Written while no mirror runs, then picked up by the next one.
  await overseer.enqueue("c");
  const second = new EventMirror(overseer.store, file, silentLogger);
  second.start();
  await overseer.enqueue("d");
  await second.stop();
  expect(seqsIn(file)).toEqual([1, 2, 3, 4]);
});

it("ignores a torn last line and resumes after the last complete event", async () => {
  const db = tempDatabase();
  const overseer = await db.open();
  const file = join(db.dir, "events.ndjson");
  await overseer.enqueue("a");
  const first = new EventMirror(overseer.store, file, silentLogger);
  first.start();
  await first.stop();
  appendFileSync(file, '{"seq":2,"kind":"job.enq'); // a writer died here

  await overseer.enqueue("b");
  const second = new EventMirror(overseer.store, file, silentLogger);
  second.start();
  await second.stop();
  expect(seqsIn(file)).toEqual([1, 2]);
});
