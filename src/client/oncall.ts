/**
 * /api/v1/oncall: who is on call in each rotation, and overrides (someone on call in another's
 * place for a while). Making and cancelling overrides needs an operator token, whose name they record.
 */
import { type Page, type PageQuery, type WalkOptions, walkItems } from "./paging.js";
import type { Transport } from "./transport.js";
import type { CreateOncallOverrideRequest, OncallOverride, OncallStatus } from "./types.js";

export class OncallApi {
  constructor(private readonly t: Transport) {}

  /** Each rotation: who is on call now and until when, who is next, and the overrides ahead. */
  async status(signal?: AbortSignal): Promise<OncallStatus> {
    return (await this.t.json<OncallStatus>("GET", "/api/v1/oncall", { signal })).body;
  }

  /**
   * Puts `person` on call in `rotation`'s place from `from` (default now) `until` a time or `for`
   * a duration (`4h`); 404 ROTATION_NOT_FOUND, 400 naming the field.
   */
  async override(request: CreateOncallOverrideRequest): Promise<OncallOverride> {
    return (await this.t.json<OncallOverride>("POST", "/api/v1/oncall/overrides", { body: request })).body;
  }

  /** Cancels an override that has not ended; 409 OVERRIDE_ENDED when it has. */
  async cancel(id: number): Promise<OncallOverride> {
    return (await this.t.json<OncallOverride>("POST", `/api/v1/oncall/overrides/${id}/cancel`)).body;
  }

  /** One page of the override history, newest first (cancelled and ended overrides too). */
  async history(query: { rotation?: string } & PageQuery = {}, signal?: AbortSignal): Promise<Page<OncallOverride>> {
    return (await this.t.json<Page<OncallOverride>>("GET", "/api/v1/oncall/overrides", { query: { ...query }, signal }))
      .body;
  }

  allHistory(query: { rotation?: string } = {}, walk: WalkOptions = {}): AsyncGenerator<OncallOverride> {
    return walkItems((page) => this.history({ ...query, ...page }), walk);
  }
}
