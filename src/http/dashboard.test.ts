/**
 * The dashboard's serving (built files, index.html for client routes, JSON 404s kept for the
 * server's own paths) and GET /api/v1/whoami, which the dashboard's sign-in reads.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify from "fastify";
import { describe, expect, it, onTestFinished } from "vitest";
import { silentLogger } from "../core/logger.js";
import { testApi } from "../test-support/http.js";
import { dashboardRoutes } from "./dashboard.js";
import { errorHandler } from "./errors.js";

async function appWith(dir: string | null) {
  const app = Fastify({ logger: false });
  app.setErrorHandler(errorHandler(silentLogger));
  await app.register(dashboardRoutes(dir));
  await app.ready();
  onTestFinished(() => app.close());
  return app;
}

/** A built dashboard in `<temp>/dist`, with a file next to it (`<temp>/overseer-dashboard-secret.txt`) that no URL may reach. */
function fakeBuild(): string {
  const parent = mkdtempSync(join(tmpdir(), "overseer-dashboard-"));
  onTestFinished(() => rmSync(parent, { recursive: true, force: true }));
  const dir = join(parent, "dist");
  mkdirSync(join(dir, "assets"), { recursive: true });
  writeFileSync(join(dir, "index.html"), "<!doctype html><div id=root></div>");
  writeFileSync(join(dir, "assets", "index-abc.js"), "console.log(1)");
  writeFileSync(join(parent, "overseer-dashboard-secret.txt"), "secret");
  return dir;
}

describe("the dashboard's files", () => {
  it("serves index.html at / and for client routes, and hashed assets cached for good", async () => {
    const app = await appWith(fakeBuild());
    for (const url of ["/", "/jobs", "/jobs/01JABC?state=dead", "/queues"]) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers["content-type"]).toMatch(/^text\/html/);
      expect(res.body).toContain("<div id=root>");
    }
    const asset = await app.inject({ url: "/assets/index-abc.js" });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers["content-type"]).toMatch(/javascript/);
    expect(asset.headers["cache-control"]).toContain("immutable");
  });

  it("answers the JSON 404 for missing assets, the server's own paths and escapes", async () => {
    const app = await appWith(fakeBuild());
    for (const url of [
      "/assets/missing.js",
      "/assets/..%2F..%2Foverseer-dashboard-secret.txt",
      "/api/v1/nope",
      "/api",
      "/metrics/x",
    ]) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code).toBe("ROUTE_NOT_FOUND");
    }
  });

  it("says how to build it when it is not built", async () => {
    const app = await appWith(null);
    const res = await app.inject({ url: "/" });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.message).toContain("npm run build");
  });

  it("is served by the real server at / without a token, while the API still wants one", async () => {
    const api = await testApi();
    const page = await api.request("GET", "/");
    expect(page.status).toBe(200);
    expect(page.text).toContain('<div id="root">');
    expect((await api.request("GET", "/api/v1/jobs")).status).toBe(401);
    expect((await api.request("GET", "/api/v1/nope", { token: api.tokens.admin })).status).toBe(404);
  });
});

describe("GET /api/v1/whoami", () => {
  it("names the calling token and its scope", async () => {
    const api = await testApi();
    for (const scope of ["viewer", "operator", "admin"] as const) {
      const res = await api.request("GET", "/api/v1/whoami", { token: api.tokens[scope] });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ name: `test-${scope}`, scope, execution: "dry-run" });
    }
    expect((await api.request("GET", "/api/v1/whoami", { token: api.tokens.metrics })).status).toBe(403);
    expect((await api.request("GET", "/api/v1/whoami")).status).toBe(401);
  });
});
