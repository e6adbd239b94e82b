/**
 * Every request of the client goes through one Transport: the server's address, the bearer
 * token (read afresh for each request, so a browser session can change it), and any answer
 * outside 2xx turned into the OverseerError its envelope names. Only `fetch`, `URL` and
 * `TextDecoder`: it runs the same in Node 20 and in a browser.
 */
import { OverseerError } from "../core/errors.js";
import { errorFromAnswer } from "./envelope.js";

export interface ClientOptions {
  /**
   * The server, e.g. `http://127.0.0.1:7070` (a trailing `/api/v1` is accepted). May be left out
   * in a page the server itself serves (the dashboard): requests then go to the page's origin.
   */
  url?: string;
  /** The bearer token, or a function asked before each request (a session's, which changes). */
  token?: string | null | (() => string | null | undefined);
  /** Called on every 401 answer, before its error is thrown: the token is unknown or was revoked. */
  onUnauthenticated?: () => void;
  /** Used instead of the global `fetch` (a proxy agent, a test double). */
  fetch?: typeof fetch;
}

/** A query parameter; lists are sent comma-separated, and undefined or null ones are left out. */
export type QueryValue = string | number | boolean | readonly string[] | null | undefined;

/** A write on one record, and the version of it the caller read. */
export interface Versioned {
  /** Sent as If-Match: a record changed since is refused (409 VERSION_CONFLICT), and nothing is written. */
  version?: number;
  signal?: AbortSignal;
}

export interface RequestOptions extends Versioned {
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  body?: unknown;
  accept?: string;
  headers?: Record<string, string>;
}

export interface Answer<T> {
  status: number;
  headers: Headers;
  body: T;
}

export class Transport {
  /** The origin (and any path prefix) requests go to; empty for the page's own origin. */
  readonly base: string;
  private readonly token: () => string | null | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly onUnauthenticated: (() => void) | undefined;

  constructor(options: ClientOptions = {}) {
    this.base = baseOf(options.url);
    const token = options.token;
    this.token = typeof token === "function" ? token : () => token;
    // Called through a closure: a browser's fetch refuses to run with another object as `this`.
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.onUnauthenticated = options.onUnauthenticated;
  }

  /** A JSON request; the parsed answer with its status (null for an empty body). */
  async json<T>(method: "GET" | "POST" | "PUT", path: string, options: RequestOptions = {}): Promise<Answer<T>> {
    const res = await this.send(method, path, { accept: "application/json", ...options });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text === "" ? null : JSON.parse(text)) as T };
  }

  /** The response of a successful request, its body unread (a stream, bytes); anything else is thrown. */
  async send(method: "GET" | "POST" | "PUT", path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.accept !== undefined) headers.accept = options.accept;
    const token = this.token();
    if (token) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (options.version !== undefined) headers["if-match"] = `"${options.version}"`;
    const url = `${this.base}${path}${queryString(options.query)}`;
    let res: Response;
    try {
      res = await this.fetchImpl(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      throw this.unreachable(err);
    }
    if (res.ok) return res;
    if (res.status === 401) this.onUnauthenticated?.();
    throw errorFromAnswer(res.status, await res.text());
  }

  /** SERVER_UNREACHABLE, naming the server and what the network said (also as `details.reason`). */
  private unreachable(err: unknown): OverseerError {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (err as Error).message;
    const where = this.base === "" ? "the server" : this.base;
    return new OverseerError("SERVER_UNREACHABLE", `cannot reach ${where}: ${reason}`, { url: where, reason });
  }
}

function baseOf(url: string | undefined): string {
  if (url === undefined) {
    if ((globalThis as { location?: unknown }).location === undefined) {
      throw new OverseerError("INVALID_ARGUMENT", "url is required outside a browser, e.g. http://127.0.0.1:7070", {
        field: "url",
      });
    }
    return "";
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `url must be the server's URL, e.g. http://127.0.0.1:7070; got "${url}"`,
      {
        field: "url",
      },
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new OverseerError("INVALID_ARGUMENT", `url must start with http:// or https://; got "${url}"`, {
      field: "url",
    });
  }
  // Both http://host:7070 and http://host:7070/api/v1 name the server.
  return parsed.href.replace(/\/+$/, "").replace(/\/api\/v1$/, "");
}

function queryString(query: Record<string, QueryValue> | undefined): string {
  if (query === undefined) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    params.set(key, typeof value === "object" ? value.join(",") : String(value));
  }
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}
