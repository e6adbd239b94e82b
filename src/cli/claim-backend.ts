/**
 * What `overseer claims ...` does, from the local database or through a server's HTTP API
 * (`--url`), behind one interface, as `run-backend.ts` does for runs. Either way the store
 * decides; these commands only ask.
 */
import type { Claim, TakeClaimResult } from "../core/claim.js";
import type { Overseer } from "../sdk/overseer.js";
import { ApiClient } from "./api-client.js";
import { remoteOf } from "./backend.js";
import { type GlobalOptions, openOverseer } from "./context.js";

export interface ClaimBackend {
  take(key: string, owner: string, ttlMs: number): Promise<TakeClaimResult>;
  refresh(key: string, owner: string, ttlMs: number): Promise<Claim>;
  release(key: string, owner: string): Promise<Claim>;
  list(): Promise<Claim[]>;
  close(): Promise<void>;
}

export async function withClaimBackend<T>(
  options: GlobalOptions,
  fn: (backend: ClaimBackend) => Promise<T>,
): Promise<T> {
  const remote = remoteOf(options);
  const backend = remote
    ? new RemoteClaims(new ApiClient(remote.url, remote.token))
    : new LocalClaims(await openOverseer(options));
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

class LocalClaims implements ClaimBackend {
  constructor(private readonly o: Overseer) {}

  take(key: string, owner: string, ttlMs: number) {
    return this.o.takeClaim(key, owner, ttlMs);
  }
  refresh(key: string, owner: string, ttlMs: number) {
    return this.o.refreshClaim(key, owner, ttlMs);
  }
  release(key: string, owner: string) {
    return this.o.releaseClaim(key, owner);
  }
  list() {
    return this.o.listClaims();
  }
  close() {
    return this.o.close();
  }
}

class RemoteClaims implements ClaimBackend {
  constructor(private readonly api: ApiClient) {}

  take(key: string, owner: string, ttlMs: number) {
    return this.api.request<TakeClaimResult>("POST", path(key), { owner, ttl: ttlMs });
  }
  async refresh(key: string, owner: string, ttlMs: number) {
    return (await this.api.request<{ claim: Claim }>("POST", `${path(key)}/refresh`, { owner, ttl: ttlMs })).claim;
  }
  async release(key: string, owner: string) {
    return (await this.api.request<{ claim: Claim }>("POST", `${path(key)}/release`, { owner })).claim;
  }
  async list() {
    return (await this.api.request<{ items: Claim[] }>("GET", "/api/v1/claims")).items;
  }
  async close() {
    // Nothing to release: each request is its own fetch.
  }
}

function path(key: string): string {
  return `/api/v1/claims/${encodeURIComponent(key)}`;
}
