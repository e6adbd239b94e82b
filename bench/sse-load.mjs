// The event-stream load check: BENCH_SSE_CLIENTS (500) SSE clients on loopback follow
// GET /api/v1/events while a worker runs BENCH_SSE_JOBS (10,000) no-op jobs; every client must
// receive every event of the run, in order. Reports the delivery lag (event time in the log to
// the moment a client has parsed it) at p50/p99/max over all clients and events, and the peak
// RSS of the server process (server, store and worker; the clients run in this process).
// Clients that are disconnected as too slow resume with Last-Event-ID; how many did is reported.
import { fork } from "node:child_process";
import { Agent, request } from "node:http";
import { fileURLToPath } from "node:url";
import { config, wallMs, withTimeout } from "./lib.mjs";

const CHILD = fileURLToPath(new URL("./sse-server-child.mjs", import.meta.url));

function forkServer() {
  const proc = fork(CHILD, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const waiters = new Map();
  proc.on("message", (m) => {
    const w = waiters.get(m.type) ?? waiters.get("*");
    if (m.type === "error") for (const x of waiters.values()) x.reject(new Error(`server child: ${m.message}`));
    else if (w) {
      waiters.delete(m.type);
      w.resolve(m);
    }
  });
  proc.on("exit", (code) => {
    for (const x of waiters.values()) x.reject(new Error(`server child exited (${code})`));
  });
  const next = (type) => new Promise((resolve, reject) => waiters.set(type, { resolve, reject }));
  return { proc, next, send: (m) => proc.send(m) };
}

/** Event times repeat (many events share a millisecond): parse each once. */
let lastTimeText = "";
let lastTime = 0;
function parseTime(text) {
  if (text !== lastTimeText) {
    lastTimeText = text;
    lastTime = Date.parse(text);
  }
  return lastTime;
}

/** One SSE client: records seqs and the lag of each event; reconnects from its last id if cut off. */
function client(url, token, agent, lags, onConnected) {
  const state = { seqs: [], outOfOrder: 0, reconnects: 0, stopped: false, last: null, req: null };
  const connect = () => {
    const headers = { accept: "text/event-stream", authorization: `Bearer ${token}` };
    if (state.last !== null) headers["last-event-id"] = String(state.last);
    const req = request(`${url}/api/v1/events`, { agent, headers }, (res) => {
      if (res.statusCode !== 200) {
        state.error = `status ${res.statusCode}`;
        return;
      }
      res.setEncoding("utf8");
      let buffer = "";
      let connected = false;
      res.on("data", (chunk) => {
        if (!connected) {
          connected = true;
          onConnected();
        }
        // The clients share this process's one core with each other: read frames by index, with
        // no JSON.parse and no copy per frame (500 clients read 15 million frames here).
        buffer += chunk;
        const now = Date.now();
        let start = 0;
        let end = buffer.indexOf("\n\n", start);
        while (end >= 0) {
          if (buffer.startsWith("id: ", start)) {
            const seq = Number(buffer.slice(start + 4, buffer.indexOf("\n", start)));
            const at = buffer.indexOf('"at":"', start) + 6;
            lags.push(now - parseTime(buffer.slice(at, at + 24)));
            if (state.last !== null && seq <= state.last) state.outOfOrder++;
            state.seqs.push(seq);
            state.last = seq;
          }
          start = end + 2;
          end = buffer.indexOf("\n\n", start);
        }
        buffer = buffer.slice(start);
      });
      res.on("close", () => {
        if (state.stopped) return;
        state.reconnects++;
        setTimeout(connect, 100);
      });
    });
    req.on("error", () => {
      if (state.stopped) return;
      state.reconnects++;
      setTimeout(connect, 100);
    });
    req.end();
    state.req = req;
  };
  connect();
  return state;
}

export async function runSseLoad() {
  const clients = config.sseClients;
  const jobs = config.sseJobs;
  const server = forkServer();
  try {
    const ready = await withTimeout(server.next("ready"), 30_000, "server start");
    const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
    const lags = [];
    let connected = 0;
    let allConnected;
    const everyoneIn = new Promise((resolve) => {
      allConnected = resolve;
    });
    const states = Array.from({ length: clients }, () =>
      client(ready.url, ready.token, agent, lags, () => {
        if (++connected === clients) allConnected();
      }),
    );
    await withTimeout(everyoneIn, 60_000, `${clients} clients to connect`);
    const started = wallMs();
    const clientCpuAtStart = process.cpuUsage();
    server.send({ cmd: "go", jobs });
    const done = await withTimeout(server.next("done"), config.scenarioTimeoutMs, "the run");
    // Every client must reach the last event of the run.
    await withTimeout(
      (async () => {
        while (states.some((s) => (s.last ?? 0) < done.lastSeq)) await new Promise((r) => setTimeout(r, 20));
      })(),
      60_000,
      "every client to receive every event",
    );
    const durationSec = (wallMs() - started) / 1000;
    const clientCpu = process.cpuUsage(clientCpuAtStart);
    for (const s of states) {
      s.stopped = true;
      s.req?.destroy();
    }
    agent.destroy();
    const expected = done.lastSeq - done.firstSeq;
    let complete = 0;
    for (const s of states) {
      const run = s.seqs.filter((q) => q > done.firstSeq);
      const inOrder = run.every((q, i) => q === done.firstSeq + i + 1);
      if (inOrder && run.length === expected && s.outOfOrder === 0) complete++;
    }
    // A typed array sorts numerically, and fast: there are clients x events lags.
    const sorted = Float64Array.from(lags).sort();
    const at = (p) =>
      sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
    server.send({ cmd: "stop" });
    return {
      clients,
      jobs,
      events: expected,
      clientsComplete: complete,
      reconnects: states.reduce((n, s) => n + s.reconnects, 0),
      deliveries: sorted.length,
      lagP50: at(50),
      lagP99: at(99),
      lagMax: sorted.length === 0 ? null : sorted[sorted.length - 1],
      serverPeakRssMb: done.peakRssMb,
      // CPU time until the run's last event was produced (server) and until every client had it (clients).
      serverCpuSec: done.serverCpuSec,
      clientCpuSec: (clientCpu.user + clientCpu.system) / 1e6,
      durationSec,
    };
  } finally {
    setTimeout(() => server.proc.kill("SIGKILL"), 5_000).unref();
  }
}
