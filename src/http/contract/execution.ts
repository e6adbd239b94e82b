/**
 * /api/v1/execution: the execution switch (docs/execution.md), which says whether handlers may do
 * their side effects for real. Anyone may read it; an operator may turn it off (dry-run), only an
 * admin may turn it on; every change is audited as `execution.changed`.
 */
import { EXECUTION_MODES } from "../../core/execution.js";
import { errorResponses, isoTime, nullableString, type Served } from "./schema.js";

const executionMode = { type: "string", enum: [...EXECUTION_MODES] } as const;

export const executionStateSchema = {
  type: "object",
  required: ["mode", "source", "changedBy", "changedAt", "reason", "version"],
  properties: {
    mode: executionMode,
    source: {
      type: "string",
      enum: ["switch", "config"],
      description:
        "switch: set by an admin or the CLI; config: never set, so the node's config (default dry-run) applies.",
    },
    changedBy: nullableString,
    changedAt: { ...isoTime, type: ["string", "null"] },
    reason: nullableString,
    version: { type: "integer", description: "0 while never set; send it in If-Match to change it only if unchanged." },
  },
} as const;

export const getExecution = {
  tags: ["execution"],
  operationId: "getExecution",
  summary: "Whether handlers may do their side effects (enabled) or only record them (dry-run)",
  response: { 200: executionStateSchema, ...errorResponses(401, 403) },
} as const;

export const setExecution = {
  tags: ["execution"],
  operationId: "setExecution",
  summary: "Turn execution on (admin) or off (operator), audited as execution.changed",
  description:
    "Setting the mode it has already changes nothing. Send the version you read in If-Match (or as version in the body) to act only if the switch has not moved since.",
  body: {
    type: "object",
    required: ["mode"],
    additionalProperties: false,
    properties: {
      mode: executionMode,
      reason: { type: "string", maxLength: 500, description: "Why: kept in the audit." },
      version: {
        type: "integer",
        minimum: 0,
        description: "Refuse with 409 if the switch is no longer at this version.",
      },
    },
  },
  response: { 200: executionStateSchema, ...errorResponses(400, 401, 403, 409) },
} as const;

export type ExecutionState = Served<(typeof getExecution.response)[200]>;
