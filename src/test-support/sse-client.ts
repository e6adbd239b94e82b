/**
 * A Server-Sent Events client for tests, on node:http so a test can also stop reading (a slow
 * client) or cut the connection mid-stream. It parses frames as the SSE spec does: `id:`,
 * `event:`, `data:`, `retry:` fields and `:` comments, one message per blank line.
 */
import { type IncomingMessage, request } from "node:http";
import { onTestFinished } from "vitest";
import { waitFor } from "./wait.js";

export interface SseMessage {
  id: string | null;
  event: string;
  data: string;
}

export interface SseClient {
  readonly status: number;
  readonly headers: IncomingMessage["headers"];
  /** Messages received so far (events and the end marker). */
  readonly messages: SseMessage[];
  readonly comments: string[];
  readonly retry: number | null;
  /** Resolves when the server closes the stream or the connection breaks. */
  readonly closed: Promise<void>;
  /** The body as it came, for non-stream answers (errors). */
  text(): string;
  /** Event seqs received, in order (excluding the end marker). */
  seqs(): number[];
  untilMessages(n: number, timeoutMs?: number): Promise<void>;
  pause(): void;
  resume(): void;
  close(): void;
}

export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: "text/event-stream", ...headers } }, (res) => {
      const messages: SseMessage[] = [];
      const comments: string[] = [];
      let retry: number | null = null;
      let buffer = "";
      let raw = "";
      let current: SseMessage = { id: null, event: "message", data: "" };
      let resolveClosed!: () => void;
      const closed = new Promise<void>((r) => {
        resolveClosed = r;
      });
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        raw += raw.length < 100_000 ? chunk : "";
        buffer += chunk;
        let nl = buffer.indexOf("\n");
        while (nl >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (line === "") {
            if (current.data !== "" || current.id !== null) messages.push(current);
            current = { id: null, event: "message", data: "" };
          } else if (line.startsWith(":")) comments.push(line.slice(1));
          else {
            const colon = line.indexOf(":");
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
            if (field === "id") current.id = value;
            else if (field === "event") current.event = value;
            else if (field === "data") current.data += current.data === "" ? value : `\n${value}`;
            else if (field === "retry") retry = Number(value);
          }
          nl = buffer.indexOf("\n");
        }
      });
      res.socket.on("close", resolveClosed);
      res.on("end", resolveClosed);
      res.on("close", resolveClosed);
      res.on("error", resolveClosed);
      const client: SseClient = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        messages,
        comments,
        get retry() {
          return retry;
        },
        closed,
        text: () => raw,
        seqs: () => messages.filter((m) => m.event === "message").map((m) => Number(m.id)),
        untilMessages: (n, timeoutMs = 20_000) =>
          waitFor(`${n} SSE messages`, () => messages.length >= n, { timeoutMs }).then(() => undefined),
        pause: () => res.pause(),
        resume: () => res.resume(),
        close: () => {
          req.destroy();
          res.destroy();
        },
      };
      onTestFinished(() => client.close());
      resolve(client);
    });
    req.on("error", reject);
    req.end();
  });
}
