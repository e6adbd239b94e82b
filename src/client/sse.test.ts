/**
 * The event-stream reader on bodies cut into awkward chunks: a CRLF split in two, a character
 * split between its bytes, every line ending the spec allows, comments, several data lines,
 * `retry:` advice, and an unfinished message at the end (dropped, as the spec says).
 */
import { describe, expect, it } from "vitest";
import { collect } from "./paging.js";
import { readEventStream } from "./sse.js";

function body(chunks: Array<string | Uint8Array>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
      controller.close();
    },
  });
}

describe("readEventStream", () => {
  it("reads messages however the body is cut", async () => {
    const euro = new TextEncoder().encode("€");
    const messages = await collect(
      readEventStream(
        body([
          "retry: 2000\n\n:keepalive\n\nid: 1\r",
          '\ndata: {"a":',
          euro.slice(0, 1),
          euro.slice(1),
          "}\r\n\rid: 2\rdata: one\ndata:two\n\n",
          "event: end\ndata: {}\n\n",
          "id: 3\ndata: never finished\n",
        ]),
      ),
    );
    expect(messages).toEqual([
      { retry: 2000 },
      { id: "1", event: "message", data: '{"a":€}' },
      { id: "2", event: "message", data: "one\ntwo" },
      { id: null, event: "end", data: "{}" },
    ]);
  });

  it("stops reading, and lets the body go, when the caller stops", async () => {
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode("data: x\n\n"));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const message of readEventStream(stream)) {
      expect(message).toEqual({ id: null, event: "message", data: "x" });
      break;
    }
    expect(cancelled).toBe(true);
  });
});
