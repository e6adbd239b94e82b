/** Durations as people write them: `250ms`, `30s`, `5m`, `2h`, `7d`, or a number of milliseconds. */
import { OverseerError } from "./errors.js";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/;

export type Duration = number | string;

export function parseDuration(value: Duration, field: string): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) {
      throw new OverseerError(
        "INVALID_ARGUMENT",
        `${field} must be a non-negative number of milliseconds, got ${value}`,
        {
          field,
        },
      );
    }
    return Math.round(value);
  }
  if (typeof value === "string") {
    const trimmed = value.trim();
    if (/^\d+$/.test(trimmed)) return Number(trimmed);
    const match = PATTERN.exec(trimmed);
    if (match) return Math.round(Number(match[1]) * (UNIT_MS[match[2] as string] as number));
  }
  throw new OverseerError(
    "INVALID_ARGUMENT",
    `${field} must be a duration such as 500ms, 30s, 5m, 2h or 7d, got ${JSON.stringify(value)}`,
    { field },
  );
}

export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${+(ms / 1_000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${+(ms / 60_000).toFixed(1)}m`;
  if (ms < 86_400_000) return `${+(ms / 3_600_000).toFixed(1)}h`;
  return `${+(ms / 86_400_000).toFixed(1)}d`;
}

/** The longest delay Node's timers hold (about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;
