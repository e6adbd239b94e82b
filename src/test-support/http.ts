/**
 * An HTTP API server on loopback (port 0) over a fresh SQLite file, with one token per scope,
 * for tests that talk to it as clients do: real HTTP through `fetch`. Stopped, and the file
 * removed, when the test ends.
 */
import { Writable } from "node:stream";
import pino from "pino";
import { expect, onTestFinished } from "vitest";
import type { AlertsConfig } from "../config/alerts.js";
import type { RunsConfig } from "../config/run-profiles.js";
import type { Logger } from "../core/logger.js";
import { TOKEN_SCOPES, type TokenScope } from "../core/types.js";
import { type HttpServerOptions, type StartedHttpServer, startHttpServer } from "../http/server.js";
import type { Overseer, OverseerOptions } from "../sdk/overseer.js";
import { testDatabase } from "./test-backend.js";

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or the raw text if it is not JSON. */
  body: any;
  text: string;
}

export interface RequestOptions {
  token?: string;
  /** Sent as JSON unless `raw` is given. */
  body?: unknown;
  /** Sent as it is, with content-type application/json unless headers say otherwise. */
  raw?: string;
  headers?: Record<string, string>;
}

export interface TestApi {
  readonly server: StartedHttpServer;
  readonly overseer: Overseer;
  readonly url: string;
  /** A secret per scope. */
  readonly tokens: Record<TokenScope, string>;
  request(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>;
  /** Everything the server logged so far (at trace level) when the test gave no logger. */
  logText(): string;
}

type OverseerOptionsForTest = Omit<OverseerOptions, "database">;

/**
 * A JSON-RPC error, as the MCP endpoint answers a malformed message (the protocol's own errors
 * are JSON-RPC, not this API's envelope): the fuzz tests accept it there and nowhere else.
 */
export function isJsonRpcError(path: string, body: unknown): boolean {
  const b = body as { jsonrpc?: unknown; error?: { code?: unknown; message?: unknown } } | null;
  return (
    /\/api\/v1\/mcp(\?|$)/.test(path) &&
    b?.jsonrpc === "2.0" &&
    typeof b.error?.code === "number" &&
    typeof b.error.message === "string"
  );
}

/** A pino logger at the most verbose level, writing to memory. */
export function memoryLogger(): { logger: Logger; text: () => string } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: "trace" }, stream), text: () => lines.join("") };
}

/** Call inside a test. */
export async function testApi(
  options: {
    logger?: Logger;
    corsOrigins?: string[];
    runs?: RunsConfig;
    /** The Overseer's alerts config (channels, people, rotations...); none if omitted. */
    alerts?: AlertsConfig;
    /** Opens the Overseer the server serves (a PostgreSQL schema's); default a fresh SQLite file. */
    open?: (options: OverseerOptionsForTest) => Promise<Overseer>;
  } & Partial<Omit<HttpServerOptions, "overseer">> = {},
): Promise<TestApi> {
  // Unless the test brings its own, the server logs to memory, and when the test ends no
  // token may be found in what it logged: every HTTP test doubles as a check on the logs.
  const memory = options.logger ? null : memoryLogger();
  const logger = options.logger ?? memory?.logger;
  const open = options.open ?? (async (o: OverseerOptionsForTest) => (await testDatabase("overseer-http-")).open(o));
  const overseer = await open({ logger, runs: options.runs, alerts: options.alerts });
  const tokens = {} as Record<TokenScope, string>;
  for (const scope of TOKEN_SCOPES) tokens[scope] = (await overseer.createToken(`test-${scope}`, scope)).secret;
  const server = await startHttpServer({ ...options, logger, overseer, port: 0 });
  // Registered after the database's cleanup, so it runs first: the server stops before the store closes.
  onTestFinished(async () => {
    await server.close();
    const logged = memory?.text() ?? "";
    for (const secret of Object.values(tokens))
      expect(logged, "a token reached the server's log").not.toContain(secret);
  });
  const request = async (method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
      headers["content-type"] = "application/json";
    }
    const res = await fetch(server.url + path, { method, headers, body });
    if (res.headers.get("content-type")?.startsWith("text/event-stream")) {
      // A live stream never ends: the status and headers are the answer; stop reading.
      await res.body?.cancel();
      return { status: res.status, headers: res.headers, body: "", text: "" };
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: the caller sees the text (and a test expecting the envelope fails on it).
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  };
  return { server, overseer, url: server.url, tokens, request, logText: () => memory?.text() ?? "" };
}
