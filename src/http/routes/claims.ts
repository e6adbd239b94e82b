/**
 * /api/v1/claims: named leases for agents and scripts (see core/claim.ts). Taking, refreshing
 * and releasing need the operator scope; reading, the viewer scope. The owner is named in the
 * body rather than taken from the token, so one token can serve many agents, each its own owner.
 */
import type { FastifyInstance } from "fastify";
import { claimNotFound, validateClaimKey } from "../../core/claim.js";
import type { Overseer } from "../../sdk/overseer.js";
import { errorResponses, ref } from "../schemas.js";

const keyParams = {
  type: "object",
  required: ["key"],
  additionalProperties: false,
  properties: {
    key: {
      type: "string",
      description: "1-200 letters, digits, '.', '_', ':' or '-', starting with a letter or digit.",
    },
  },
} as const;

const owner = { type: "string", description: "Who takes it: 1-200 characters, no control characters." } as const;
const ttl = {
  type: ["string", "integer"],
  description: 'How long it is held unless refreshed: "30s", "5m", "2h" or milliseconds; 1s to 24h.',
} as const;

const takeBody = {
  type: "object",
  required: ["owner", "ttl"],
  additionalProperties: false,
  properties: { owner, ttl },
} as const;

const releaseBody = {
  type: "object",
  required: ["owner"],
  additionalProperties: false,
  properties: { owner },
} as const;

const claimResponse = { type: "object", required: ["claim"], properties: { claim: ref("Claim") } } as const;

const takeResponse = {
  type: "object",
  required: ["claim", "acquired", "previousOwner"],
  properties: {
    claim: ref("Claim"),
    acquired: { type: "boolean", description: "True for a new holder; false when the holder took it again." },
    previousOwner: {
      type: ["string", "null"],
      description: "Whose lapsed claim this take took over, if it was a takeover.",
    },
  },
} as const;

export function claimRoutes(overseer: Overseer) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post(
      "/claims/:key",
      {
        config: { scope: "operator" },
        schema: {
          tags: ["claims"],
          operationId: "takeClaim",
          summary: "Take a claim: 201 when newly taken (or taken over after its TTL), 200 when its owner took it again",
          description:
            "409 CLAIM_HELD with details {key, owner, expiresAt} while another owner holds it. The holder's retake " +
            "refreshes it (same token).",
          params: keyParams,
          body: takeBody,
          response: { 200: takeResponse, 201: takeResponse, ...errorResponses(400, 401, 403, 409) },
        },
      },
      async (request, reply) => {
        const key = validateClaimKey((request.params as { key: string }).key);
        const body = request.body as { owner: string; ttl: string | number };
        const result = await overseer.takeClaim(key, body.owner, body.ttl);
        if (result.acquired) reply.code(201).header("location", `/api/v1/claims/${encodeURIComponent(key)}`);
        return result;
      },
    );

    app.post(
      "/claims/:key/refresh",
      {
        config: { scope: "operator" },
        schema: {
          tags: ["claims"],
          operationId: "refreshClaim",
          summary: "Refresh a claim: its holder extends it to now + ttl",
          description: "409 CLAIM_NOT_HELD (details.owner: the holder, or null) unless owner holds it now.",
          params: keyParams,
          body: takeBody,
          response: { 200: claimResponse, ...errorResponses(400, 401, 403, 409) },
        },
      },
      async (request) => {
        const key = validateClaimKey((request.params as { key: string }).key);
        const body = request.body as { owner: string; ttl: string | number };
        return { claim: await overseer.refreshClaim(key, body.owner, body.ttl) };
      },
    );

    app.post(
      "/claims/:key/release",
      {
        config: { scope: "operator" },
        schema: {
          tags: ["claims"],
          operationId: "releaseClaim",
          summary: "Release a claim: its holder frees the key at once",
          description: "409 CLAIM_NOT_HELD (details.owner: the holder, or null) unless owner holds it now.",
          params: keyParams,
          body: releaseBody,
          response: { 200: claimResponse, ...errorResponses(400, 401, 403, 409) },
        },
      },
      async (request) => {
        const key = validateClaimKey((request.params as { key: string }).key);
        return { claim: await overseer.releaseClaim(key, (request.body as { owner: string }).owner) };
      },
    );

    app.get(
      "/claims",
      {
        config: { scope: "viewer" },
        schema: {
          tags: ["claims"],
          operationId: "listClaims",
          summary: "The claims held now, by key",
          response: {
            200: { type: "object", required: ["items"], properties: { items: { type: "array", items: ref("Claim") } } },
            ...errorResponses(401, 403),
          },
        },
      },
      async () => ({ items: await overseer.listClaims() }),
    );

    app.get(
      "/claims/:key",
      {
        config: { scope: "viewer" },
        schema: {
          tags: ["claims"],
          operationId: "getClaim",
          summary: "The claim on a key: 404 CLAIM_NOT_FOUND when nobody holds it now",
          params: keyParams,
          response: { 200: claimResponse, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request) => {
        const key = validateClaimKey((request.params as { key: string }).key);
        const claim = await overseer.getClaim(key);
        if (!claim) throw claimNotFound(key);
        return { claim };
      },
    );
  };
}
