/**
 * What `overseer claims ...` does, from the local database or through a server's HTTP API
 * (`--url`), behind one interface, as `run-backend.ts` does for runs. Either way the store
 * decides; these commands only ask.
 */
import type { OverseerClient } from "../client/index.js";
import type { Claim, ClaimHolder, TakeClaimResult } from "../core/claim.js";
import type { Overseer } from "../sdk/overseer.js";
import { closing, type GlobalOptions, openOverseer } from "./context.js";
import { remoteClient } from "./remote.js";

export interface ClaimBackend {
  take(key: string, owner: string, ttlMs: number, holder: ClaimHolder): Promise<TakeClaimResult>;
  refresh(key: string, owner: string, ttlMs: number): Promise<Claim>;
  release(key: string, owner: string): Promise<Claim>;
  list(): Promise<Claim[]>;
  close(): Promise<void>;
}

export async function withClaimBackend<T>(
  options: GlobalOptions,
  fn: (backend: ClaimBackend) => Promise<T>,
): Promise<T> {
  const client = remoteClient(options);
  const backend = client ? new RemoteClaims(client) : new LocalClaims(await openOverseer(options));
  return closing(backend, fn);
}

class LocalClaims implements ClaimBackend {
  constructor(private readonly o: Overseer) {}

  take(key: string, owner: string, ttlMs: number, holder: ClaimHolder) {
    return this.o.takeClaim(key, owner, ttlMs, holder);
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
  constructor(private readonly api: OverseerClient) {}

  take(key: string, owner: string, ttlMs: number, holder: ClaimHolder) {
    return this.api.claims.take(key, owner, ttlMs, holder);
  }
  refresh(key: string, owner: string, ttlMs: number) {
    return this.api.claims.refresh(key, owner, ttlMs);
  }
  release(key: string, owner: string) {
    return this.api.claims.release(key, owner);
  }
  list() {
    return this.api.claims.list();
  }
  async close() {
    // Nothing to release: each request is its own fetch.
  }
}
