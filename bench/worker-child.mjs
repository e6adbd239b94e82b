// Child-process worker used by the drain and latency scenarios.
//   node bench/worker-child.mjs <systemId> '<json options>'
// options: { mode: "drain" | "latency", concurrency, jobs, args }
// Protocol (IPC): child -> { type: "ready" }; parent -> { cmd: "go" } (drain) or
// { cmd: "stop" } (latency); child -> "drain-done" / "lat" / "stopped" / "error".
import { performance } from "node:perf_hooks";
import { errorMessage, sleep } from "./lib.mjs";
import { loadSystem } from "./systems/index.mjs";

const [systemId, rawOptions] = process.argv.slice(2);
const options = JSON.parse(rawOptions ?? "{}");

// Never outlive the parent.
process.on("disconnect", () => process.exit(3));

const send = (message) =>
  new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send(message, () => resolve());
  });

function nextCommand(name) {
  return new Promise((resolve) => {
    const onMessage = (message) => {
      if (message?.cmd === name) {
        process.off("message", onMessage);
        resolve(message);
      }
    };
    process.on("message", onMessage);
  });
}

const maxRssKB = () => process.resourceUsage().maxRSS;

async function drain(system) {
  const { concurrency, jobs } = options;
  let handled = 0;
  let allHandled;
  const handledPromise = new Promise((resolve) => {
    allHandled = resolve;
  });
  const handler = async () => {
    handled += 1;
    if (handled === jobs) allHandled();
  };

  await send({ type: "ready" });
  await nextCommand("go");

  const t0 = performance.now();
  const worker = await system.startWorker({ concurrency, handler, args: options.args });
  const tStarted = performance.now();
  await handledPromise;
  const tHandled = performance.now();
  // All handlers have run; now wait until the library records every job as completed.
  while (!(await worker.isDrained(jobs))) await sleep(20);
  const t1 = performance.now();
  const rss = maxRssKB();
  await send({
    type: "drain-done",
    elapsedMs: t1 - t0,
    startMs: tStarted - t0,
    handledMs: tHandled - t0,
    handled,
    maxRssKB: rss,
  });
  const s0 = performance.now();
  await worker.stop();
  await send({ type: "stopped", stopMs: performance.now() - s0, handled });
}

async function latency(system) {
  const { concurrency } = options;
  const handler = async (payload) => {
    const ms = performance.timeOrigin + performance.now() - payload.t0;
    process.send({ type: "lat", i: payload.i, ms });
  };
  const worker = await system.startWorker({ concurrency, handler, args: options.args });
  await send({ type: "ready" });
  await nextCommand("stop");
  const rss = maxRssKB();
  await worker.stop();
  await send({ type: "stopped", maxRssKB: rss });
}

try {
  const system = await loadSystem(systemId);
  // The library is loaded before any clock starts: the peers' adapters import theirs statically.
  await system.load?.();
  if (options.mode === "drain") await drain(system);
  else if (options.mode === "latency") await latency(system);
  else throw new Error(`unknown mode "${options.mode}"`);
  process.exit(0);
} catch (err) {
  await send({ type: "error", message: errorMessage(err), stack: err?.stack });
  process.exit(1);
}
