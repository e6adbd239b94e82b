/**
 * /healthz (the process answers) and /readyz (the store answers too). Open to all, so load
 * balancers and supervisors need no token; they say nothing about the jobs.
 */
import type { FastifyInstance } from "fastify";
import { OverseerError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { Store } from "../../store/store.js";
import { errorResponses } from "../schemas.js";

const status = (value: string) => ({
  type: "object",
  required: ["status"],
  properties: { status: { type: "string", enum: [value] } },
});

export function healthRoutes(store: Pick<Store, "lastEventSeq">, logger: Logger) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      "/healthz",
      {
        config: { scope: "public" },
        schema: {
          tags: ["health"],
          operationId: "checkHealth",
          summary: "The process is alive",
          description: "200 while the process answers HTTP at all; it does not touch the database (see /readyz).",
          security: [],
          response: { 200: status("ok") },
        },
      },
      async () => ({ status: "ok" }),
    );
    app.get(
      "/readyz",
      {
        config: { scope: "public" },
        schema: {
          tags: ["health"],
          operationId: "checkReadiness",
          summary: "The process and its database answer",
          description: "200 once a query on the database answers; 503 DATABASE_UNAVAILABLE while it does not.",
          security: [],
          response: { 200: status("ready"), ...errorResponses(503) },
        },
      },
      async () => {
        try {
          // A real query: SQLite's clock is the process's, so now() alone would prove nothing.
          await store.lastEventSeq();
        } catch (err) {
          logger.warn({ err }, "readiness check: the database does not answer");
          // One code whatever the backend said (a closed PostgreSQL pool says SHUTTING_DOWN,
          // a closed SQLite file a driver error): a probe reads only this.
          throw err instanceof OverseerError && err.code === "DATABASE_UNAVAILABLE"
            ? err
            : new OverseerError("DATABASE_UNAVAILABLE", "the database does not answer; the server log has the details");
        }
        return { status: "ready" };
      },
    );
  };
}
