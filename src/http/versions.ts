/**
 * The version a write is based on, from `If-Match` (an ETag as GET /jobs/:id sends it: "3",
 * or W/"3", or a bare 3) or from `version` in the body. Both may be given only if they agree.
 * `*` means any version, as in HTTP.
 */
import type { FastifyRequest } from "fastify";
import { OverseerError } from "../core/errors.js";

const IF_MATCH = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/;

export function etag(version: number): string {
  return `"${version}"`;
}

export function expectedVersion(request: FastifyRequest): number | undefined {
  const header = request.headers["if-match"];
  const body = request.body as { version?: number } | undefined | null;
  const fromBody = body?.version;
  if (header === undefined || header.trim() === "*") return fromBody;
  const match = IF_MATCH.exec(header);
  if (!match) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `If-Match must be a version such as "3"; got ${JSON.stringify(header)}`,
      {
        field: "If-Match",
      },
    );
  }
  const fromHeader = Number(match[1]);
  if (fromBody !== undefined && fromBody !== fromHeader) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `If-Match says version ${fromHeader} but the body says ${fromBody}; send one of them`,
      { field: "version" },
    );
  }
  return fromHeader;
}

/** A `preValidation` hook for writes whose body is optional: a bodiless POST counts as `{}`. */
export async function emptyBodyIsObject(request: FastifyRequest): Promise<void> {
  request.body ??= {};
}
