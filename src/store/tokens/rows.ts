/** Token rows as both backends store them (times in epoch ms), and the record the API sees. */
import type { TokenRecord, TokenScope } from "../../core/types.js";
import { iso } from "../rows.js";

export interface TokenRow {
  id: string;
  name: string;
  scope: string;
  hash: string;
  created_at: number;
  revoked_at: number | null;
}

export function toToken(r: TokenRow): TokenRecord {
  return {
    id: r.id,
    name: r.name,
    scope: r.scope as TokenScope,
    hash: r.hash,
    createdAt: iso(r.created_at),
    revokedAt: r.revoked_at === null ? null : iso(r.revoked_at),
  };
}
