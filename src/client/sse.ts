/**
 * A `text/event-stream` body read as the Server-Sent Events spec says: lines ending in CRLF, LF
 * or CR; `id:`, `event:`, `data:` (several join with newlines) and `retry:` fields; `:` comments
 * skipped; one message per blank line. Reads a web ReadableStream, so a fetch response's body
 * is read the same in Node and in a browser.
 */

export interface SseMessage {
  /** The `id:` field, or null when the message had none. */
  id: string | null;
  /** `message` unless an `event:` field named another. */
  event: string;
  data: string;
}

/** A `retry:` field: the reconnect delay the server suggests, in ms. */
export interface SseRetry {
  retry: number;
}

const LINE_END = /\r\n|\r|\n/;

/** The messages (and `retry:` advice) of one stream, as they arrive, until it ends or fails. */
export async function* readEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage | SseRetry> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let message: SseMessage = { id: null, event: "message", data: "" };
  let hasData = false;
  let finished = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.search(LINE_END); end >= 0; end = buffer.search(LINE_END)) {
        // A CR last in the buffer may be the first half of a CRLF: wait for the next chunk.
        if (buffer[end] === "\r" && end === buffer.length - 1) break;
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer.startsWith("\r\n", end) ? 2 : 1));
        if (line === "") {
          if (hasData) yield message;
          message = { id: null, event: "message", data: "" };
          hasData = false;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + (line[colon + 1] === " " ? 2 : 1));
        if (field === "data") {
          message.data = hasData ? `${message.data}\n${value}` : value;
          hasData = true;
        } else if (field === "event") message.event = value;
        else if (field === "id") message.id = value;
        else if (field === "retry" && /^\d+$/.test(value)) yield { retry: Number(value) };
      }
    }
  } finally {
    // Left early (the caller stopped, or the stream failed): let the connection go. Cancelling
    // a failed stream fails again with the error the read already threw, so that one is dropped.
    if (!finished) await reader.cancel().catch(() => undefined);
  }
}
