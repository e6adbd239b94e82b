/**
 * Refuses a NUL character anywhere in a request, at the boundary, before any route or store
 * sees it (see core/nul.ts for why): in the decoded path parameters and query on `onRequest`
 * (before authentication, which reads `?access_token=`), and in the parsed JSON body on
 * `preValidation`, which runs after authentication, so a caller without a token learns nothing
 * about its body.
 */
import type { FastifyRequest } from "fastify";
import { findNul, nulInRequest } from "../core/nul.js";

export async function nulInUrlHook(request: FastifyRequest): Promise<void> {
  if (request.is404) return;
  const inPath = findNul(request.params, "params");
  if (inPath !== null) throw nulInRequest("path", inPath);
  const inQuery = findNul(request.query, "query");
  if (inQuery !== null) throw nulInRequest("query", inQuery);
}

export async function nulInBodyHook(request: FastifyRequest): Promise<void> {
  const inBody = findNul(request.body, "body");
  if (inBody !== null) throw nulInRequest("body", inBody);
}
