/**
 * /api/v1/claims: named leases any program may take, so that one owner at a time works on a
 * thing. The owner is named in each call, so one token can serve many owners.
 */
import { type Page, type PageQuery, type WalkOptions, walkItems, walkPages } from "./paging.js";
import type { Transport } from "./transport.js";
import type { Claim, OverseerEvent, TakeClaimResult } from "./types.js";

export interface ClaimHistoryQuery {
  /** One key's history; absent: every key's. */
  key?: string;
}

/** Milliseconds, or a duration such as `30s` or `5m`. */
export type Ttl = number | string;

const path = (key: string, rest = "") => `/api/v1/claims/${encodeURIComponent(key)}${rest}`;

export class ClaimsApi {
  constructor(private readonly t: Transport) {}

  /**
   * Takes the claim, or refreshes it for its holder; 409 CLAIM_HELD while someone else holds it.
   * `holder`: the role, agent and fingerprint the claim records.
   */
  async take(
    key: string,
    owner: string,
    ttl: Ttl,
    holder: { role?: string; agent?: string; fingerprint?: string } = {},
  ): Promise<TakeClaimResult> {
    return (await this.t.json<TakeClaimResult>("POST", path(key), { body: { owner, ttl, ...holder } })).body;
  }

  /** Its holder extends it to now + ttl. */
  async refresh(key: string, owner: string, ttl: Ttl): Promise<Claim> {
    return (await this.t.json<{ claim: Claim }>("POST", path(key, "/refresh"), { body: { owner, ttl } })).body.claim;
  }

  /** Its holder frees the key at once. */
  async release(key: string, owner: string): Promise<Claim> {
    return (await this.t.json<{ claim: Claim }>("POST", path(key, "/release"), { body: { owner } })).body.claim;
  }

  /** The claim on a key; 404 CLAIM_NOT_FOUND when nobody holds it. */
  async get(key: string, signal?: AbortSignal): Promise<Claim> {
    return (await this.t.json<{ claim: Claim }>("GET", path(key), { signal })).body.claim;
  }

  /** The claims held now, by key. */
  async list(signal?: AbortSignal): Promise<Claim[]> {
    return (await this.t.json<{ items: Claim[] }>("GET", "/api/v1/claims", { signal })).body.items;
  }

  /**
   * Who held claims and when: one page of `claim.taken` and `claim.released` events, newest
   * first (a take with `data.takeover` took the key over after its holder's TTL lapsed).
   */
  async history(query: ClaimHistoryQuery & PageQuery = {}, signal?: AbortSignal): Promise<Page<OverseerEvent>> {
    return (await this.t.json<Page<OverseerEvent>>("GET", "/api/v1/claim-history", { query: { ...query }, signal }))
      .body;
  }

  historyPages(query: ClaimHistoryQuery = {}, walk: WalkOptions = {}): AsyncGenerator<Page<OverseerEvent>> {
    return walkPages((page) => this.history({ ...query, ...page }), walk);
  }

  allHistory(query: ClaimHistoryQuery = {}, walk: WalkOptions = {}): AsyncGenerator<OverseerEvent> {
    return walkItems((page) => this.history({ ...query, ...page }), walk);
  }
}
