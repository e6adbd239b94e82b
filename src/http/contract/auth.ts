/**
 * GET /api/v1/whoami: the name and scope of the calling token, which the dashboard reads at
 * sign-in to tell a wrong token from one whose scope hides some actions.
 */
import { TOKEN_SCOPES } from "../../core/types.js";
import { errorResponses, type Served } from "./schema.js";

export const whoami = {
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
} as const;

export type Whoami = Served<(typeof whoami.response)[200]>;
export type Scope = Whoami["scope"];
