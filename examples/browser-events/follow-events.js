/**
 * Following Overseer's event log from a browser with EventSource, losing nothing when the
 * connection drops.
 *
 * EventSource cannot send an Authorization header, so each connection opens with a stream token
 * from POST /api/v1/stream-tokens (valid 60 s; checked when a stream opens, so an open stream
 * outlives it). EventSource's own reconnect would repeat the same URL, whose token has expired
 * by then: 401, and it gives up. So on any error this closes it and opens a new one itself: a
 * fresh token, and `?since=` the id of the last event received, which the server answers with
 * exactly the events after it. Failed attempts wait longer each time: 1 s, 2 s, 4 s ... 30 s.
 *
 * followEvents({ baseUrl, apiToken, onEvent, onStatus, onGap }) starts; it returns { stop, retryNow }.
 * onStatus gets "connecting", "live", "reconnecting", "lost" (three failed attempts in a row; it
 * keeps trying) or "refused" (the API token itself is not accepted: it stops). onGap is called
 * when retention deleted events after the last one received (410): the stream goes on from now,
 * and what was built from events should be reloaded.
 */
const ignore = () => undefined;

export function followEvents({ baseUrl = "", apiToken, onEvent, onStatus = ignore, onGap = ignore }) {
  let lastId = null;
  let source = null;
  let timer = null;
  let failures = 0;
  let stopped = false;
  const auth = { authorization: `Bearer ${apiToken}` };

  async function connect() {
    timer = null;
    let opened = false;
    try {
      const res = await fetch(`${baseUrl}/api/v1/stream-tokens`, { method: "POST", headers: auth });
      if (res.status === 401 || res.status === 403) return stop("refused");
      if (!res.ok) throw new Error(`POST /api/v1/stream-tokens answered ${res.status}`);
      const { token } = await res.json();
      if (stopped) return;
      const since = lastId === null ? "" : `&since=${lastId}`;
      source = new EventSource(`${baseUrl}/api/v1/events?access_token=${encodeURIComponent(token)}${since}`);
    } catch {
      return retry(); // the server did not answer: try again later
    }
    source.onopen = () => {
      opened = true;
      failures = 0;
      onStatus("live");
    };
    source.onmessage = (message) => {
      lastId = message.lastEventId;
      onEvent(JSON.parse(message.data));
    };
    source.onerror = () => {
      // Never let EventSource reconnect by itself: it would reuse this URL and its token.
      source.close();
      source = null;
      if (opened || lastId === null) retry();
      else explain();
    };
  }

  // An attempt that failed before it opened: EventSource does not tell why, so ask the same
  // position once with fetch, which sees the status (and needs no stream token).
  async function explain() {
    const controller = new AbortController();
    try {
      const res = await fetch(`${baseUrl}/api/v1/events?since=${lastId}`, {
        headers: { ...auth, accept: "text/event-stream" },
        signal: controller.signal,
      });
      controller.abort(); // only the status was wanted
      if (res.status === 401 || res.status === 403) return stop("refused");
      if (res.status === 410) {
        lastId = null; // events after it were deleted by retention: go on from now, at once
        onGap();
        return connect();
      }
    } catch {
      // the server did not answer: the retry below will find out again
    }
    retry();
  }

  function retry() {
    if (stopped || timer) return;
    failures += 1;
    onStatus(failures >= 3 ? "lost" : "reconnecting");
    timer = setTimeout(connect, Math.min(1000 * 2 ** (failures - 1), 30_000));
  }

  function stop(status) {
    stopped = true;
    clearTimeout(timer);
    timer = null;
    source?.close();
    onStatus(status);
  }

  onStatus("connecting");
  connect();
  return {
    stop: () => stop("stopped"),
    /** Skips the wait before the next attempt. */
    retryNow() {
      if (!timer) return;
      clearTimeout(timer);
      connect();
    },
  };
}
