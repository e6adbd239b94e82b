/**
 * Fuzzing driven by the server's own OpenAPI document, on both backends: every operation it
 * lists gets malformed path and query parameters, bodies built from (and against) its request
 * schema, odd Content-Types, Authorization variants, huge header values and NUL and control
 * characters, sent over a raw loopback socket so that nothing is cleaned up on the way. Any
 * 5xx, any connection dropped without an answer, and any 4xx without the full envelope
 * (code, message, details) fails it. Bounded runs, fixed seed: a failure replays.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../core/errors.js";
import { isJsonRpcError, testApi } from "../test-support/http.js";
import { type RawAnswer, rawRequest } from "../test-support/raw-http.js";
import { TEST_BACKEND } from "../test-support/test-backend.js";

const RUNS_PER_OPERATION = 15;
const SEED = 7070;

interface Operation {
  method: string;
  /** OpenAPI form: /api/v1/jobs/{id}. */
  path: string;
  pathParams: string[];
  queryParams: string[];
  bodyFields: string[] | null;
}

/** The operations of an OpenAPI document, with what each takes. */
function operations(doc: any): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries<any>(doc.paths ?? {})) {
    for (const [method, op] of Object.entries<any>(item)) {
      if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
      const params: any[] = [...(item.parameters ?? []), ...(op.parameters ?? [])];
      const schema = op.requestBody?.content?.["application/json"]?.schema;
      ops.push({
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === "path").map((p) => p.name),
        queryParams: params.filter((p) => p.in === "query").map((p) => p.name),
        bodyFields: op.requestBody ? bodyFieldNames(schema, doc) : null,
      });
    }
  }
  return ops;
}

function bodyFieldNames(schema: any, doc: any): string[] {
  if (!schema) return [];
  if (typeof schema.$ref === "string") {
    const name = schema.$ref.split("/").at(-1);
    return bodyFieldNames(doc.components?.schemas?.[name], doc);
  }
  const names = new Set<string>(Object.keys(schema.properties ?? {}));
  for (const branch of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])])
    for (const n of bodyFieldNames(branch, doc)) names.add(n);
  if (schema.items) for (const n of bodyFieldNames(schema.items, doc)) names.add(n);
  return [...names];
}

/** Strings that have broken parsers, routers and databases before. */
const nasty = fc.oneof(
  { arbitrary: fc.string({ maxLength: 30 }), weight: 3 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 12 }), weight: 2 },
  {
    arbitrary: fc.constantFrom(
      "",
      " ",
      "\u0000",
      "a\u0000b",
      "\u0001\u001f\u007f",
      "\ud800",
      "😀",
      "..",
      "%",
      "null",
      "-1",
      "1e309",
      "__proto__",
      "'; DROP TABLE jobs; --",
    ),
    weight: 4,
  },
  { arbitrary: fc.integer({ min: 1_000, max: 20_000 }).map((n) => "x".repeat(n)), weight: 1 },
);

const json = fc.oneof(
  nasty,
  fc.jsonValue({ maxDepth: 2 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.dictionary(nasty, nasty, { maxKeys: 3 }),
  fc.array(nasty, { maxLength: 3 }),
);

/** A path segment as sent: usually encoded, sometimes raw escapes that decode badly. */
function pathSegment(valid: string): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constant(encodeURIComponent(valid)), weight: 2 },
    { arbitrary: nasty.map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, "?"))), weight: 4 },
    { arbitrary: fc.constantFrom("%00", "a%00", "%ZZ", "%E0%A4%A", "%FF", "%2e%2e", "%0d%0a"), weight: 2 },
  );
}

const queryValue = fc.oneof(nasty, fc.constantFrom("1", "0", "10", "true", "queued", "2024-01-01T00:00:00Z"));

function queryString(names: string[]): fc.Arbitrary<string> {
  return fc
    .dictionary(fc.constantFrom(...names, "bogus"), queryValue, { maxKeys: 4 })
    .map((q) => new URLSearchParams(q).toString().replaceAll("+", "%20"))
    .map((q) => (q === "" ? "" : `?${q}`));
}

type Body = { json: unknown } | { raw: string } | { none: true };

function body(fields: string[]): fc.Arbitrary<Body> {
  const record =
    fields.length === 0
      ? fc.dictionary(nasty, json, { maxKeys: 3 })
      : fc.dictionary(fc.constantFrom(...fields, "bogus"), json, { minKeys: 1, maxKeys: fields.length + 1 });
  return fc.oneof(
    { arbitrary: record.map((j) => ({ json: j })), weight: 5 },
    { arbitrary: fc.array(record, { minLength: 1, maxLength: 3 }).map((j) => ({ json: j })), weight: 1 },
    { arbitrary: json.map((j) => ({ json: j })), weight: 1 },
    {
      arbitrary: fc
        .oneof(
          fc.string({ maxLength: 40 }),
          fc.constantFrom("{", '{"a":', "[".repeat(300), "\u0000", '{"a":"\\u0000"}'),
        )
        .map((raw) => ({ raw })),
      weight: 2,
    },
    { arbitrary: fc.constant({ none: true as const }), weight: 1 },
  );
}

const contentType = fc.oneof(
  { arbitrary: fc.constant("application/json"), weight: 8 },
  {
    arbitrary: fc.constantFrom(
      "application/json; charset=utf-8",
      "APPLICATION/JSON",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/octet-stream",
      "",
      "application/json\u0000",
      "application/json; charset=latin1",
      "*/*",
    ),
    weight: 3,
  },
  { arbitrary: fc.constant(`application/${"j".repeat(9_000)}`), weight: 1 },
);

function authorization(token: string): fc.Arbitrary<string | null> {
  return fc.oneof(
    { arbitrary: fc.constant(`Bearer ${token}`), weight: 10 },
    {
      arbitrary: fc.constantFrom(
        `bearer ${token}`,
        `BEARER ${token}`,
        `Bearer  ${token}`,
        `Bearer ${token} `,
        `Basic ${token}`,
        "Bearer",
        "Bearer ",
        "Bearer \u0001",
        `Bearer ${"t".repeat(600)}`,
        `Bearer ${token}\u0000`,
      ),
      weight: 3,
    },
    { arbitrary: fc.constant(null), weight: 1 },
  );
}

/** An extra header now and then: huge, or with control characters and NULs in it. */
const extraHeader = fc.option(
  fc.oneof(
    fc.constantFrom("a\u0000b", "\u0001\u0002", "tab\there", "é", "\u007f"),
    fc.integer({ min: 8_000, max: 40_000 }).map((n) => "h".repeat(n)),
  ),
  { nil: undefined },
);

const accept = fc.constantFrom("application/json", "application/json", "*/*", "text/event-stream", "text/html");

/** A NUL character, as text in one path parameter, query parameter or body field of the operation. */
function nulIn(op: Operation) {
  const text = fc.constantFrom("\u0000", "a\u0000", "\u0000b", "x\u0000y");
  const places: Array<fc.Arbitrary<{ where: "path" | "query" | "body"; name: string; index: number; text: string }>> =
    [];
  if (op.pathParams.length > 0)
    places.push(
      fc.record({
        where: fc.constant("path" as const),
        name: fc.constant(""),
        index: fc.nat(op.pathParams.length - 1),
        text,
      }),
    );
  if (op.queryParams.length > 0)
    places.push(
      fc.record({
        where: fc.constant("query" as const),
        name: fc.constantFrom(...op.queryParams),
        index: fc.constant(0),
        text,
      }),
    );
  if (op.bodyFields !== null && op.bodyFields.length > 0)
    places.push(
      fc.record({
        where: fc.constant("body" as const),
        name: fc.constantFrom(...op.bodyFields),
        index: fc.constant(0),
        text,
      }),
    );
  return places.length > 0
    ? fc.oneof(...places)
    : fc.constant({ where: "none" as const, name: "", index: 0, text: "" });
}

function expectAnswered(answer: RawAnswer, what: string, path: string): void {
  expect(answer.kind === "dropped" ? `${what}: dropped: ${answer.error} ${answer.received}` : "answered").toBe(
    "answered",
  );
  if (answer.kind !== "answer") return;
  expect(answer.status, `${what} → ${answer.status} ${answer.text.slice(0, 300)}`).toBeLessThan(500);
  expect(answer.text, `${what}: no stack trace`).not.toMatch(/\n\s+at |\.ts:\d+|\.js:\d+/);
  if (answer.status < 400 || isJsonRpcError(path, answer.body)) return;
  const body = answer.body as { error?: { code?: unknown; message?: unknown; details?: unknown } };
  expect(body, `${what} → ${answer.status}: the envelope, ${answer.text.slice(0, 300)}`).toMatchObject({
    error: { code: expect.any(String), message: expect.any(String), details: expect.any(Object) },
  });
  expect(Object.keys(ERROR_CODES), what).toContain(body.error?.code);
  expect(Object.keys(body), what).toEqual(["error"]);
  expect(Array.isArray(body.error?.details), what).toBe(false);
}

describe(`fuzzing every OpenAPI operation on ${TEST_BACKEND}`, () => {
  it("answers every malformed request with a 4xx and the envelope, never a 5xx or a dropped connection", async () => {
    const api = await testApi();
    const token = api.tokens.admin;
    const job = await api.overseer.enqueue("t", { n: 1 });
    const docRes = await api.request("GET", "/api/v1/openapi.json", { token });
    expect(docRes.status).toBe(200);
    const ops = operations(docRes.body);
    // Every route the server registered under the API prefix is in the document, save itself and
    // the MCP endpoint's GET, which only ever answers 405 (contract/mcp.ts).
    const listed = new Set(ops.map((o) => `${o.method} ${o.path.replace(/\{(\w+)\}/g, ":$1")}`));
    const registered = api.server.routes.filter(
      (r) =>
        r.url.startsWith("/api/v1/") &&
        r.url !== "/api/v1/openapi.json" &&
        !(r.method === "GET" && r.url === "/api/v1/mcp"),
    );
    for (const r of registered)
      expect(listed, `${r.method} ${r.url} is in the OpenAPI document`).toContain(`${r.method} ${r.url}`);
    expect(ops.length).toBeGreaterThan(20);

    let sent = 0;
    for (const op of ops) {
      const segments = fc.tuple(...op.pathParams.map(() => pathSegment(job.id)));
      const takesBody = op.bodyFields !== null || op.method !== "GET";
      // One or two things wrong at a time, the rest as a client would send it: a fault in one
      // place must not hide behind a refusal of another (a huge header is a 413 before the route runs).
      const faults = fc.subarray(["path", "query", "body", "contentType", "auth", "header", "accept", "nul"] as const, {
        minLength: 1,
        maxLength: 2,
      });
      await fc.assert(
        fc.asyncProperty(
          faults,
          op.pathParams.length > 0 ? segments : fc.constant([] as string[]),
          queryString(op.queryParams),
          takesBody ? body(op.bodyFields ?? []) : fc.constant<Body>({ none: true }),
          contentType,
          authorization(token),
          extraHeader,
          accept,
          nulIn(op),
          async (wrong, values, fuzzedQuery, fuzzedBody, type, fuzzedAuth, extra, fuzzedAccept, nul) => {
            const is = (fault: (typeof wrong)[number]) => wrong.includes(fault);
            let i = 0;
            const segment = (n: number) => {
              if (is("path")) return values[n] ?? "";
              if (is("nul") && nul.where === "path" && nul.index === n) return encodeURIComponent(nul.text);
              return encodeURIComponent(job.id);
            };
            let query = is("query") ? fuzzedQuery : "";
            if (is("nul") && nul.where === "query") query = `?${new URLSearchParams({ [nul.name]: nul.text })}`;
            const path = op.path.replace(/\{(\w+)\}/g, () => segment(i++)) + query;
            const headers: Array<[string, string]> = [["Accept", is("accept") ? fuzzedAccept : "application/json"]];
            const auth = is("auth") ? fuzzedAuth : `Bearer ${token}`;
            if (auth !== null) headers.push(["Authorization", auth]);
            if (is("header") && extra !== undefined) headers.push(["X-Fuzz", extra]);
            let payload: Body = is("body") ? fuzzedBody : takesBody ? { json: {} } : { none: true };
            if (is("nul") && nul.where === "body") payload = { json: { [nul.name]: nul.text } };
            let sentBody: string | undefined;
            if ("json" in payload) sentBody = JSON.stringify(payload.json);
            else if ("raw" in payload) sentBody = payload.raw;
            if (sentBody !== undefined) headers.push(["Content-Type", is("contentType") ? type : "application/json"]);
            const answer = await rawRequest(api.url, { method: op.method, path, headers, body: sentBody });
            sent++;
            expectAnswered(answer, `${op.method} ${path.slice(0, 160)} ${(sentBody ?? "").slice(0, 160)}`, path);
          },
        ),
        { numRuns: RUNS_PER_OPERATION, seed: SEED, endOnFailure: true },
      );
    }
    expect(sent).toBe(ops.length * RUNS_PER_OPERATION);
    expect((await api.request("GET", "/healthz")).status).toBe(200);
  });
});
