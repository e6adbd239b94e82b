/**
 * /healthz (the process answers) and /readyz (the store answers too). Open to all, so load
 * balancers and supervisors need no token; they say nothing about the jobs.
 */
import type { FastifyInstance } from "fastify";
import { OverseerError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { Store } from "../../store/store.js";
import * as contract from "../contract/health.js";
import { typed } from "../type-provider.js";

export function healthRoutes(store: Pick<Store, "lastEventSeq">, logger: Logger) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = typed(fastify);
    app.get("/healthz", { config: { scope: "public" }, schema: contract.checkHealth }, async () => ({
      status: "ok" as const,
    }));
    app.get("/readyz", { config: { scope: "public" }, schema: contract.checkReadiness }, async () => {
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
      return { status: "ready" as const };
    });
  };
}
