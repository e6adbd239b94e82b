/**
 * /api/v1/oncall: rotations' status, the override history, and overrides made and cancelled
 * (see contract/oncall.ts). Whoever acts is the token: an override records its name.
 */
import type { FastifyInstance } from "fastify";
import { OverseerError } from "../../core/errors.js";
import type { Overseer } from "../../sdk/overseer.js";
import * as contract from "../contract/oncall.js";
import { decodeSeqCursor, encodeSeqCursor, pageLimit } from "../cursor.js";
import { typed } from "../type-provider.js";

export function oncallRoutes(overseer: Overseer) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = typed(fastify);
    app.get("/oncall", { config: { scope: "viewer" }, schema: contract.getOncall }, async () => {
      const [rotations, now] = await Promise.all([overseer.oncall(), overseer.now()]);
      return { at: new Date(now).toISOString(), rotations };
    });

    app.get(
      "/oncall/overrides",
      { config: { scope: "viewer" }, schema: contract.listOncallOverrides },
      async (request) => {
        const { rotation, cursor } = request.query;
        const limit = pageLimit(request.query.limit);
        const overrides = await overseer.listOncallOverrides({
          rotation,
          beforeId: cursor === undefined ? undefined : decodeSeqCursor(cursor),
          limit: limit + 1,
        });
        const items = overrides.slice(0, limit);
        const last = items.at(-1);
        return { items, nextCursor: overrides.length > limit && last ? encodeSeqCursor(last.id) : null };
      },
    );

    app.post(
      "/oncall/overrides",
      { config: { scope: "operator" }, schema: contract.createOncallOverride },
      async (request, reply) => {
        const token = request.token;
        if (!token) throw new OverseerError("UNAUTHENTICATED", "send a token: Authorization: Bearer <token>");
        const { rotation, person, from, until, reason } = request.body;
        const created = await overseer.overrideOncall({
          rotation,
          person,
          from,
          until,
          for: request.body.for,
          reason,
          by: token.name,
        });
        reply.code(201).header("location", `/api/v1/oncall/overrides?rotation=${encodeURIComponent(rotation)}`);
        return created;
      },
    );

    app.post(
      "/oncall/overrides/:id/cancel",
      { config: { scope: "operator" }, schema: contract.cancelOncallOverride },
      async (request) => {
        const token = request.token;
        if (!token) throw new OverseerError("UNAUTHENTICATED", "send a token: Authorization: Bearer <token>");
        return overseer.cancelOncallOverride(Number(request.params.id), token.name);
      },
    );
  };
}
