/**
 * GET /metrics: Prometheus text. Needs a `metrics` (or admin) token unless the server was
 * started with `metricsPublic` (`overseer start --metrics-public`), for scrapers on a trusted network.
 */
import type { FastifyInstance } from "fastify";
import { getMetrics } from "../contract/health.js";
import type { ServerMetrics } from "../metrics.js";

export function metricsRoutes(metrics: ServerMetrics, isPublic: boolean) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      "/metrics",
      { config: { scope: isPublic ? "public" : "metrics" }, schema: getMetrics(isPublic) },
      async (_request, reply) => {
        const text = await metrics.render();
        return reply.type(metrics.contentType).send(text);
      },
    );
  };
}
