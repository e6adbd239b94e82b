/**
 * /api/v1/claims: named leases for agents and scripts (see core/claim.ts). Taking, refreshing
 * and releasing need the operator scope; reading, the viewer scope. The owner is named in the
 * body rather than taken from the token, so one token can serve many agents, each its own owner.
 */
import type { FastifyInstance } from "fastify";
import { claimNotFound, validateClaimKey } from "../../core/claim.js";
import type { Overseer } from "../../sdk/overseer.js";
import * as contract from "../contract/claims.js";
import { decodeSeqCursor, encodeSeqCursor, pageLimit } from "../cursor.js";
import { typed } from "../type-provider.js";

export function claimRoutes(overseer: Overseer) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = typed(fastify);
    app.post("/claims/:key", { config: { scope: "operator" }, schema: contract.takeClaim }, async (request, reply) => {
      const key = validateClaimKey(request.params.key);
      const { owner, ttl, role, agent, fingerprint } = request.body;
      const result = await overseer.takeClaim(key, owner, ttl, { role, agent, fingerprint });
      if (result.acquired) reply.code(201).header("location", `/api/v1/claims/${encodeURIComponent(key)}`);
      return result;
    });

    app.post(
      "/claims/:key/refresh",
      { config: { scope: "operator" }, schema: contract.refreshClaim },
      async (request) => {
        const key = validateClaimKey(request.params.key);
        const { owner, ttl } = request.body;
        return { claim: await overseer.refreshClaim(key, owner, ttl) };
      },
    );

    app.post(
      "/claims/:key/release",
      { config: { scope: "operator" }, schema: contract.releaseClaim },
      async (request) => {
        const key = validateClaimKey(request.params.key);
        return { claim: await overseer.releaseClaim(key, request.body.owner) };
      },
    );

    app.get("/claims", { config: { scope: "viewer" }, schema: contract.listClaims }, async () => ({
      items: await overseer.listClaims(),
    }));

    // Not under /claims/: a key may be any name, "history" too.
    app.get("/claim-history", { config: { scope: "viewer" }, schema: contract.getClaimHistory }, async (request) => {
      const { key, cursor } = request.query;
      const limit = pageLimit(request.query.limit);
      const events = await overseer.claimHistory({
        key: key === undefined ? undefined : validateClaimKey(key),
        beforeSeq: cursor === undefined ? undefined : decodeSeqCursor(cursor),
        limit: limit + 1,
      });
      const items = events.slice(0, limit);
      const last = items.at(-1);
      return { items, nextCursor: events.length > limit && last ? encodeSeqCursor(last.seq) : null };
    });

    app.get("/claims/:key", { config: { scope: "viewer" }, schema: contract.getClaim }, async (request) => {
      const key = validateClaimKey(request.params.key);
      const claim = await overseer.getClaim(key);
      if (!claim) throw claimNotFound(key);
      return { claim };
    });
  };
}
