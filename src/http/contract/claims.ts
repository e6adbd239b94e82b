/**
 * /api/v1/claims: the claim record (a named lease with a fencing token), and the schemas of
 * taking, refreshing, releasing and reading claims. The owner is named in the body, not taken
 * from the token, so one token can serve many agents, each its own owner.
 */
import { type Accepted, errorResponses, integer, isoTime, pageSchema, ref, type Served, string } from "./schema.js";

export const claimSchema = {
  $id: "Claim",
  type: "object",
  required: [
    "key",
    "owner",
    "token",
    "ttlMs",
    "acquiredAt",
    "refreshedAt",
    "expiresAt",
    "role",
    "agent",
    "fingerprint",
  ],
  properties: {
    key: string,
    owner: string,
    token: {
      type: "integer",
      description: "Fencing token: grows with every new holder of the key, never on a refresh.",
    },
    ttlMs: integer,
    acquiredAt: isoTime,
    refreshedAt: isoTime,
    expiresAt: { ...isoTime, description: "Held through this moment; anyone may take it over 1 ms later." },
    role: { type: ["string", "null"], description: "What the holder does here, as its last take said." },
    agent: { type: ["string", "null"], description: "Which agent holds it, as its last take said." },
    fingerprint: {
      type: ["string", "null"],
      description: "What tells one session of that agent from another, as its last take said.",
    },
  },
} as const;

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

const refreshBody = {
  type: "object",
  required: ["owner", "ttl"],
  additionalProperties: false,
  properties: { owner, ttl },
} as const;

const holderField = (what: string) =>
  ({ type: "string", description: `${what}: 1-200 characters, no control characters; optional.` }) as const;

const takeBody = {
  type: "object",
  required: ["owner", "ttl"],
  additionalProperties: false,
  properties: {
    owner,
    ttl,
    role: holderField("What the holder does here (reviewer, deployer)"),
    agent: holderField("Which agent takes it (claude-code, nightly-script)"),
    fingerprint: holderField("What tells this session of the agent from another (a host and process, a run id)"),
  },
} as const;

const releaseBody = {
  type: "object",
  required: ["owner"],
  additionalProperties: false,
  properties: { owner },
} as const;

const claimAnswer = { type: "object", required: ["claim"], properties: { claim: ref("Claim") } } as const;

const takeAnswer = {
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

export const takeClaim = {
  tags: ["claims"],
  operationId: "takeClaim",
  summary: "Take a claim: 201 when newly taken (or taken over after its TTL), 200 when its owner took it again",
  description:
    "409 CLAIM_HELD with details {key, owner, expiresAt} while another owner holds it. The holder's retake " +
    "refreshes it (same token).",
  params: keyParams,
  body: takeBody,
  response: { 200: takeAnswer, 201: takeAnswer, ...errorResponses(400, 401, 403, 409) },
} as const;

export const refreshClaim = {
  tags: ["claims"],
  operationId: "refreshClaim",
  summary: "Refresh a claim: its holder extends it to now + ttl",
  description: "409 CLAIM_NOT_HELD (details.owner: the holder, or null) unless owner holds it now.",
  params: keyParams,
  body: refreshBody,
  response: { 200: claimAnswer, ...errorResponses(400, 401, 403, 409) },
} as const;

export const releaseClaim = {
  tags: ["claims"],
  operationId: "releaseClaim",
  summary: "Release a claim: its holder frees the key at once",
  description: "409 CLAIM_NOT_HELD (details.owner: the holder, or null) unless owner holds it now.",
  params: keyParams,
  body: releaseBody,
  response: { 200: claimAnswer, ...errorResponses(400, 401, 403, 409) },
} as const;

export const listClaims = {
  tags: ["claims"],
  operationId: "listClaims",
  summary: "The claims held now, by key",
  response: {
    200: { type: "object", required: ["items"], properties: { items: { type: "array", items: ref("Claim") } } },
    ...errorResponses(401, 403),
  },
} as const;

export const getClaim = {
  tags: ["claims"],
  operationId: "getClaim",
  summary: "The claim on a key: 404 CLAIM_NOT_FOUND when nobody holds it now",
  params: keyParams,
  response: { 200: claimAnswer, ...errorResponses(400, 401, 403, 404) },
} as const;

export const getClaimHistory = {
  tags: ["claims"],
  operationId: "getClaimHistory",
  summary: "Who held claims and when: claim.taken and claim.released events, newest first",
  description:
    "Every key's, or one key's with ?key=. A claim.taken with data.takeover true took the key over after its " +
    "holder's TTL lapsed (data.previousOwner, data.previousExpiresAt). Read from an index of claim events alone.",
  querystring: {
    type: "object",
    additionalProperties: false,
    properties: {
      key: { type: "string", maxLength: 200, description: "Only this key's events." },
      limit: { type: "string", pattern: "^[0-9]{1,6}$", description: "Page size, 1-500; default 50." },
      cursor: { type: "string", maxLength: 200, description: "nextCursor of the previous page." },
    },
  },
  response: { 200: pageSchema("Event"), ...errorResponses(400, 401, 403) },
} as const;

export type Claim = Served<typeof claimSchema>;
export type ClaimHistoryPage = Served<(typeof getClaimHistory.response)[200]>;
export type TakeClaimRequest = Accepted<typeof takeBody>;
export type TakeClaimResult = Served<typeof takeAnswer>;
