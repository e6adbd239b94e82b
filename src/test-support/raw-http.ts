/**
 * HTTP/1.1 by hand over a loopback socket, for tests that send what `fetch` refuses to (control
 * characters and NULs in headers, odd content types, bodies that do not match their length) and
 * need to tell an answer from a dropped connection. One request per connection
 * (`Connection: close`); an event stream's answer is its status and headers, then the socket is
 * closed.
 */
import { connect } from "node:net";

export interface RawRequest {
  method: string;
  /** The request target as sent: already percent-encoded where it should be. */
  path: string;
  /** Sent as given, in order; no Host or Content-Length is added if the list has one. */
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: string | Buffer;
}

export type RawAnswer =
  | { kind: "answer"; status: number; headers: Record<string, string>; text: string; body: unknown }
  /** The socket failed or closed before a complete answer came back. */
  | { kind: "dropped"; error: string; received: string };

/** Sends one request to `url`'s host and port and reads the whole answer. */
export function rawRequest(url: string, request: RawRequest): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  const headers = [...(request.headers ?? [])];
  const has = (name: string) => headers.some(([h]) => h.toLowerCase() === name);
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  if (!has("host")) headers.unshift(["Host", `${hostname}:${port}`]);
  if (body !== undefined && !has("content-length") && !has("transfer-encoding"))
    headers.push(["Content-Length", String(body.length)]);
  headers.push(["Connection", "close"]);
  const head = `${request.method} ${request.path} HTTP/1.1\r\n${headers.map(([h, v]) => `${h}: ${v}\r\n`).join("")}\r\n`;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = connect({ host: hostname, port: Number(port) });
    const finish = (answer: RawAnswer) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(answer);
    };
    const received = () => Buffer.concat(chunks);
    socket.on("connect", () => {
      socket.write(Buffer.from(head, "latin1"));
      if (body !== undefined) socket.write(body);
    });
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      const parsed = parse(received(), false);
      if (parsed) finish(parsed);
    });
    socket.on("end", () => finish(parse(received(), true) ?? dropped("closed before a complete answer", received())));
    // A reset after the whole answer arrived is still an answer; `finish` already resolved it.
    socket.on("error", (err) => finish(parse(received(), true) ?? dropped(err.message, received())));
  });
}

function dropped(error: string, received: Buffer): RawAnswer {
  return { kind: "dropped", error, received: received.toString("latin1").slice(0, 300) };
}

/** The answer in `data` if it is complete (or, at the end of the stream, as complete as it gets). */
function parse(data: Buffer, ended: boolean): RawAnswer | null {
  const headEnd = data.indexOf("\r\n\r\n");
  if (headEnd < 0) return null;
  const lines = data.subarray(0, headEnd).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1]);
  if (!Number.isInteger(status)) return null;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = data.subarray(headEnd + 4);
  if (headers["content-type"]?.startsWith("text/event-stream")) return answer(status, headers, "");
  let text: string | null;
  if (headers["transfer-encoding"]?.toLowerCase() === "chunked") text = dechunk(rest);
  else if (headers["content-length"] !== undefined) {
    const length = Number(headers["content-length"]);
    text = rest.length >= length ? rest.subarray(0, length).toString("utf8") : null;
  } else text = ended ? rest.toString("utf8") : null;
  return text === null ? null : answer(status, headers, text);
}

function answer(status: number, headers: Record<string, string>, text: string): RawAnswer {
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the caller sees the text.
  }
  return { kind: "answer", status, headers, text, body };
}

/** A chunked body's text once its last chunk has arrived, else null. */
function dechunk(data: Buffer): string | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", at);
    if (lineEnd < 0) return null;
    const size = Number.parseInt(data.subarray(at, lineEnd).toString("latin1"), 16);
    if (!Number.isFinite(size)) return null;
    if (size === 0) return Buffer.concat(parts).toString("utf8");
    const start = lineEnd + 2;
    if (data.length < start + size + 2) return null;
    parts.push(data.subarray(start, start + size));
    at = start + size + 2;
  }
}
