/**
 * Security headers on every kind of answer: an API route, errors from each part of the server
 * (a route, authentication, the router, an undecodable URL, Node's parser), and the dashboard's
 * index, client routes and assets. And the built dashboard fits the policy: no inline script or
 * style in its index.html (the end-to-end tests prove it in Chromium, see dashboard-harness.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { testApi } from "../test-support/http.js";
import { rawRequest } from "../test-support/raw-http.js";
import { dashboardDir } from "./dashboard.js";
import { FALLBACK_SECURITY_HEADERS } from "./security-headers.js";

const CSP =
  "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data:;connect-src 'self';" +
  "font-src 'self';object-src 'none';base-uri 'none';form-action 'self';frame-ancestors 'none'";

function expectSecurityHeaders(get: (name: string) => string | null | undefined, what: string): void {
  expect(get("content-security-policy"), what).toBe(CSP);
  expect(get("x-content-type-options"), what).toBe("nosniff");
  expect(get("x-frame-options"), what).toBe("DENY");
  expect(get("referrer-policy"), what).toBe("no-referrer");
}

describe("security headers", () => {
  it("are on API answers, on every kind of error, and on the dashboard", async () => {
    const dir = dashboardDir();
    expect(dir, "the dashboard is built (npm run build)").not.toBeNull();
    const api = await testApi();
    const admin = api.tokens.admin;
    const index = readFileSync(join(dir as string, "index.html"), "utf8");
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(index)?.[1] as string;
    const answers: Array<[string, ReturnType<typeof api.request>, number]> = [
      ["an API route", api.request("GET", "/api/v1/jobs", { token: admin }), 200],
      ["a route's error", api.request("GET", "/api/v1/jobs/01NOSUCHJOB", { token: admin }), 404],
      ["no token", api.request("GET", "/api/v1/jobs"), 401],
      ["scope too small", api.request("POST", "/api/v1/jobs", { token: api.tokens.viewer, body: { task: "t" } }), 403],
      ["an unknown route", api.request("GET", "/api/v1/nope", { token: admin }), 404],
      ["an undecodable URL", api.request("GET", "/api/v1/jobs/%E0%A4%A", { token: admin }), 400],
      ["a schema violation", api.request("POST", "/api/v1/jobs", { token: admin, body: { task: 1 } }), 400],
      ["the dashboard's index", api.request("GET", "/"), 200],
      ["a client route", api.request("GET", "/jobs/01ABC"), 200],
      ["an asset", api.request("GET", asset), 200],
      ["the health check", api.request("GET", "/healthz"), 200],
    ];
    for (const [what, answer, status] of answers) {
      const res = await answer;
      expect(res.status, what).toBe(status);
      expectSecurityHeaders((name) => res.headers.get(name), what);
    }
    // Refused by Node's parser, answered on the raw socket.
    const raw = await rawRequest(api.url, { method: "GET", path: "/api/v1/jobs", headers: [["X-Bad", "a\u0000b"]] });
    expect(raw.kind).toBe("answer");
    if (raw.kind === "answer") {
      expect(raw.status).toBe(400);
      expectSecurityHeaders((name) => raw.headers[name], "a request Node refused");
    }
  });

  it("the fallback set (for answers no hook runs before) is the plugin's policy", () => {
    expect(FALLBACK_SECURITY_HEADERS["content-security-policy"]).toBe(CSP);
  });

  it("the built dashboard has no inline script or style for the policy to refuse", () => {
    const dir = dashboardDir();
    expect(dir, "the dashboard is built (npm run build)").not.toBeNull();
    const index = readFileSync(join(dir as string, "index.html"), "utf8");
    const scripts = [...index.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes, "every script is a file").toMatch(/\bsrc="\/assets\//);
      expect(body?.trim(), "and has no inline code").toBe("");
    }
    expect(index).not.toMatch(/<style\b/);
    expect(index).not.toMatch(/\sstyle=/);
    expect(index).not.toMatch(/\son[a-z]+=/);
  });
});
