/**
 * What each token scope may do, in one place. Scopes nest: `admin` may do everything,
 * `operator` may also do what `viewer` may; `metrics` stands alone (only `/metrics`), so a
 * scraper's token cannot read payloads.
 */
import { TOKEN_SCOPES, type TokenScope } from "../core/types.js";

const GRANTS: Record<TokenScope, readonly TokenScope[]> = {
  admin: TOKEN_SCOPES,
  operator: ["operator", "viewer"],
  viewer: ["viewer"],
  metrics: ["metrics"],
};

/** Whether a token of scope `held` may use a route that requires `required`. */
export function scopeAllows(held: TokenScope, required: TokenScope): boolean {
  return GRANTS[held].includes(required);
}

export function isTokenScope(value: unknown): value is TokenScope {
  return typeof value === "string" && (TOKEN_SCOPES as readonly string[]).includes(value);
}
