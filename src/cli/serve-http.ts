/**
 * The HTTP API of `overseer start`: its flags, checked before the database is opened, and the
 * banner printed once it listens (the URLs, and the first admin token of a new database, shown
 * only then). Starting it is `startNode`'s (sdk/node.ts).
 */
import { MAX_TIMER_MS, parseDuration } from "../core/duration.js";
import { OverseerError } from "../core/errors.js";
import { parseIntOption, parseList } from "./context.js";

export interface HttpFlags {
  http?: boolean;
  host?: string;
  port?: string;
  corsOrigin?: string;
  metricsPublic?: boolean;
  requestTimeout?: string;
  keepAliveTimeout?: string;
  maxConnections?: string;
}

export interface HttpSettings {
  host: string;
  port: number;
  corsOrigins: string[];
  metricsPublic: boolean;
  /** Unset: the server's defaults (see http/server.ts). */
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  maxConnections?: number;
}

/** Null when `--no-http`. INVALID_ARGUMENT naming the flag for a bad value. */
export function parseHttpFlags(flags: HttpFlags): HttpSettings | null {
  if (flags.http === false) return null;
  const host = flags.host ?? "127.0.0.1";
  if (host.trim() === "") throw new OverseerError("INVALID_ARGUMENT", "--host must not be empty", { field: "host" });
  const port = flags.port === undefined ? 7070 : parseIntOption(flags.port, "--port", 0, 65_535);
  const corsOrigins = parseList(flags.corsOrigin) ?? [];
  for (const origin of corsOrigins) {
    if (!isOrigin(origin)) {
      throw new OverseerError(
        "INVALID_ARGUMENT",
        `--cors-origin takes origins such as https://dashboard.example.com (scheme, host, optional port; no path); got "${origin}"`,
        { field: "cors-origin" },
      );
    }
  }
  return {
    host,
    port,
    corsOrigins,
    metricsPublic: flags.metricsPublic === true,
    ...(flags.requestTimeout === undefined
      ? {}
      : { requestTimeoutMs: positiveDuration(flags.requestTimeout, "--request-timeout") }),
    ...(flags.keepAliveTimeout === undefined
      ? {}
      : { keepAliveTimeoutMs: positiveDuration(flags.keepAliveTimeout, "--keep-alive-timeout") }),
    ...(flags.maxConnections === undefined
      ? {}
      : { maxConnections: parseIntOption(flags.maxConnections, "--max-connections", 1, 1_000_000) }),
  };
}

/**
 * A duration of at least 1 ms (0 would mean "no timeout" to Node, which is what these flags exist
 * to prevent) and at most what Node's timers hold (longer ones would fire at once).
 */
function positiveDuration(value: string, flag: string): number {
  const ms = parseDuration(value, flag);
  if (ms < 1 || ms > MAX_TIMER_MS)
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `${flag} must be from 1ms to 2147483647ms (about 24 days); got "${value}"`,
      {
        field: flag,
      },
    );
  return ms;
}

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.origin === value;
  } catch {
    return false; // not a URL at all: the caller reports it
  }
}

/**
 * What `start` prints once it listens: the dashboard and API URLs, then either the one-time
 * admin token of a new database, the token the environment gave, or how to make one.
 * `tokensCommand` is the `overseer tokens create` command that reaches this database.
 */
export function httpBanner(
  url: string,
  token: { first: { name: string; secret: string } | null; fromEnv: boolean },
  tokensCommand: string,
): string {
  let banner =
    `overseer start: dashboard on ${url}/\n` + `overseer start: HTTP API on ${url}/api/v1 (health: ${url}/healthz)\n`;
  if (token.first) {
    banner +=
      "overseer start: this database had no API token, so one was made; it is shown only this once:\n" +
      `  admin token "${token.first.name}": ${token.first.secret}\n` +
      `  try: curl -H "Authorization: Bearer ${token.first.secret}" ${url}/api/v1/stats\n`;
  } else if (token.fromEnv) {
    banner += "overseer start: sign in with the token in OVERSEER_ADMIN_TOKEN\n";
  } else {
    banner += `overseer start: this database has API tokens already; to make one for yourself: ${tokensCommand}\n`;
  }
  return banner;
}
