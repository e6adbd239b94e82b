/**
 * The operator dashboard's static files (the React app in `dashboard/`, built by `npm run build`
 * into dist/dashboard): the built assets, and index.html for every other path that is not an
 * API route, so that client routes (/jobs/ID) survive a reload. Public like any static page:
 * the app holds no data until a token is pasted, and the API checks that token on each call.
 * The build writes a .br and a .gz next to each compressible file (dashboard/vite.config.ts);
 * those are sent to a browser that accepts them (brotli first, then gzip), the plain file to any
 * other, every answer with `Vary: Accept-Encoding` so a shared cache keeps them apart.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import { OverseerError } from "../core/errors.js";

/** dist/http → dist/dashboard when built; src/http (tests from source) → dist/dashboard too. */
export function dashboardDir(): string | null {
  const candidates = [
    resolve(import.meta.dirname, "../dashboard"),
    resolve(import.meta.dirname, "../../dist/dashboard"),
  ];
  return candidates.find((dir) => existsSync(resolve(dir, "index.html"))) ?? null;
}

/** Paths that belong to the server, never to the app: a miss there stays a JSON 404. */
const SERVER_PATHS = /^\/(api|metrics|healthz|readyz)(\/|$)/;

export function dashboardRoutes(dir: string | null = dashboardDir()) {
  return async (app: FastifyInstance): Promise<void> => {
    if (dir) await app.register(fastifyStatic, { root: dir, serve: false, preCompressed: true });
    app.get("/*", { config: { scope: "public" }, schema: { hide: true } }, async (request, reply) => {
      const path = request.url.split("?")[0] ?? "/";
      if (SERVER_PATHS.test(path)) {
        throw new OverseerError("ROUTE_NOT_FOUND", `no route ${request.method} ${path.slice(0, 200)}`, {
          method: request.method,
        });
      }
      if (!dir) {
        throw new OverseerError("ROUTE_NOT_FOUND", "the dashboard is not built: run `npm run build`", {
          method: request.method,
        });
      }
      // Hashed file names under /assets never change, so they may be cached for good.
      if (path.startsWith("/assets/")) {
        const file = path.slice("/assets/".length);
        if (/^[\w.-]+$/.test(file) && existsSync(resolve(dir, "assets", file))) {
          return reply.sendFile(`assets/${file}`, { maxAge: "365d", immutable: true });
        }
        throw new OverseerError("ROUTE_NOT_FOUND", `no file ${path.slice(0, 200)}`, { method: request.method });
      }
      // index.html names the current assets, so it is checked with the server on every load.
      return reply.header("cache-control", "no-cache").sendFile("index.html", { cacheControl: false });
    });
  };
}
