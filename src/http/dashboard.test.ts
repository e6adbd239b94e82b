/**
 * The dashboard's serving (built files, index.html for client routes, JSON 404s kept for the
 * server's own paths) and GET /api/v1/whoami, which the dashboard's sign-in reads.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
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

/** A build whose script and stylesheet have .br and .gz copies, as `npm run build` writes them. */
function compressedBuild(): { dir: string; script: Buffer; style: Buffer } {
  const dir = fakeBuild();
  const script = Buffer.from(`${"export const rows = [];\n".repeat(200)}console.log(rows);\n`);
  const style = Buffer.from(`${":root { color: var(--text); }\n".repeat(100)}`);
  for (const [name, bytes] of [
    ["app-1a2b3c.js", script],
    ["app-1a2b3c.css", style],
  ] as const) {
    writeFileSync(join(dir, "assets", name), bytes);
    writeFileSync(join(dir, "assets", `${name}.br`), brotliCompressSync(bytes));
    writeFileSync(join(dir, "assets", `${name}.gz`), gzipSync(bytes));
  }
  return { dir, script, style };
}

/** A GET over a real socket, its body as the bytes sent (node:http does not decode them). */
function rawGet(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((done, fail) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", fail);
    });
    req.on("error", fail);
    req.end();
  });
}

describe("the dashboard's files, compressed", () => {
  async function listening(dir: string): Promise<number> {
    const app = await appWith(dir);
    await app.listen({ host: "127.0.0.1", port: 0 });
    return (app.server.address() as AddressInfo).port;
  }

  it("sends brotli when accepted, else gzip, else the plain file, each decoding to the same bytes", async () => {
    const { dir, script, style } = compressedBuild();
    const port = await listening(dir);
    for (const [path, bytes, type] of [
      ["/assets/app-1a2b3c.js", script, /^text\/javascript|^application\/javascript/],
      ["/assets/app-1a2b3c.css", style, /^text\/css/],
    ] as const) {
      const cases = [
        { accept: "gzip, deflate, br", encoding: "br", decode: brotliDecompressSync },
        { accept: "br;q=1, gzip;q=0.5", encoding: "br", decode: brotliDecompressSync },
        { accept: "gzip", encoding: "gzip", decode: gunzipSync },
        { accept: "identity", encoding: undefined, decode: (b: Buffer) => b },
        { accept: undefined, encoding: undefined, decode: (b: Buffer) => b },
      ];
      for (const { accept, encoding, decode } of cases) {
        const res = await rawGet(port, path, accept === undefined ? {} : { "accept-encoding": accept });
        const what = `${path} with Accept-Encoding ${accept ?? "(none)"}`;
        expect(res.status, what).toBe(200);
        expect(res.headers["content-encoding"], what).toBe(encoding);
        expect(res.headers["content-type"], what).toMatch(type);
        expect(res.headers.vary, what).toMatch(/accept-encoding/i);
        expect(res.headers["cache-control"], what).toBe("public, max-age=31536000, immutable");
        if (encoding) expect(res.body.length, what).toBeLessThan(bytes.length);
        expect(decode(res.body).equals(bytes), what).toBe(true);
      }
    }
  });

  it("keeps index.html uncached, and answers 404 for a missing asset and for escapes", async () => {
    const { dir } = compressedBuild();
    const port = await listening(dir);
    const page = await rawGet(port, "/jobs", { "accept-encoding": "br, gzip" });
    expect(page.status).toBe(200);
    expect(page.headers["cache-control"]).toBe("no-cache");
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.body.toString()).toContain("<div id=root>");
    for (const path of [
      "/assets/missing.js",
      "/assets/missing.js.br",
      "/assets/..%2F..%2Foverseer-dashboard-secret.txt",
      "/assets/%2e%2e/%2e%2e/overseer-dashboard-secret.txt",
      "/assets/../../overseer-dashboard-secret.txt",
    ]) {
      const res = await rawGet(port, path, { "accept-encoding": "br, gzip" });
      expect(res.status, path).toBe(404);
      expect(JSON.parse(res.body.toString()).error.code, path).toBe("ROUTE_NOT_FOUND");
    }
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
