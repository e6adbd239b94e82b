/**
 * Throws malformed JSON, wrong types, huge strings, unknown fields and bad ids at every route,
 * with a token that may call them all: the answer is never a 5xx, always the error envelope
 * when it is a 4xx, never a stack trace, and the server keeps answering. Bounded runs with a
 * fixed seed, so it takes seconds and a failure replays.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../core/errors.js";
import { type ApiResponse, isJsonRpcError, testApi } from "../test-support/http.js";
import { waitFor } from "../test-support/wait.js";

const RUNS_PER_ROUTE = 40;

/** Strings that have broken parsers and routers before; now and then a huge one. */
const nastyString = fc.oneof(
  { arbitrary: fc.string({ maxLength: 40 }), weight: 4 },
  { arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }), weight: 2 },
  {
    arbitrary: fc.constantFrom(
      "",
      " ",
      "%",
      "%ZZ",
      "%00",
      "..",
      "../..",
      "null",
      "undefined",
      "__proto__",
      "constructor",
      "\u0000",
      "😀",
      "'; DROP TABLE jobs; --",
    ),
    weight: 3,
  },
  { arbitrary: fc.integer({ min: 1_000, max: 70_000 }).map((n) => "x".repeat(n)), weight: 1 },
);

const jsonValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  nastyString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);

/** Bodies that are nearly right, so the routes' own code runs too, not only the schemas. */
const nearlyValid = fc.record({
  task: fc.constantFrom("t", "send-email", "bad name", ""),
  payload: jsonValue,
  options: fc.constantFrom(
    {},
    { priority: "high" },
    { queue: "mail" },
    { delay: "1s" },
    { delay: -1 },
    { idempotencyKey: "k" },
    { runAt: "yesterday" },
    { maxAttempts: 0 },
  ),
});

/** Plausible bodies with one thing wrong: unknown fields, wrong types, huge values. */
const body = fc.oneof(
  nearlyValid,
  fc.array(nearlyValid, { minLength: 1, maxLength: 3 }),
  jsonValue,
  fc.dictionary(nastyString, jsonValue, { maxKeys: 5 }),
  fc.record(
    {
      task: jsonValue,
      payload: jsonValue,
      options: fc.oneof(
        jsonValue,
        fc.dictionary(
          fc.constantFrom(
            "queue",
            "priority",
            "delay",
            "runAt",
            "maxAttempts",
            "backoff",
            "idempotencyKey",
            "concurrency",
            "rateLimit",
            "bogus",
          ),
          jsonValue,
        ),
      ),
    },
    { requiredKeys: [] },
  ),
  fc.array(fc.record({ task: jsonValue, options: jsonValue }, { requiredKeys: [] }), { maxLength: 4 }),
  fc.record(
    { version: jsonValue, state: jsonValue, limit: jsonValue, queue: jsonValue, q: jsonValue, createdAfter: jsonValue },
    { requiredKeys: [] },
  ),
);

/** Raw text sent as application/json: often not JSON at all. */
const rawText = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.constantFrom("{", "[1,", '{"task":', "{'task':'t'}", "NaN", "\u0000", '{"a":1}{"b":2}', "[".repeat(500)),
  fc.jsonValue().map((v) => `${JSON.stringify(v)}garbage`),
);

const query = fc.dictionary(
  fc.constantFrom(
    "state",
    "queue",
    "task",
    "q",
    "limit",
    "cursor",
    "createdAfter",
    "finishedBefore",
    "minutes",
    "order",
    "since",
    "access_token",
    "ttlSeconds",
    "bogus",
  ),
  nastyString,
  { maxKeys: 4 },
);

const ifMatch = fc.option(fc.oneof(nastyString, fc.integer().map(String), fc.constant('"1"')), { nil: undefined });

function expectEnvelopeOrSuccess(res: ApiResponse, what: string, path: string): void {
  expect(res.status, `${what} → ${res.status} ${res.text.slice(0, 300)}`).toBeLessThan(500);
  expect(res.text, `${what}: no stack trace`).not.toMatch(/\n\s+at |\.ts:\d+|\.js:\d+/);
  if (res.status >= 400 && !isJsonRpcError(path, res.body)) {
    expect(res.body, `${what}: the envelope`).toMatchObject({
      error: { code: expect.any(String), message: expect.any(String), details: expect.any(Object) },
    });
    expect(Object.keys(ERROR_CODES)).toContain(res.body.error.code);
    expect(Object.keys(res.body)).toEqual(["error"]);
  }
}

describe("fuzzing every route", () => {
  it("never answers 5xx, always with the envelope, and keeps serving", async () => {
    const api = await testApi();
    const token = api.tokens.admin;
    const seedJob = await api.overseer.enqueue("t");
    const routes = api.server.routes;
    expect(routes.length).toBeGreaterThan(10);
    for (const route of routes) {
      const pathFor = (param: string) =>
        route.url.replace(/:(\w+)/g, () => (param === "" ? encodeURIComponent(seedJob.id) : encodeURIComponent(param)));
      await fc.assert(
        fc.asyncProperty(
          fc.option(nastyString, { nil: "" }),
          query,
          fc.oneof(
            body.map((b) => ({ json: b })),
            rawText.map((raw) => ({ raw })),
          ),
          ifMatch,
          async (param, q, payload, match) => {
            const search = new URLSearchParams(q).toString();
            const path = pathFor(param) + (search ? `?${search}` : "");
            const headers: Record<string, string> = { authorization: `Bearer ${token}` };
            // The event routes answer a JSON page to JSON readers, else a live stream (only its status is read).
            if (route.url.endsWith("/events")) {
              headers.accept = param.length % 2 === 0 ? "application/json" : "*/*";
              if (headers["if-match"] !== undefined) headers["last-event-id"] = headers["if-match"];
            }
            if (match !== undefined && /^[\x20-\x7e]*$/.test(match) && match.length < 4_000)
              headers["if-match"] = match;
            const withBody = route.method !== "GET";
            const res = await api.request(route.method, path, {
              headers,
              ...(withBody && "json" in payload ? { body: payload.json } : {}),
              ...(withBody && "raw" in payload ? { raw: payload.raw } : {}),
            });
            expectEnvelopeOrSuccess(res, `${route.method} ${path.slice(0, 120)}`, path);
          },
        ),
        { numRuns: RUNS_PER_ROUTE, seed: 4242 },
      );
    }
    const health = await api.request("GET", "/healthz");
    expect(health.status).toBe(200);
  });

  it("answers any WebSocket message with the envelope's error or a subscription, and keeps the socket", async () => {
    const api = await testApi();
    const job = await api.overseer.enqueue("t");
    const { WebSocket } = await import("ws");
    const ws = new WebSocket(`${api.url.replace(/^http/, "ws")}/api/v1/ws`, {
      headers: { authorization: `Bearer ${api.tokens.admin}` },
    });
    const received: Array<{ type: string; id?: unknown; error?: { code: string } }> = [];
    ws.on("message", (data) => received.push(JSON.parse(String(data))));
    let closed = false;
    ws.on("close", () => {
      closed = true;
    });
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    const message = fc.oneof(
      rawText,
      jsonValue.map((v) => JSON.stringify(v)),
      fc
        .record(
          {
            type: fc.oneof(fc.constantFrom("subscribe", "unsubscribe"), nastyString),
            id: fc.oneof(nastyString, jsonValue),
            jobId: fc.oneof(fc.constant(job.id), nastyString, jsonValue),
            since: fc.oneof(fc.integer({ min: -5, max: 1e6 }), fc.double(), nastyString),
            bogus: jsonValue,
          },
          { requiredKeys: ["type"] },
        )
        .map((m) => JSON.stringify(m)),
    );
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 200 }), (messages) => {
        for (const m of messages) ws.send(m);
      }),
      { numRuns: 5, seed: 4242 },
    );
    ws.send(JSON.stringify({ type: "subscribe", id: "final-check" }));
    await waitFor(
      "the last subscription",
      () => received.some((m) => m.type === "subscribed" && m.id === "final-check"),
      {
        timeoutMs: 20_000,
      },
    );
    expect(closed).toBe(false);
    for (const m of received) {
      expect(["subscribed", "event", "end", "error"]).toContain(m.type);
      if (m.type === "error") expect(Object.keys(ERROR_CODES)).toContain(m.error?.code);
      expect(m.error?.code).not.toBe("INTERNAL_ERROR");
    }
    ws.close();
    expect((await api.request("GET", "/healthz")).status).toBe(200);
  });

  it("answers a body over the limit, a non-JSON content type and oversized headers with the envelope", async () => {
    const api = await testApi();
    const headers = { authorization: `Bearer ${api.tokens.admin}` };
    const huge = await api.request("POST", "/api/v1/jobs", {
      headers,
      body: { task: "t", payload: "x".repeat(5_000_000) },
    });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe("REQUEST_TOO_LARGE");
    const text = await api.request("POST", "/api/v1/jobs", {
      headers: { ...headers, "content-type": "text/plain" },
      raw: "task=t",
    });
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    const fat = await api.request("GET", "/api/v1/jobs", { headers: { ...headers, "x-padding": "p".repeat(100_000) } });
    expect(fat.status).toBe(413);
    expect(fat.body.error.code).toBe("REQUEST_TOO_LARGE");
    const badUrl = await api.request("GET", "/api/v1/jobs/%E0%A4%A", { headers });
    expect(badUrl.status).toBe(400);
    expect(badUrl.body.error.code).toBe("INVALID_ARGUMENT");
    expect((await api.request("GET", "/healthz")).status).toBe(200);
  });
});
