/**
 * GET /metrics: Prometheus text. Needs a `metrics` (or admin) token unless the server was
 * started with `metricsPublic` (`overseer start --metrics-public`), for scrapers on a trusted network.
 */
import type { FastifyInstance } from "fastify";
import type { ServerMetrics } from "../metrics.js";
import { errorResponses } from "../schemas.js";

export function metricsRoutes(metrics: ServerMetrics, isPublic: boolean) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      "/metrics",
      {
        config: { scope: isPublic ? "public" : "metrics" },
        schema: {
          tags: ["metrics"],
          operationId: "getMetrics",
          summary: "Prometheus metrics: jobs, queues, workers, event-stream clients, HTTP, process",
          description: "Every family, with its type and labels, is listed in docs/http-api.md#metrics.",
          ...(isPublic ? { security: [] } : {}),
          response: {
            200: {
              description: "The Prometheus text exposition format, version 0.0.4.",
              content: { "text/plain": { schema: { type: "string" } } },
            },
            ...errorResponses(401, 403),
          },
        },
      },
      async (_request, reply) => {
        const text = await metrics.render();
        return reply.type(metrics.contentType).send(text);
      },
    );
  };
}
