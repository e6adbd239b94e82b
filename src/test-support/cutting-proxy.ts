/**
 * A TCP proxy on loopback in front of a real server, for tests of clients that must survive a
 * dropped connection: `cut()` destroys every connection through it (as a restarted load
 * balancer or a lost network would), `refuse(true)` answers new ones 503 until told otherwise,
 * and `hold(true)` keeps new ones waiting (a slow network) until `hold(false)` lets them through.
 * It also reads what passes: the request lines clients sent, and the SSE `id:` fields the
 * server delivered, in order, so a test can check that every event arrived exactly once.
 */
import { createServer, connect as netConnect, type Socket } from "node:net";
import { onTestFinished } from "vitest";

export interface CuttingProxy {
  /** http://127.0.0.1:<port>, without a trailing slash. */
  readonly url: string;
  /** Every request line clients sent ("GET /api/v1/events?since=5"), in order. */
  requests(): string[];
  /** The SSE `id:` values the server sent to clients, connection by connection, in order. */
  deliveredIds(): number[];
  /** Destroys every open connection, both ways. */
  cut(): void;
  /** While true, each new connection is answered 503 and closed. */
  refuse(on: boolean): void;
  /** While true, new connections wait; set false, they go through, what they sent included. */
  hold(on: boolean): void;
  close(): Promise<void>;
}

const REQUEST_LINE = /(?:^|\r\n)([A-Z]+ \S+) HTTP\/1\.1\r\n/g;
const SSE_ID = /(?:^|\n)id: (\d+)\n/g;

/** Starts a proxy to `target` (http://host:port); it is closed when the test finishes. */
export async function cuttingProxy(target: string): Promise<CuttingProxy> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  /** What each connection carried, in the order connections opened. */
  const traffic: { up: string; down: string }[] = [];
  let refusing = false;

  /** Every socket accepted, refused ones too: close() must not wait on any of them. */
  const accepted = new Set<Socket>();
  let holding = false;
  const held: Socket[] = [];
  const server = createServer((client) => {
    accepted.add(client);
    client.on("close", () => accepted.delete(client));
    // A client that gives up on a held or refused connection resets it: that is its business.
    client.on("error", () => client.destroy());
    // No "data" listener yet: what it sends stays buffered in the socket until it is let through.
    if (holding) held.push(client);
    else pass(client);
  });
  const pass = (client: Socket) => {
    if (client.destroyed) return;
    if (refusing) {
      client.end("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
      return;
    }
    const seen = { up: "", down: "" };
    traffic.push(seen);
    const upstream = netConnect({ host: hostname, port: Number(port) });
    open.add(client);
    open.add(upstream);
    client.on("data", (chunk: Buffer) => {
      seen.up += chunk.toString("latin1");
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      seen.down += chunk.toString("utf8");
      client.write(chunk);
    });
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    // Either side ending or failing ends the pair: a proxy that half-closes would hide a cut.
    for (const socket of [client, upstream]) {
      socket.on("end", drop);
      socket.on("error", drop);
      socket.on("close", drop);
    }
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the proxy has no port");

  const proxy: CuttingProxy = {
    url: `http://127.0.0.1:${address.port}`,
    requests: () => traffic.flatMap((t) => [...t.up.matchAll(REQUEST_LINE)].map((m) => m[1] ?? "")),
    deliveredIds: () => traffic.flatMap((t) => [...t.down.matchAll(SSE_ID)].map((m) => Number(m[1]))),
    cut() {
      for (const socket of [...open]) socket.destroy();
      open.clear();
    },
    refuse(on) {
      refusing = on;
    },
    hold(on) {
      holding = on;
      if (!on) for (const client of held.splice(0)) pass(client);
    },
    close() {
      proxy.cut();
      for (const socket of accepted) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  onTestFinished(() => proxy.close());
  return proxy;
}
