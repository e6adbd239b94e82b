/**
 * The event streams over WebSocket (/api/v1/ws), with a real client: subscribe to everything or
 * to one job with a since cursor, resume after a reconnect with nothing lost or repeated, the
 * envelope's error on a trimmed position or a bad message, and the handshake's auth.
 */
import { describe, expect, it, onTestFinished } from "vitest";
import { WebSocket } from "ws";
import { parseConfig } from "../config/config.js";
import { testApi } from "../test-support/http.js";
import { waitFor } from "../test-support/wait.js";

interface Client {
  ws: WebSocket;
  messages: any[];
  closed: Promise<{ code: number }>;
  send(message: object): void;
}

async function connect(url: string, headers: Record<string, string>): Promise<Client> {
  const ws = new WebSocket(url.replace(/^http/, "ws"), { headers });
  const messages: any[] = [];
  ws.on("message", (data) => messages.push(JSON.parse(String(data))));
  const closed = new Promise<{ code: number }>((resolve) => ws.on("close", (code) => resolve({ code })));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  onTestFinished(() => ws.terminate());
  return { ws, messages, closed, send: (m) => ws.send(JSON.stringify(m)) };
}

const seqsOf = (c: Client, id: string) =>
  c.messages.filter((m) => m.type === "event" && m.id === id).map((m) => m.event.seq as number);

describe("event streams over WebSocket", () => {
  it("subscribes with a since cursor and resumes after a reconnect without gaps or repeats", async () => {
    const api = await testApi();
    const headers = { authorization: `Bearer ${api.tokens.viewer}` };
    const first = await connect(`${api.url}/api/v1/ws`, headers);
    first.send({ type: "subscribe", id: "all", since: 0 });
    const burst = (async () => {
      for (let i = 0; i < 20; i++) {
        await api.overseer.enqueueMany(Array.from({ length: 50 }, () => ({ task: "t" })));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await waitFor("some events", () => seqsOf(first, "all").length >= 200);
    expect(first.messages[0]).toEqual({ type: "subscribed", id: "all", since: 0 });
    first.ws.close();
    await first.closed;
    const got = seqsOf(first, "all");
    expect(got.at(-1)).toBeLessThan(1_000); // cut mid-burst
    const second = await connect(`${api.url}/api/v1/ws`, headers);
    second.send({ type: "subscribe", id: "again", since: got.at(-1) });
    await burst;
    const last = await api.overseer.store.lastEventSeq();
    await waitFor("the rest", () => [...got, ...seqsOf(second, "again")].at(-1) === last, { timeoutMs: 20_000 });
    expect([...got, ...seqsOf(second, "again")]).toEqual(Array.from({ length: last }, (_, i) => i + 1));
  });

  it("a job subscription ends after its terminal event; several subscriptions share a socket", async () => {
    const api = await testApi();
    api.overseer.defineTask("t", async () => "ok");
    const job = await api.overseer.enqueue("t");
    const client = await connect(`${api.url}/api/v1/ws`, { authorization: `Bearer ${api.tokens.viewer}` });
    client.send({ type: "subscribe", id: "job", jobId: job.id });
    client.send({ type: "subscribe", id: "live" });
    await waitFor("both subscribed", () => client.messages.filter((m) => m.type === "subscribed").length === 2);
    const worker = api.overseer.worker();
    await worker.start();
    await waitFor("the end", () => client.messages.some((m) => m.type === "end"));
    await worker.stop();
    const kinds = client.messages.filter((m) => m.id === "job" && m.type === "event").map((m) => m.event.kind);
    expect(kinds).toEqual(["job.enqueued", "job.started", "job.succeeded"]);
    const end = client.messages.find((m) => m.type === "end");
    expect(end).toEqual({ type: "end", id: "job", lastEventId: seqsOf(client, "job").at(-1) });
    // The live subscription saw the run too (not the enqueue, which came before it).
    await waitFor("live events", () => seqsOf(client, "live").length >= 2);
  });

  it("a run subscription carries the run's events and ends when the run finishes", async () => {
    const runs = parseConfig(
      {
        runs: {
          profiles: {
            once: { command: process.execPath, args: ["-e", "console.log('hi')"], completion: { exitCode: 0 } },
          },
        },
      },
      "test",
    ).runs;
    const api = await testApi({ runs });
    const run = await api.overseer.startRun({ profile: "once" });
    const client = await connect(`${api.url}/api/v1/ws`, { authorization: `Bearer ${api.tokens.viewer}` });
    client.send({ type: "subscribe", id: "run", runId: run.id });
    await waitFor("subscribed", () => client.messages.some((m) => m.type === "subscribed"));
    api.overseer.runSupervisor({ pollMs: 50 }).start();
    await waitFor("the end", () => client.messages.some((m) => m.type === "end"), { timeoutMs: 10_000 });
    const events = client.messages.filter((m) => m.type === "event").map((m) => m.event);
    expect(events.every((e) => e.runId === run.id && e.jobId === null)).toBe(true);
    const kinds = events.map((e) => e.kind);
    expect(kinds[0]).toBe("run.queued");
    expect(kinds).toContain("run.output");
    expect(kinds.at(-1)).toBe("run.completed");
    client.send({ type: "subscribe", id: "both", runId: run.id, jobId: "x" });
    await waitFor("the refusal", () => client.messages.some((m) => m.type === "error" && m.id === "both"));
  });

  it("answers trimmed positions and bad messages with the error envelope, and keeps the socket", async () => {
    const api = await testApi();
    for (let i = 0; i < 5; i++) await api.overseer.enqueue("t");
    await api.overseer.store.prune({ jobs: {}, events: { maxCount: 2 } });
    const client = await connect(`${api.url}/api/v1/ws`, { authorization: `Bearer ${api.tokens.admin}` });
    client.send({ type: "subscribe", id: "old", since: 1 });
    client.ws.send("{not json");
    client.send({ type: "subscribe", id: "x", since: -1 });
    client.send({ type: "subscribe", id: "y", bogus: true });
    client.send({ type: "nope", id: "z" });
    client.send({ type: "subscribe", id: "missing", jobId: "01NOSUCHJOB000000000000000" });
    await waitFor("six errors", () => client.messages.filter((m) => m.type === "error").length === 6);
    const codes = Object.fromEntries(client.messages.map((m) => [m.id ?? "null", m.error.code]));
    expect(codes).toEqual({
      old: "EVENTS_TRIMMED",
      null: "INVALID_ARGUMENT",
      x: "INVALID_ARGUMENT",
      y: "INVALID_ARGUMENT",
      z: "INVALID_ARGUMENT",
      missing: "JOB_NOT_FOUND",
    });
    expect(client.messages.find((m) => m.id === "old").error.details).toMatchObject({ since: 1 });
    client.send({ type: "subscribe", id: "ok" });
    await waitFor("subscribed", () => client.messages.some((m) => m.type === "subscribed" && m.id === "ok"));
  });

  it("takes a stream token in the URL, refuses a bad one at the handshake, and answers plain GETs with 400", async () => {
    const api = await testApi();
    const { token } = (await api.request("POST", "/api/v1/stream-tokens", { token: api.tokens.viewer })).body;
    const client = await connect(`${api.url}/api/v1/ws?access_token=${token}`, {});
    client.send({ type: "subscribe", id: "a" });
    await waitFor("subscribed", () => client.messages.length > 0);
    await expect(connect(`${api.url}/api/v1/ws?access_token=ovss_nope`, {})).rejects.toThrow(/401/);
    await expect(connect(`${api.url}/api/v1/ws`, {})).rejects.toThrow(/401/);
    const plain = await api.request("GET", "/api/v1/ws", { token: api.tokens.viewer });
    expect(plain.status).toBe(400);
    expect(plain.body.error.code).toBe("INVALID_ARGUMENT");
  });
});
