/**
 * The server's error envelope (`{"error": {"code", "message", "details"}}`) back into the
 * OverseerError it was made from, so a caller handles a remote failure as it would a local one.
 * An answer that is not an envelope of a known code (a proxy's page) still becomes an
 * OverseerError, quoting what came.
 */
import { ERROR_CODES, type ErrorCode, OverseerError } from "../core/errors.js";

export function errorFromAnswer(status: number, text: string): OverseerError {
  try {
    const { error } = JSON.parse(text) as {
      error?: { code?: unknown; message?: unknown; details?: Record<string, unknown> };
    };
    if (
      error &&
      typeof error.code === "string" &&
      Object.hasOwn(ERROR_CODES, error.code) &&
      typeof error.message === "string"
    ) {
      return new OverseerError(error.code as ErrorCode, error.message, error.details ?? {});
    }
  } catch {
    // Not JSON: reported below as it came.
  }
  return new OverseerError(
    status >= 500 ? "INTERNAL_ERROR" : "INVALID_ARGUMENT",
    `the server answered ${status}: ${text.slice(0, 200)}`,
    { status },
  );
}
