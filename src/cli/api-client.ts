/**
 * The CLI's HTTP client for `--url`: JSON requests with the bearer token, the server's error
 * envelope turned back into the OverseerError it describes (so the CLI prints the same
 * `CODE: message` line and exits with the same status as in local mode), and an SSE reader
 * that resumes with Last-Event-ID when the connection drops.
 */
import { ERROR_CODES, type ErrorCode, OverseerError } from "../core/errors.js";
import type { OverseerEvent } from "../core/types.js";

/** The most items the API returns per page of a listing. */
const PAGE_LIMIT = 500;
/** How long to wait before reconnecting a dropped stream. */
const RECONNECT_MS = 1_000;

export class ApiClient {
  private readonly base: string;

  constructor(
    url: string,
    private readonly token: string | undefined,
  ) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new OverseerError(
        "INVALID_ARGUMENT",
        `--url must be the server's URL, e.g. http://127.0.0.1:7070; got "${url}"`,
        {
          field: "url",
        },
      );
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new OverseerError("INVALID_ARGUMENT", `--url must start with http:// or https://; got "${url}"`, {
        field: "url",
      });
    }
    // Accept both http://host:7070 and http://host:7070/api/v1.
    this.base = parsed.href.replace(/\/+$/, "").replace(/\/api\/v1$/, "");
  }

  async request<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    return (await this.exchange<T>(method, path, body)).body;
  }

  /**
   * `request`, with the success status too, for answers whose status carries meaning (an
   * enqueue answers 201 when it created the job, 200 when an idempotency key found it).
   */
  async exchange<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { accept: "application/json", ...this.auth() };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await this.fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw toError(res.status, text);
    return { status: res.status, body: (text === "" ? null : JSON.parse(text)) as T };
  }

  /**
   * Up to `limit` items of a paged listing (`{items, nextCursor}`), a page of at most 500 at a
   * time, starting at `cursor` (an opaque cursor of the API) when given.
   */
  async collect<T>(path: string, params: URLSearchParams, limit: number, cursor?: string): Promise<T[]> {
    const items: T[] = [];
    let next = cursor;
    while (items.length < limit) {
      const query = new URLSearchParams(params);
      query.set("limit", String(Math.min(PAGE_LIMIT, limit - items.length)));
      if (next !== undefined) query.set("cursor", next);
      const page = await this.request<{ items: T[]; nextCursor: string | null }>("GET", `${path}?${query}`);
      items.push(...page.items);
      if (page.nextCursor === null) break;
      next = page.nextCursor;
    }
    return items;
  }

  /** A GET whose answer is bytes (a run's output), with an optional `Range` header. */
  async bytes(path: string, range?: string): Promise<{ status: number; data: Buffer; size: number | null }> {
    const headers: Record<string, string> = { ...this.auth(), ...(range === undefined ? {} : { range }) };
    const res = await this.fetch(path, { method: "GET", headers });
    const data = Buffer.from(await res.arrayBuffer());
    if (!res.ok) throw toError(res.status, data.toString("utf8"));
    const size = res.headers.get("x-output-size");
    return { status: res.status, data, size: size === null ? null : Number(size) };
  }

  /**
   * Follows an SSE stream from `since`, calling `onEvent` for each event, until `signal` aborts
   * or the stream ends (a finished job's). A dropped connection is resumed from the last event.
   */
  async follow(
    path: string,
    since: number,
    onEvent: (event: OverseerEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    let last = since;
    while (!signal.aborted) {
      let res: Response;
      try {
        res = await this.fetch(path, {
          headers: { accept: "text/event-stream", "last-event-id": String(last), ...this.auth() },
          signal,
        });
      } catch (err) {
        if (signal.aborted) return;
        throw err;
      }
      if (res.status === 204) return;
      if (!res.ok) throw toError(res.status, await res.text());
      const ended = await readEvents(res, signal, (event) => {
        last = event.seq;
        onEvent(event);
      });
      if (ended || signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    }
  }

  private auth(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(this.base + path, init);
    } catch (err) {
      if ((init.signal as AbortSignal | undefined)?.aborted) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new OverseerError(
        "SERVER_UNREACHABLE",
        `cannot reach ${this.base}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
        { url: this.base },
      );
    }
  }
}

/** The envelope as the error it names; an answer that is not one is reported as it came. */
function toError(status: number, text: string): OverseerError {
  try {
    const { error } = JSON.parse(text) as {
      error: { code: string; message: string; details?: Record<string, unknown> };
    };
    if (error && error.code in ERROR_CODES)
      return new OverseerError(error.code as ErrorCode, error.message, error.details);
  } catch {
    // not the envelope: fall through
  }
  return new OverseerError(
    status >= 500 ? "INTERNAL_ERROR" : "INVALID_ARGUMENT",
    `the server answered ${status}: ${text.slice(0, 200)}`,
  );
}

/** Reads SSE frames; true when the server ended the stream on purpose (`event: end`). */
async function readEvents(
  res: Response,
  signal: AbortSignal,
  onEvent: (event: OverseerEvent) => void,
): Promise<boolean> {
  if (!res.body) return false;
  const decoder = new TextDecoder();
  let buffer = "";
  let kind = "message";
  let data = "";
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let nl = buffer.indexOf("\n");
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf("\n");
        if (line === "") {
          if (kind === "end") return true;
          if (data !== "") onEvent(JSON.parse(data) as OverseerEvent);
          kind = "message";
          data = "";
        } else if (line.startsWith("event:")) kind = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).replace(/^ /, "");
      }
    }
  } catch (err) {
    // A dropped connection is resumed by the caller; anything else is a real failure.
    if (signal.aborted || (err as { name?: string }).name === "TypeError") return false;
    throw err;
  }
  return false;
}
