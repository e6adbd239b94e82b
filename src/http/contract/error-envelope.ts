/**
 * The error envelope: every failure on the wire is `{"error": {"code", "message", "details"}}`,
 * `details` an object even when empty, so a client can read `details.field` without checking.
 * The codes are ERROR_CODES' (core/errors.ts); http/errors.ts maps failures onto it.
 */
import { ERROR_CODES, type ErrorCode } from "../../core/errors.js";
import type { Served } from "./schema.js";

/** The JSON schema of the envelope, for route responses and the OpenAPI document. */
export const errorEnvelopeSchema = {
  $id: "ErrorEnvelope",
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message", "details"],
      properties: {
        code: { type: "string", enum: Object.keys(ERROR_CODES) as ErrorCode[] },
        message: { type: "string" },
        details: { type: "object", additionalProperties: true },
      },
    },
  },
} as const;

export type ErrorEnvelope = Served<typeof errorEnvelopeSchema>;
