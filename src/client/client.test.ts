/**
 * The client against a real server on loopback: listings read across pages, an event stream
 * followed through a dropped connection and a refusing proxy without losing or repeating an
 * event, the error envelope back as the OverseerError the server raised, and a 401.
 */
import { describe, expect, it } from "vitest";
import { OverseerError } from "../core/errors.js";
import { cuttingProxy } from "../test-support/cutting-proxy.js";
import { testApi } from "../test-support/http.js";
import { waitFor } from "../test-support/wait.js";
import { collect, OverseerClient, type OverseerEvent } from "./index.js";

async function setup() {
  const api = await testApi();
  const client = new OverseerClient({ url: api.url, token: api.tokens.admin });
  return { api, client, overseer: api.overseer };
}

/** What `run` rejected with. */
async function failure(run: () => Promise<unknown>): Promise<OverseerError> {
  const err = await run().then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OverseerError);
  return err as OverseerError;
}

describe("the client's listings", () => {
  it("read one page, or every page in turn, following nextCursor to the last", async () => {
    const { client, overseer } = await setup();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await overseer.enqueue("t", { i })).id);
    const newestFirst = [...ids].reverse();

    const first = await client.jobs.list({ limit: 3 });
    expect(first.items.map((j) => j.id)).toEqual(newestFirst.slice(0, 3));
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await client.jobs.list({ limit: 3, cursor: first.nextCursor ?? undefined });
    expect(second.items.map((j) => j.id)).toEqual(newestFirst.slice(3, 6));

    // The count of a filter's matches, and the task names for pickers.
    expect(await client.jobs.count({ task: "t" })).toEqual({ count: 7, capped: false });
    expect(await client.jobs.count({ state: ["dead"] })).toEqual({ count: 0, capped: false });
    expect(await client.jobs.taskNames()).toEqual(expect.any(Array));

    const pages = await collect(client.jobs.pages({}, { pageSize: 3 }));
    expect(pages.map((p) => p.items.length)).toEqual([3, 3, 1]);
    expect(pages.at(-1)?.nextCursor).toBeNull();
    expect((await collect(client.jobs.all({}, { pageSize: 3 }))).map((j) => j.id)).toEqual(newestFirst);
    // A limit stops the walk, asking for no more than it needs.
    expect((await collect(client.jobs.all({}, { pageSize: 3, limit: 4 }))).map((j) => j.id)).toEqual(
      newestFirst.slice(0, 4),
    );
    const oldestFirst = await collect(client.jobs.all({ order: "asc", state: ["queued"] }, { pageSize: 2 }));
    expect(oldestFirst.map((j) => j.id)).toEqual(ids);

    const events = await collect(client.events.after({ since: 0 }));
    expect(events.filter((e) => e.kind === "job.enqueued").map((e) => e.jobId)).toEqual(ids);
  });
});

describe("following events", () => {
  it("resumes after the server's connection drops, and after a proxy refused to connect, with every event once", async () => {
    const { api, overseer } = await setup();
    const proxy = await cuttingProxy(api.url);
    const statuses: string[] = [];
    const client = new OverseerClient({ url: proxy.url, token: api.tokens.viewer });
    const stop = new AbortController();
    const received: OverseerEvent[] = [];
    const following = (async () => {
      const stream = client.events.follow({
        since: 0,
        signal: stop.signal,
        reconnectDelay: 50,
        onStatus: (s, failures) => statuses.push(`${s}:${failures}`),
      });
      for await (const event of stream) received.push(event);
    })();
    const enqueued = async (n: number) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) ids.push((await overseer.enqueue("t", { i })).id);
      return ids;
    };
    const jobsSeen = () => received.filter((e) => e.kind === "job.enqueued").map((e) => e.jobId);

    const before = await enqueued(3);
    await waitFor("the first events", () => jobsSeen().length === 3, { timeoutMs: 10_000 });
    const lastBeforeCut = received.at(-1)?.seq;
    proxy.cut();
    const between = await enqueued(3);
    await waitFor("the events after the cut", () => jobsSeen().length === 6, { timeoutMs: 10_000 });

    // A proxy answering 503 for a while: the client tries again until it gets through.
    proxy.refuse(true);
    proxy.cut();
    const during = await enqueued(2);
    await waitFor("failed attempts", () => statuses.some((s) => s === "reconnecting:2"), { timeoutMs: 10_000 });
    proxy.refuse(false);
    await waitFor("the events after the refusals", () => jobsSeen().length === 8, { timeoutMs: 10_000 });
    stop.abort();
    await following;

    expect(jobsSeen()).toEqual([...before, ...between, ...during]);
    const seqs = received.map((e) => e.seq);
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
    // Each reconnect asked for the events after the last one it had.
    const streams = proxy.requests().filter((r) => r.startsWith("GET /api/v1/events"));
    expect(streams[0]).toBe("GET /api/v1/events?since=0");
    expect(streams[1]).toBe(`GET /api/v1/events?since=${lastBeforeCut}`);
    expect(statuses).toContain("live:0");
  });

  it("ends a job's stream after its last event, and a stream that fails at once throws", async () => {
    const { api, client, overseer } = await setup();
    overseer.defineTask("t", async () => ({ ok: true }));
    const job = await overseer.enqueue("t");
    const worker = overseer.worker({ pollMs: 20 });
    const kinds: string[] = [];
    const stream = client.events.follow({ jobId: job.id });
    // The stream is open (its history read) before the job runs: it ends on the live terminal event.
    for await (const event of stream) {
      kinds.push(event.kind);
      if (event.kind === "job.enqueued") await worker.start();
    }
    await worker.stop();
    expect(kinds).toEqual(["job.enqueued", "job.started", "job.succeeded"]);

    const unknown = await failure(() => collect(client.events.follow({ jobId: "01NOSUCHJOB0000000000000000" })));
    expect(unknown.code).toBe("JOB_NOT_FOUND");
    const nowhere = new OverseerClient({ url: "http://127.0.0.1:1", token: api.tokens.viewer });
    const unreachable = await failure(() => collect(nowhere.events.follow({ retries: 0 })));
    expect(unreachable.code).toBe("SERVER_UNREACHABLE");
    expect(unreachable.message).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:1: /);
  });
});

describe("the client's errors", () => {
  it("are the OverseerError the server's envelope names: code, message and details", async () => {
    const { api, client, overseer } = await setup();
    const id = "01NOSUCHJOB0000000000000000";
    const envelope = (await api.request("GET", `/api/v1/jobs/${id}`, { token: api.tokens.admin })).body.error;
    const missing = await failure(() => client.jobs.get(id));
    expect(missing.toJSON()).toEqual({ code: envelope.code, message: envelope.message, details: envelope.details });
    expect(missing).toMatchObject({ code: "JOB_NOT_FOUND", status: 404, details: { id } });

    // A write based on a version the job has left is refused, with nothing changed.
    const job = await overseer.enqueue("t");
    await overseer.cancel(job.id);
    const stale = await failure(() => client.jobs.retry(job.id, { version: job.version }));
    expect(stale.code).toBe("VERSION_CONFLICT");
    expect((await overseer.getJob(job.id))?.state).toBe("cancelled");
    expect((await client.jobs.retry(job.id, { version: job.version + 1 })).state).toBe("queued");

    const viewer = new OverseerClient({ url: api.url, token: api.tokens.viewer });
    const forbidden = await failure(() => viewer.jobs.cancel(job.id));
    expect(forbidden).toMatchObject({ code: "FORBIDDEN", status: 403 });
    expect(forbidden.message).toBe('token "test-viewer" has scope viewer; this needs operator');
  });

  it("report a 401 as UNAUTHENTICATED, and tell the caller that its token is refused", async () => {
    const { api } = await setup();
    let refused = 0;
    const client = new OverseerClient({
      url: `${api.url}/api/v1/`,
      token: "ovs_wrong",
      onUnauthenticated: () => refused++,
    });
    const err = await failure(() => client.whoami());
    expect(err).toMatchObject({ code: "UNAUTHENTICATED", status: 401 });
    expect(refused).toBe(1);
    const anonymous = await failure(() => new OverseerClient({ url: api.url }).jobs.list());
    expect(anonymous.code).toBe("UNAUTHENTICATED");
    // The token may change between requests (a session's): it is asked for each time.
    let token = "ovs_wrong";
    const session = new OverseerClient({ url: api.url, token: () => token });
    await failure(() => session.whoami());
    token = api.tokens.viewer;
    expect(await session.whoami()).toEqual({ name: "test-viewer", scope: "viewer", execution: "dry-run" });
  });

  it("refuse a url that is not an http(s) server's", () => {
    expect(() => new OverseerClient({ url: "ftp://x" })).toThrow(/^url must start with http:\/\/ or https:\/\//);
    expect(() => new OverseerClient({ url: "not a url" })).toThrow(OverseerError);
  });
});
