/**
 * Every kind of failure the server can produce answers the same envelope,
 * {"error": {"code", "message", "details"}}, with `details` an object even when there is
 * nothing to put in it: Fastify's own refusals (unknown route, oversized or non-JSON body,
 * malformed JSON, schema violations, an undecodable URL), Node's parser's (bad HTTP, huge
 * headers), authentication and scope refusals, and errors the routes throw.
 */
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../core/errors.js";
import { testApi } from "../test-support/http.js";
import { rawRequest } from "../test-support/raw-http.js";

function expectEnvelope(body: unknown, code: string, what: string): void {
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error;
  expect(Object.keys(body as object), what).toEqual(["error"]);
  expect(error?.code, what).toBe(code);
  expect(typeof error?.message, what).toBe("string");
  expect(error?.details, what).toBeTypeOf("object");
  expect(Array.isArray(error?.details), what).toBe(false);
  expect(error?.details, what).not.toBeNull();
  expect(ERROR_CODES[code as keyof typeof ERROR_CODES].status, what).toBeGreaterThanOrEqual(400);
}

describe("the error envelope", () => {
  it("has code, message and details on every kind of failure", async () => {
    const api = await testApi();
    const admin = api.tokens.admin;
    const cases: Array<[string, () => ReturnType<typeof api.request>, number, string]> = [
      ["unknown route", () => api.request("GET", "/api/v1/nope", { token: admin }), 404, "ROUTE_NOT_FOUND"],
      [
        "body too large",
        () =>
          api.request("POST", "/api/v1/jobs", { token: admin, body: { task: "t", payload: "x".repeat(5_000_000) } }),
        413,
        "REQUEST_TOO_LARGE",
      ],
      [
        "not JSON",
        () =>
          api.request("POST", "/api/v1/jobs", {
            token: admin,
            raw: "task=t",
            headers: { "content-type": "text/plain" },
          }),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
      ],
      [
        "malformed JSON",
        () => api.request("POST", "/api/v1/jobs", { token: admin, raw: "{" }),
        400,
        "INVALID_ARGUMENT",
      ],
      [
        "empty JSON body",
        () => api.request("POST", "/api/v1/jobs", { token: admin, raw: "" }),
        400,
        "INVALID_ARGUMENT",
      ],
      [
        "schema violation",
        () => api.request("POST", "/api/v1/jobs", { token: admin, body: { task: 5 } }),
        400,
        "INVALID_ARGUMENT",
      ],
      ["undecodable URL", () => api.request("GET", "/api/v1/jobs/%E0%A4%A", { token: admin }), 400, "INVALID_ARGUMENT"],
      ["no token", () => api.request("GET", "/api/v1/jobs"), 401, "UNAUTHENTICATED"],
      ["unknown token", () => api.request("GET", "/api/v1/jobs", { token: "ovs_nope" }), 401, "UNAUTHENTICATED"],
      [
        "scope too small",
        () => api.request("POST", "/api/v1/jobs", { token: api.tokens.viewer, body: { task: "t" } }),
        403,
        "FORBIDDEN",
      ],
      [
        "thrown by a route",
        () => api.request("GET", "/api/v1/jobs/01NOSUCHJOB", { token: admin }),
        404,
        "JOB_NOT_FOUND",
      ],
      [
        "state refusal",
        () => api.request("POST", "/api/v1/jobs/01NOSUCHJOB/retry", { token: admin, body: {} }),
        404,
        "JOB_NOT_FOUND",
      ],
      ["bad query", () => api.request("GET", "/api/v1/jobs?limit=0", { token: admin }), 400, "INVALID_ARGUMENT"],
    ];
    for (const [what, send, status, code] of cases) {
      const res = await send();
      expect(res.status, `${what}: ${res.text}`).toBe(status);
      expect(res.headers.get("content-type"), what).toMatch(/^application\/json/);
      expectEnvelope(res.body, code, what);
    }
    // The ones Node's HTTP parser refuses, answered on the raw socket.
    const raw = [
      ["invalid HTTP", { method: "GET", path: "/api/v1/jobs", headers: [["X-Bad", "a\u0000b"]] as const }, 400],
      [
        "huge headers",
        { method: "GET", path: "/api/v1/jobs", headers: [["X-Pad", "p".repeat(100_000)]] as const },
        413,
      ],
    ] as const;
    for (const [what, request, status] of raw) {
      const answer = await rawRequest(api.url, request);
      expect(answer.kind, what).toBe("answer");
      if (answer.kind !== "answer") continue;
      expect(answer.status, what).toBe(status);
      expectEnvelope(answer.body, status === 413 ? "REQUEST_TOO_LARGE" : "INVALID_ARGUMENT", what);
    }
  });

  it("declares details as required in the OpenAPI document's envelope", async () => {
    const api = await testApi();
    const doc = (await api.request("GET", "/api/v1/openapi.json", { token: api.tokens.viewer })).body;
    const envelope = doc.components.schemas.ErrorEnvelope;
    expect(envelope.properties.error.required).toEqual(["code", "message", "details"]);
  });
});
