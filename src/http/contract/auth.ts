/**
 * GET /api/v1/whoami: the name and scope of the calling token, which the dashboard reads at
 * sign-in to tell a wrong token from one whose scope hides some actions.
 */
import { EXECUTION_MODES } from "../../core/execution.js";
import { TOKEN_SCOPES } from "../../core/types.js";
import { errorResponses, type Served } from "./schema.js";

export const whoami = {
  tags: ["auth"],
  operationId: "whoami",
  summary: "The calling token's name and scope",
  response: {
    200: {
      type: "object",
      required: ["name", "scope", "execution"],
      properties: {
        name: { type: "string" },
        scope: { type: "string", enum: [...TOKEN_SCOPES] },
        execution: {
          type: "string",
          enum: [...EXECUTION_MODES],
          description: "Whether handlers may do their side effects now (see GET /execution).",
        },
      },
    },
    ...errorResponses(401, 403),
  },
} as const;

export type Whoami = Served<(typeof whoami.response)[200]>;
export type Scope = Whoami["scope"];
