/**
 * Connection limits over raw loopback sockets: a request whose headers or body trickle in is
 * answered 408 REQUEST_TIMEOUT and closed; event streams and WebSockets, long answers rather than
 * long requests, outlive many request timeouts; an idle keep-alive connection is closed; and
 * connections over the cap are closed as they arrive while those under it are served. Each is
 * bounded by counts (bytes trickled, keepalives seen), not by how long it took.
 */
import { connect, type Socket } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { testApi } from "../test-support/http.js";
import { openSse } from "../test-support/sse-client.js";
import { waitFor } from "../test-support/wait.js";

const REQUEST_TIMEOUT_MS = 300;
const TRICKLE_MS = 20;
/** Enough bytes that trickling them takes many request timeouts: 400 × 20 ms = 8 s. */
const TRICKLE_BYTES = 400;

interface Opened {
  socket: Socket;
  /** Everything the server sent. */
  received(): string;
  /** Resolves when the server (or an error) closed the socket. */
  closed: Promise<void>;
  isClosed(): boolean;
}

async function open(url: string): Promise<Opened> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  onTestFinished(() => {
    socket.destroy();
  });
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on("data", (c: Buffer) => chunks.push(c));
  const closedPromise = new Promise<void>((resolve) => {
    socket.on("close", () => {
      closed = true;
      resolve();
    });
    // A reset is a close too; the test reads what arrived.
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  return {
    socket,
    received: () => Buffer.concat(chunks).toString("utf8"),
    closed: closedPromise,
    isClosed: () => closed,
  };
}

/** Writes `text` one byte every TRICKLE_MS until it is all sent or the server closed; returns bytes sent. */
async function trickle(conn: Opened, text: string): Promise<number> {
  let sent = 0;
  for (const byte of text) {
    if (conn.isClosed() || conn.received() !== "") return sent;
    conn.socket.write(byte);
    sent++;
    await new Promise((r) => setTimeout(r, TRICKLE_MS));
  }
  return sent;
}

function expect408(conn: Opened, what: string): void {
  const text = conn.received();
  expect(text, what).toMatch(/^HTTP\/1\.1 408 /);
  const body = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4));
  expect(body, what).toEqual({
    error: {
      code: "REQUEST_TIMEOUT",
      message: "the request's headers and body took longer than the server waits for them",
      details: {},
    },
  });
}

describe("the limits' options", () => {
  it.each([
    ["requestTimeoutMs", { requestTimeoutMs: 0 }],
    ["keepAliveTimeoutMs", { keepAliveTimeoutMs: 30 * 86_400_000 }],
    ["maxConnections", { maxConnections: 1.5 }],
  ])("refuses a %s that would switch the limit off or that Node cannot keep", async (field, options) => {
    await expect(testApi(options)).rejects.toMatchObject({ code: "INVALID_ARGUMENT", details: { field } });
  });
});

describe("request timeout", () => {
  it("answers a body that trickles in with 408 and closes, long before it is all sent", async () => {
    const api = await testApi({ requestTimeoutMs: REQUEST_TIMEOUT_MS });
    const conn = await open(api.url);
    const body = JSON.stringify({ task: "t", payload: "p".repeat(TRICKLE_BYTES) });
    conn.socket.write(
      `POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${api.tokens.admin}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
    );
    const sent = await trickle(conn, body);
    await conn.closed;
    expect(sent).toBeLessThan(body.length);
    expect408(conn, "trickled body");
    expect(await api.overseer.listJobs()).toEqual([]);
    expect((await api.request("GET", "/healthz")).status).toBe(200);
    expect(api.logText(), "the cut-off request is no unexpected failure").not.toContain("HTTP request failed");
  });

  it("closes, without a second answer, a connection whose request was answered before its body came", async () => {
    const api = await testApi({ requestTimeoutMs: REQUEST_TIMEOUT_MS });
    const conn = await open(api.url);
    const body = JSON.stringify({ task: "t", payload: "p".repeat(TRICKLE_BYTES) });
    // No token: the server answers 401 from the headers alone, then the body never completes.
    conn.socket.write(
      `POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
    );
    // The client goes on sending its body after the answer, a byte at a time.
    for (const byte of body) {
      if (conn.isClosed()) break;
      conn.socket.write(byte);
      await new Promise((r) => setTimeout(r, TRICKLE_MS));
    }
    await conn.closed;
    const answers = conn.received().match(/HTTP\/1\.1 \d{3} /g) ?? [];
    expect(answers).toEqual(["HTTP/1.1 401 "]);
    expect((await api.request("GET", "/healthz")).status).toBe(200);
  });

  it("answers headers that trickle in with 408 and closes", async () => {
    const api = await testApi({ requestTimeoutMs: REQUEST_TIMEOUT_MS });
    const conn = await open(api.url);
    const head = `GET /api/v1/jobs HTTP/1.1\r\nHost: x\r\nX-Slow: ${"s".repeat(TRICKLE_BYTES)}\r\n\r\n`;
    const sent = await trickle(conn, head);
    await conn.closed;
    expect(sent).toBeLessThan(head.length);
    expect408(conn, "trickled headers");
  });

  it("does not cut an event stream or a WebSocket that lasts many request timeouts", async () => {
    const api = await testApi({ requestTimeoutMs: REQUEST_TIMEOUT_MS, streamKeepaliveMs: 60 });
    const sse = await openSse(`${api.url}/api/v1/events`, { authorization: `Bearer ${api.tokens.viewer}` });
    let sseEnded = false;
    void sse.closed.then(() => {
      sseEnded = true;
    });
    const { WebSocket } = await import("ws");
    const ws = new WebSocket(`${api.url.replace(/^http/, "ws")}/api/v1/ws`, {
      headers: { authorization: `Bearer ${api.tokens.viewer}` },
    });
    onTestFinished(() => ws.close());
    let pings = 0;
    let wsClosed = false;
    ws.on("ping", () => pings++);
    ws.on("close", () => {
      wsClosed = true;
    });
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    // 20 keepalives 60 ms apart: four request timeouts and more on both.
    await waitFor(
      "20 keepalives on each",
      () => sse.comments.filter((c) => c === "keepalive").length >= 20 && pings >= 20,
      { timeoutMs: 30_000 },
    );
    expect(sseEnded).toBe(false);
    expect(wsClosed).toBe(false);
    sse.close();
  });
});

it("closes a keep-alive connection once it has been idle for the keep-alive timeout", async () => {
  const api = await testApi({ keepAliveTimeoutMs: 100 });
  const conn = await open(api.url);
  conn.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  await waitFor("the answer", () => conn.received().includes("\r\n\r\n"));
  expect(conn.received()).toMatch(/^HTTP\/1\.1 200 /);
  expect(conn.received().toLowerCase()).toContain("connection: keep-alive");
  await conn.closed;
  expect(conn.isClosed()).toBe(true);
});

it("closes connections over the cap as they arrive, and serves those under it", async () => {
  const CAP = 3;
  const api = await testApi({ maxConnections: CAP });
  const connections = () =>
    new Promise<number>((resolve, reject) =>
      api.server.app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
    );
  // CAP connections, each mid-request (its headers unfinished), so that each stays open.
  const held: Opened[] = [];
  for (let i = 0; i < CAP; i++) {
    const conn = await open(api.url);
    conn.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    held.push(conn);
  }
  await waitFor("the server to hold the connections", async () => (await connections()) === CAP);
  const extras: Opened[] = [];
  for (let i = 0; i < 5; i++) extras.push(await open(api.url));
  await Promise.all(extras.map((c) => c.closed));
  for (const extra of extras) expect(extra.received()).toBe("");
  expect(await connections()).toBe(CAP);
  // The held ones are still served.
  const first = held[0] as Opened;
  first.socket.write("Connection: close\r\n\r\n");
  await first.closed;
  expect(first.received()).toMatch(/^HTTP\/1\.1 200 /);
  // Under the cap again: a new connection is served.
  await waitFor("a slot to free up", async () => (await connections()) < CAP);
  expect((await api.request("GET", "/healthz")).status).toBe(200);
});
