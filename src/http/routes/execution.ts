/**
 * /api/v1/execution: reading and setting the execution switch (see contract/execution.ts). The
 * route needs the operator scope; turning execution on needs admin, checked here because the
 * scope a change needs depends on its direction.
 */
import type { FastifyInstance } from "fastify";
import { scopeAllows } from "../../auth/scopes.js";
import { OverseerError } from "../../core/errors.js";
import type { Overseer } from "../../sdk/overseer.js";
import * as contract from "../contract/execution.js";
import { typed } from "../type-provider.js";
import { etag, expectedVersion } from "../versions.js";

export function executionRoutes(overseer: Overseer) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = typed(fastify);
    app.get("/execution", { config: { scope: "viewer" }, schema: contract.getExecution }, async (_request, reply) => {
      const state = await overseer.execution();
      reply.header("etag", etag(state.version));
      return state;
    });

    app.put("/execution", { config: { scope: "operator" }, schema: contract.setExecution }, async (request, reply) => {
      const token = request.token;
      if (!token) throw new OverseerError("UNAUTHENTICATED", "send a token: Authorization: Bearer <token>");
      const { mode, reason } = request.body;
      if (mode === "enabled" && !scopeAllows(token.scope, "admin")) {
        throw new OverseerError(
          "FORBIDDEN",
          "turning execution on needs an admin token; an operator may only turn it off",
        );
      }
      const state = await overseer.setExecution({
        mode,
        by: token.name,
        reason: reason ?? null,
        expectedVersion: expectedVersion(request),
      });
      reply.header("etag", etag(state.version));
      return state;
    });
  };
}
