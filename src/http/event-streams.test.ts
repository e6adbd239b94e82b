/**
 * The event streams over real HTTP on loopback: resuming after a cut mid-burst loses and
 * repeats nothing, a trimmed position is a 410, an idle stream gets keepalives, a finished
 * job's stream ends, and a client that stops reading is cut off without holding up the others.
 */
import { describe, expect, it } from "vitest";
import { testApi } from "../test-support/http.js";
import { openSse } from "../test-support/sse-client.js";
import { waitFor } from "../test-support/wait.js";

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

async function allSeqs(api: Awaited<ReturnType<typeof testApi>>): Promise<number[]> {
  const seqs: number[] = [];
  for (let after = 0; ; ) {
    const page = await api.overseer.readEvents({ afterSeq: after, limit: 1_000 });
    if (page.length === 0) return seqs;
    seqs.push(...page.map((e) => e.seq));
    after = page.at(-1)?.seq ?? after;
  }
}

describe("SSE event streams", () => {
  it("a client cut off mid-burst resumes with Last-Event-ID and misses and repeats nothing", async () => {
    const api = await testApi();
    const base = await api.overseer.store.lastEventSeq();
    const first = await openSse(`${api.url}/api/v1/events?since=0`, auth(api.tokens.viewer));
    expect(first.status).toBe(200);
    expect(first.headers["content-type"]).toMatch(/^text\/event-stream/);
    // A burst in the background: 40 batches of 50 jobs.
    const burst = (async () => {
      for (let i = 0; i < 40; i++) {
        await api.overseer.enqueueMany(Array.from({ length: 50 }, (_, j) => ({ task: "t", payload: { i, j } })));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await first.untilMessages(300);
    first.close();
    const got = first.seqs();
    expect(got.length).toBeLessThan(base + 2_000); // cut mid-burst
    const resumed = await openSse(`${api.url}/api/v1/events`, {
      ...auth(api.tokens.viewer),
      "last-event-id": String(got.at(-1)),
    });
    await burst;
    const expected = await allSeqs(api);
    expect(expected).toHaveLength(base + 2_000);
    await waitFor("the resumed stream to catch up", () => [...got, ...resumed.seqs()].at(-1) === expected.at(-1), {
      timeoutMs: 20_000,
    });
    expect([...got, ...resumed.seqs()]).toEqual(expected);
    const last = JSON.parse(resumed.messages.at(-1)?.data ?? "{}");
    expect(last).toMatchObject({ seq: expected.at(-1), kind: "job.enqueued", data: { task: "t" } });
  });

  it("?since= works like Last-Event-ID, and without either the stream starts live", async () => {
    const api = await testApi();
    const base = await api.overseer.store.lastEventSeq();
    await api.overseer.enqueue("t");
    await api.overseer.enqueue("t");
    const fromOne = await openSse(`${api.url}/api/v1/events?since=${base + 1}`, auth(api.tokens.viewer));
    await fromOne.untilMessages(1);
    const live = await openSse(`${api.url}/api/v1/events`, auth(api.tokens.viewer));
    expect(live.retry).toBe(2_000);
    await api.overseer.enqueue("t");
    await live.untilMessages(1);
    expect(live.seqs()).toEqual([base + 3]);
    await fromOne.untilMessages(2);
    expect(fromOne.seqs()).toEqual([base + 2, base + 3]);
  });

  it("answers 410 EVENTS_TRIMMED when the position was deleted by retention", async () => {
    const api = await testApi();
    const base = await api.overseer.store.lastEventSeq();
    for (let i = 0; i < 10; i++) await api.overseer.enqueue("t");
    await api.overseer.store.prune({ jobs: {}, events: { maxCount: 3 } });
    const res = await api.request("GET", "/api/v1/events?since=2", { token: api.tokens.viewer });
    expect(res.status).toBe(410);
    expect(res.body).toEqual({
      error: {
        code: "EVENTS_TRIMMED",
        message: expect.stringContaining("deleted by retention"),
        details: { since: 2, oldestSeq: base + 8 },
      },
    });
    const header = await api.request("GET", "/api/v1/events", {
      token: api.tokens.viewer,
      headers: { "last-event-id": "0" },
    });
    expect(header.status).toBe(410);
    // Right at the edge nothing is lost: the stream opens.
    const edge = await openSse(`${api.url}/api/v1/events?since=${base + 7}`, auth(api.tokens.viewer));
    expect(edge.status).toBe(200);
    await edge.untilMessages(3);
    expect(edge.seqs()).toEqual([base + 8, base + 9, base + 10]);
  });

  it("sends a :keepalive comment on an idle stream and a retry hint", async () => {
    const api = await testApi({ streamKeepaliveMs: 50, streamRetryMs: 1_500 });
    const client = await openSse(`${api.url}/api/v1/events`, auth(api.tokens.viewer));
    await waitFor("two keepalives", () => client.comments.filter((c) => c === "keepalive").length >= 2);
    expect(client.retry).toBe(1_500);
    expect(client.messages).toEqual([]);
  });

  it("a finished job's stream replays its history, ends after its terminal event, then answers 204", async () => {
    const api = await testApi();
    api.overseer.defineTask("t", async () => "done");
    const job = await api.overseer.enqueue("t");
    const other = await api.overseer.enqueue("other");
    const client = await openSse(`${api.url}/api/v1/jobs/${job.id}/events`, auth(api.tokens.viewer));
    const worker = api.overseer.worker({ concurrency: 1 });
    await worker.start();
    await client.closed;
    await worker.stop();
    const kinds = client.messages.filter((m) => m.event === "message").map((m) => JSON.parse(m.data).kind);
    expect(kinds).toEqual(["job.enqueued", "job.started", "job.succeeded"]);
    const end = client.messages.at(-1);
    expect(end?.event).toBe("end");
    expect(JSON.parse(end?.data ?? "{}")).toEqual({ reason: "finished", lastEventId: client.seqs().at(-1) });
    for (const m of client.messages.filter((x) => x.event === "message")) expect(JSON.parse(m.data).jobId).toBe(job.id);
    expect(other.id).not.toBe(job.id);
    // Reconnecting after the end: nothing more will come, and 204 tells EventSource to stop.
    const again = await openSse(`${api.url}/api/v1/jobs/${job.id}/events`, {
      ...auth(api.tokens.viewer),
      "last-event-id": String(client.seqs().at(-1)),
    });
    expect(again.status).toBe(204);
    // A finished job opened from the start replays it all and ends.
    const replay = await openSse(`${api.url}/api/v1/jobs/${job.id}/events`, auth(api.tokens.viewer));
    await replay.closed;
    expect(replay.seqs()).toEqual(client.seqs());
    const missing = await api.request("GET", "/api/v1/jobs/01NOSUCHJOB000000000000000/events", {
      token: api.tokens.viewer,
    });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("JOB_NOT_FOUND");
  });

  it("an unknown job or run is 404 as a JSON page as it is as a stream; a discarded job's events stay readable", async () => {
    const api = await testApi();
    const token = api.tokens.viewer;
    for (const [path, code] of [
      ["/api/v1/jobs/01NOSUCHJOB000000000000000/events", "JOB_NOT_FOUND"],
      ["/api/v1/runs/01NOSUCHRUN000000000000000/events", "RUN_NOT_FOUND"],
    ] as const) {
      for (const accept of ["application/json", "text/event-stream"]) {
        const res = await api.request("GET", path, { token, headers: { accept } });
        expect(res.status, `${path} as ${accept}`).toBe(404);
        expect(res.body.error.code, `${path} as ${accept}`).toBe(code);
      }
    }
    const job = await api.overseer.enqueue("t");
    await api.overseer.cancel(job.id);
    await api.overseer.discard(job.id);
    const page = await api.request("GET", `/api/v1/jobs/${job.id}/events`, {
      token,
      headers: { accept: "application/json" },
    });
    expect(page.status).toBe(200);
    expect(page.body.items.map((e: { kind: string }) => e.kind)).toEqual([
      "job.enqueued",
      "job.cancelled",
      "job.discarded",
    ]);
  });

  it("a job that died and was retried streams on past its old terminal event until it finishes again", async () => {
    const api = await testApi();
    const { PermanentError } = await import("../core/errors.js");
    let fail = true;
    api.overseer.defineTask("t", async () => {
      if (fail) throw new PermanentError("not yet");
      return "ok";
    });
    const job = await api.overseer.enqueue("t");
    const worker = api.overseer.worker({ concurrency: 1 });
    await worker.start();
    await waitFor("the job to die", async () => (await api.overseer.getJob(job.id))?.state === "dead");
    await worker.stop();
    await api.overseer.retry(job.id);
    const client = await openSse(`${api.url}/api/v1/jobs/${job.id}/events`, auth(api.tokens.viewer));
    await waitFor("its history", () => client.messages.some((m) => m.data.includes('"job.retried"')));
    fail = false;
    const again = api.overseer.worker({ concurrency: 1 });
    await again.start();
    await client.closed;
    await again.stop();
    const kinds = client.messages.filter((m) => m.event === "message").map((m) => JSON.parse(m.data).kind);
    expect(kinds).toEqual([
      "job.enqueued",
      "job.started",
      "job.failed",
      "job.dead",
      "job.retried",
      "job.started",
      "job.succeeded",
    ]);
    expect(client.messages.at(-1)?.event).toBe("end");
  });

  it("a client that stops reading is disconnected; the others get everything", async () => {
    const api = await testApi({ streamBufferBytes: 256 * 1024 });
    const slow = await openSse(`${api.url}/api/v1/events`, auth(api.tokens.viewer));
    slow.pause();
    // The fast client reads all along; on a loaded machine it may still fall behind by more than
    // the limit plus a batch (up to 2 MB of these events) and be cut off too. Then it resumes from
    // its last id, as EventSource does, and what it got across its connections is checked whole.
    const earlier: number[] = [];
    let fast = await openSse(`${api.url}/api/v1/events`, auth(api.tokens.viewer));
    let fastClosed = false;
    const follow = (client: typeof fast) => client.closed.then(() => (fastClosed = true));
    void follow(fast);
    const fastSeqs = () => [...earlier, ...fast.seqs()];
    const before = await api.overseer.store.lastEventSeq();
    const chunk = "x".repeat(2 * 1024);
    // 40 MB of events, more than the kernel's socket buffers can hide, in steps the readers can follow.
    for (let i = 0; i < 400; i++) {
      await api.overseer.store.appendEvents(
        Array.from({ length: 50 }, (_, j) => ({ kind: "job.log", data: { i, j, chunk } })),
      );
      await new Promise((r) => setTimeout(r, 1));
    }
    const last = await api.overseer.store.lastEventSeq();
    // A bound on a hang, not on speed: 40 MB through the hub takes seconds, but many more on a loaded machine.
    await waitFor(
      "the fast client to get everything",
      async () => {
        if (fastSeqs().at(-1) === last) return true;
        if (fastClosed) {
          earlier.push(...fast.seqs());
          fastClosed = false;
          const lastEventId = String(earlier.at(-1) ?? before);
          fast = await openSse(`${api.url}/api/v1/events`, {
            ...auth(api.tokens.viewer),
            "last-event-id": lastEventId,
          });
          void follow(fast);
        }
        return false;
      },
      { timeoutMs: 100_000 },
    );
    expect(fastSeqs()).toEqual(Array.from({ length: last - before }, (_, i) => before + i + 1));
    await waitFor("the slow client to be cut off", async () => {
      const metrics = await api.request("GET", "/metrics", { token: api.tokens.metrics });
      return metrics.text.includes('overseer_event_stream_clients{transport="sse"} 1');
    });
    // Read what reached it before the cut: a gapless prefix, so it can resume from its last id.
    slow.resume();
    await slow.closed;
    const partial = slow.seqs();
    expect(partial.length).toBeLessThan(last - before);
    expect(partial).toEqual(fastSeqs().slice(0, partial.length));
  }, 150_000);
});

describe("stream tokens", () => {
  it("open the stream routes as ?access_token= and nothing else", async () => {
    const api = await testApi();
    const minted = await api.request("POST", "/api/v1/stream-tokens", { token: api.tokens.viewer });
    expect(minted.status).toBe(201);
    expect(minted.headers.get("cache-control")).toBe("no-store");
    const { token, expiresAt } = minted.body;
    expect(token).toMatch(/^ovss_/);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(50_000);
    const job = await api.overseer.enqueue("t");
    const stream = await openSse(`${api.url}/api/v1/events?since=0&access_token=${token}`);
    expect(stream.status).toBe(200);
    await stream.untilMessages(1);
    const jobStream = await openSse(`${api.url}/api/v1/jobs/${job.id}/events?access_token=${token}`);
    expect(jobStream.status).toBe(200);
    // Not on other routes, neither in the query nor as a bearer token.
    expect((await api.request("GET", `/api/v1/jobs?access_token=${token}`)).status).toBe(401);
    expect((await api.request("GET", "/api/v1/jobs", { token })).status).toBe(401);
    expect((await api.request("GET", "/api/v1/queues", { token })).status).toBe(401);
    // A long-lived token is refused in a URL even though it is valid.
    const long = await api.request("GET", `/api/v1/events?access_token=${api.tokens.viewer}`);
    expect(long.status).toBe(401);
    expect(long.body.error.message).toMatch(/only a stream token/);
    // A forged one is refused.
    const forged = `${token.slice(0, -4)}AAAA`;
    expect((await api.request("GET", `/api/v1/events?access_token=${forged}`)).status).toBe(401);
  });

  it("expire, die with their parent token, and carry its scope", async () => {
    const api = await testApi();
    const { mintStreamToken } = await import("../auth/stream-tokens.js");
    const viewer = (await api.overseer.store.listTokens()).find((t) => t.name === "test-viewer");
    if (!viewer) throw new Error("no viewer token");
    const expired = mintStreamToken(viewer, Date.now() - 61_000);
    const res = await api.request("GET", `/api/v1/events?access_token=${expired}`);
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/expired/);
    const short = await api.request("POST", "/api/v1/stream-tokens", {
      token: api.tokens.viewer,
      body: { ttlSeconds: 1 },
    });
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await api.request("GET", `/api/v1/events?access_token=${short.body.token}`)).status).toBe(401);
    const live = await api.request("POST", "/api/v1/stream-tokens", { token: api.tokens.viewer });
    await api.overseer.store.revokeToken("test-viewer");
    expect((await api.request("GET", `/api/v1/events?access_token=${live.body.token}`)).status).toBe(401);
    // A metrics token cannot make one.
    expect((await api.request("POST", "/api/v1/stream-tokens", { token: api.tokens.metrics })).status).toBe(403);
    const tooLong = await api.request("POST", "/api/v1/stream-tokens", {
      token: api.tokens.admin,
      body: { ttlSeconds: 3_600 },
    });
    expect(tooLong.status).toBe(400);
  });

  it("are checked when a stream opens, not after: an open stream outlives its token, and a fresh one resumes exactly", async () => {
    // The server's default life, shortened: the token expires while its stream is open.
    const api = await testApi({ streamTokenTtlMs: 300 });
    const minted = await api.request("POST", "/api/v1/stream-tokens", { token: api.tokens.viewer });
    expect(Date.parse(minted.body.expiresAt) - Date.now()).toBeLessThanOrEqual(300);
    await api.overseer.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ task: "t", payload: { i } })));
    const stream = await openSse(`${api.url}/api/v1/events?since=0&access_token=${minted.body.token}`);
    expect(stream.status).toBe(200);
    await stream.untilMessages(5);
    await waitFor(
      "the stream token to expire",
      async () => {
        const res = await api.request("GET", `/api/v1/events?access_token=${minted.body.token}`);
        return res.status === 401;
      },
      { intervalMs: 50 },
    );
    // Still open after its token expired: these arrive on it.
    await api.overseer.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ task: "t", payload: { i: 5 + i } })));
    await stream.untilMessages(10);
    stream.close();
    const lastSeen = stream.seqs().at(-1);
    // Missed while disconnected; a fresh token and ?since= bring exactly these, none twice.
    await api.overseer.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ task: "t", payload: { i: 10 + i } })));
    const fresh = await api.request("POST", "/api/v1/stream-tokens", { token: api.tokens.viewer });
    const resumed = await openSse(`${api.url}/api/v1/events?since=${lastSeen}&access_token=${fresh.body.token}`);
    expect(resumed.status).toBe(200);
    await resumed.untilMessages(5);
    expect([...stream.seqs(), ...resumed.seqs()]).toEqual(await allSeqs(api));
    // Out of range for a server option: refused when the server is built.
    await expect(testApi({ streamTokenTtlMs: 3_600_000 })).rejects.toThrow(/streamTokenTtlMs must be/);
  });
});
