/**
 * GET /api/v1/whoami: the name and scope of the token that asks, and whether execution is on. The
 * dashboard reads it once at sign-in to tell a wrong token (401) from one whose scope hides some
 * actions.
 */
import type { FastifyInstance } from "fastify";
import { OverseerError } from "../../core/errors.js";
import type { Overseer } from "../../sdk/overseer.js";
import * as contract from "../contract/auth.js";
import { typed } from "../type-provider.js";

export function whoamiRoutes(overseer: Overseer) {
  return async (fastify: FastifyInstance): Promise<void> => {
    typed(fastify).get("/whoami", { config: { scope: "viewer" }, schema: contract.whoami }, async (request) => {
      const token = request.token;
      if (!token) throw new OverseerError("UNAUTHENTICATED", "send a token: Authorization: Bearer <token>");
      return { name: token.name, scope: token.scope, execution: (await overseer.execution()).mode };
    });
  };
}
