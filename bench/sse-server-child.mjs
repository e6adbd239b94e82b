// The server side of the event-stream load check (bench/sse-load.mjs), in a process of its own so
// its memory is measured apart from the clients': Overseer on a fresh SQLite file, the HTTP API
// on a free loopback port, and a worker (concurrency 50) running no-op jobs.
// Protocol (IPC): child -> { type: "ready", url, token, seq }; parent -> { cmd: "go", jobs };
// child -> { type: "done", firstSeq, lastSeq, peakRssMb }; parent -> { cmd: "stop" }.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errorMessage, sleep } from "./lib.mjs";

process.on("disconnect", () => process.exit(3));
const send = (message) => new Promise((resolve) => process.send(message, () => resolve()));
const nextCommand = (name) =>
  new Promise((resolve) => {
    const onMessage = (message) => {
      if (message?.cmd !== name) return;
      process.off("message", onMessage);
      resolve(message);
    };
    process.on("message", onMessage);
  });

const dir = mkdtempSync(join(tmpdir(), "overseer-sse-bench-"));
try {
  const { createOverseer } = await import("../dist/index.js");
  const { createToken, startHttpServer } = await import("../dist/http/index.js");
  const overseer = await createOverseer({ database: join(dir, "bench.db") });
  overseer.defineTask("noop", async () => null);
  const { secret } = await createToken(overseer.store, "bench", "viewer");
  const server = await startHttpServer({ overseer, port: 0 });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  await send({ type: "ready", url: server.url, token: secret });

  const { jobs } = await nextCommand("go");
  const cpuAtStart = process.cpuUsage();
  const worker = overseer.worker({ concurrency: 50 });
  await worker.start();
  const firstSeq = await overseer.store.lastEventSeq();
  // A run, not one blob: batches of 500, as a busy producer would enqueue them.
  for (let i = 0; i < jobs; i += 500) {
    await overseer.enqueueMany(
      Array.from({ length: Math.min(500, jobs - i) }, (_, j) => ({ task: "noop", payload: { i: i + j } })),
    );
    await sleep(5);
  }
  while ((await overseer.store.countJobs()).succeeded < jobs) await sleep(20);
  await worker.stop();
  // Settle: the last events reach the log, then the stream reader picks them up.
  await sleep(200);
  const lastSeq = await overseer.store.lastEventSeq();
  const cpu = process.cpuUsage(cpuAtStart);
  await send({
    type: "done",
    firstSeq,
    lastSeq,
    peakRssMb: Math.round(peakRss / 1024 / 1024),
    serverCpuSec: (cpu.user + cpu.system) / 1e6,
  });
  await nextCommand("stop");
  clearInterval(sampler);
  await server.close();
  await overseer.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
} catch (err) {
  await send({ type: "error", message: errorMessage(err) });
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
}
