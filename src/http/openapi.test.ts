/**
 * The OpenAPI document as clients and generators read it: one stable operationId per operation,
 * declared tags, and the server-wide answers (413, 415) declared where the server gives them.
 * `npm run lint:openapi` lints the same document with redocly; this keeps the cheap checks in
 * `npm test`, and proves the 413 and 415 the document promises against the real server.
 */
import { describe, expect, it } from "vitest";
import { testApi } from "../test-support/http.js";

interface Operation {
  operationId?: string;
  tags?: string[];
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, unknown> }>;
}

type Document = {
  paths: Record<string, Record<string, Operation>>;
  tags: { name: string; description?: string }[];
};

function operations(doc: Document): { method: string; path: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );
}

async function servedDocument(options: { bodyLimit?: number } = {}) {
  const api = await testApi(options);
  const res = await api.request("GET", "/api/v1/openapi.json", { token: api.tokens.viewer });
  expect(res.status).toBe(200);
  return { api, doc: res.body as Document };
}

describe("the OpenAPI document's operations", () => {
  it("each have a unique camelCase operationId", async () => {
    const { doc } = await servedDocument();
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThan(50);
    const ids = ops.map(({ method, path, op }) => {
      expect(op.operationId, `${method} ${path} has an operationId`).toMatch(/^[a-z][a-zA-Z]+$/);
      return op.operationId;
    });
    const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
    expect(repeated, "operationIds used twice").toEqual([]);
    // Names clients are generated with: a rename is a breaking change for them.
    const byRoute = Object.fromEntries(ops.map(({ method, path, op }) => [`${method} ${path}`, op.operationId]));
    expect(byRoute).toMatchObject({
      "GET /api/v1/jobs": "listJobs",
      "POST /api/v1/jobs": "enqueueJobs",
      "GET /api/v1/jobs/{id}": "getJob",
      "POST /api/v1/jobs/{id}/retry": "retryJob",
      "POST /api/v1/jobs/retry": "retryJobs",
      "POST /api/v1/queues/{name}/pause": "pauseQueue",
      "POST /api/v1/schedules/{name}/disable": "disableSchedule",
      "GET /api/v1/runs/{id}/output": "getRunOutput",
      "GET /api/v1/ws": "openEventSocket",
    });
  });

  it("use only tags the document declares, each with a description, and every declared tag is used", async () => {
    const { doc } = await servedDocument();
    const declared = new Map(doc.tags.map((t) => [t.name, t.description]));
    const used = new Set(operations(doc).flatMap(({ op }) => op.tags ?? []));
    for (const { method, path, op } of operations(doc)) {
      expect(op.tags?.length, `${method} ${path} has a tag`).toBeGreaterThan(0);
    }
    for (const tag of used) expect(declared.get(tag), `tag ${tag} is declared with a description`).toBeTruthy();
    expect([...declared.keys()].sort()).toEqual([...used].sort());
  });

  it("declare the answers that are not JSON with their media types", async () => {
    const { doc } = await servedDocument();
    const output = doc.paths["/api/v1/runs/{id}/output"]?.get;
    expect(Object.keys(output?.responses["200"]?.content ?? {})).toEqual(["text/plain"]);
    expect(Object.keys(output?.responses["206"]?.content ?? {})).toEqual(["text/plain"]);
    expect(Object.keys(doc.paths["/metrics"]?.get?.responses["200"]?.content ?? {})).toEqual(["text/plain"]);
    for (const path of ["/api/v1/events", "/api/v1/jobs/{id}/events", "/api/v1/runs/{id}/events"]) {
      const content = doc.paths[path]?.get?.responses["200"]?.content ?? {};
      expect(Object.keys(content).sort(), path).toEqual(["application/json", "text/event-stream"]);
    }
    expect(doc.paths["/api/v1/jobs/{id}/events"]?.get?.responses["204"]).toBeDefined();
    expect(Object.keys(doc.paths["/api/v1/ws"]?.get?.responses ?? {})).toContain("101");
  });

  it("declare 413 and 415 wherever a body is read, and the server answers them there", async () => {
    const { api, doc } = await servedDocument({ bodyLimit: 1024 });
    const posts = operations(doc).filter(({ method }) => method === "POST");
    expect(posts.length).toBeGreaterThan(25);
    for (const { method, path, op } of operations(doc)) {
      expect(op.responses["413"], `${method} ${path} declares 413`).toBeDefined();
    }
    for (const { path, op } of posts) {
      expect(op.responses["415"], `POST ${path} declares 415`).toBeDefined();
      const url = path.replace(/\{\w+\}/g, "x");
      const text = await api.request("POST", url, {
        token: api.tokens.admin,
        raw: "hello",
        headers: { "content-type": "text/plain" },
      });
      expect([text.status, text.body.error?.code], `POST ${path} with a text body`).toEqual([
        415,
        "UNSUPPORTED_MEDIA_TYPE",
      ]);
      const large = await api.request("POST", url, { token: api.tokens.admin, body: { pad: "x".repeat(2048) } });
      expect([large.status, large.body.error?.code], `POST ${path} with 2 KiB of JSON`).toEqual([
        413,
        "REQUEST_TOO_LARGE",
      ]);
    }
  });
});
