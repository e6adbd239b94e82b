/**
 * GET /api/v1/whoami: the name and scope of the token that asks. The dashboard reads it once at
 * sign-in to tell a wrong token (401) from one whose scope hides some actions.
 */
import type { FastifyInstance } from "fastify";
import { OverseerError } from "../../core/errors.js";
import { TOKEN_SCOPES } from "../../core/types.js";
import { errorResponses } from "../schemas.js";

export function whoamiRoutes() {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      "/whoami",
      {
        config: { scope: "viewer" },
        schema: {
          tags: ["auth"],
          operationId: "whoami",
          summary: "The calling token's name and scope",
          response: {
            200: {
              type: "object",
              required: ["name", "scope"],
              properties: { name: { type: "string" }, scope: { type: "string", enum: [...TOKEN_SCOPES] } },
            },
            ...errorResponses(401, 403),
          },
        },
      },
      async (request) => {
        const token = request.token;
        if (!token) throw new OverseerError("UNAUTHENTICATED", "send a token: Authorization: Bearer <token>");
        return { name: token.name, scope: token.scope };
      },
    );
  };
}
