/**
 * Following an event stream (SSE) that survives dropped connections: each reconnect resumes
 * after the last event received (its seq is the SSE id, sent back as `?since=`, which the
 * server treats as Last-Event-ID), so no event is lost or delivered twice. It ends when the
 * server ends a finished job's or run's stream, or when the caller aborts or stops iterating.
 */
import { OverseerError } from "../core/errors.js";
import { readEventStream } from "./sse.js";
import type { Transport } from "./transport.js";

export interface FollowOptions {
  /** Resume after this seq. Left out: the whole log from now, or a job's or run's from its start. */
  since?: number;
  /** Stops the stream; the iteration then ends quietly. */
  signal?: AbortSignal;
  /**
   * Failed connection attempts in a row (unreachable, or a 5xx answer) tolerated before the last
   * failure is thrown; default unlimited. A stream that drops after it was open is always resumed,
   * and a 4xx answer (401, 403, 404, 410 EVENTS_TRIMMED) is thrown at once: retrying cannot help.
   */
  retries?: number;
  /**
   * Milliseconds to wait before reconnecting, or a function of the failed attempts in a row (0
   * after a drop). Default: the `retry:` the server suggested, else 1 s.
   */
  reconnectDelay?: number | ((failures: number) => number);
  /** Told when a connection is open (`live`), and when one is about to be tried again. */
  onStatus?: (status: "live" | "reconnecting", failures: number) => void;
}

const DEFAULT_RECONNECT_MS = 1_000;

/** Events as the stream's `data:` carries them; only their `seq` matters here. */
export async function* followEvents<E extends { seq: number }>(
  transport: Transport,
  path: string,
  options: FollowOptions = {},
): AsyncGenerator<E> {
  const { signal } = options;
  const retries = options.retries ?? Number.POSITIVE_INFINITY;
  let since = options.since;
  let failures = 0;
  let suggested = DEFAULT_RECONNECT_MS;
  const pause = async () => {
    options.onStatus?.("reconnecting", failures);
    const delay = options.reconnectDelay;
    await sleep(typeof delay === "function" ? delay(failures) : (delay ?? suggested), signal);
  };
  while (!signal?.aborted) {
    // One controller per connection, so that leaving the loop early closes it.
    const connection = new AbortController();
    const abort = () => connection.abort();
    signal?.addEventListener("abort", abort);
    try {
      let res: Response;
      try {
        res = await transport.send("GET", path, {
          accept: "text/event-stream",
          query: { since },
          signal: connection.signal,
        });
      } catch (err) {
        if (signal?.aborted) return;
        if (!retryable(err) || failures >= retries) throw err;
        failures++;
        await pause();
        continue;
      }
      // 204: a finished job or run with nothing after the cursor.
      if (res.status === 204 || res.body === null) return;
      failures = 0;
      options.onStatus?.("live", 0);
      try {
        for await (const message of readEventStream(res.body)) {
          if ("retry" in message) suggested = message.retry;
          else if (message.event === "end") return;
          else if (message.event === "message") {
            const event = JSON.parse(message.data) as E;
            since = event.seq;
            yield event;
          }
        }
      } catch (err) {
        if (signal?.aborted) return;
        // fetch reports a connection that broke mid-body as a TypeError; it is resumed below.
        if (!(err instanceof TypeError)) throw err;
      }
    } finally {
      signal?.removeEventListener("abort", abort);
      connection.abort();
    }
    if (signal?.aborted) return;
    await pause();
  }
}

/** The failures a later attempt may not meet: the network, or the server's own trouble. */
function retryable(err: unknown): boolean {
  return err instanceof OverseerError && err.status >= 500;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
  });
}
