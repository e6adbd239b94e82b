/**
 * The server a command talks to with `--url` and `--token` (or OVERSEER_URL and OVERSEER_TOKEN),
 * through the package's HTTP client. Each area's remote implementation takes the client this
 * returns; a server's refusal reaches the user as the same `CODE: message` line a local one does.
 */
import { OverseerClient } from "../client/index.js";
import { isOverseerError, OverseerError } from "../core/errors.js";
import type { GlobalOptions } from "./context.js";

/** The server to talk to, if the command was given one. */
export function remoteOf(options: GlobalOptions): { url: string; token: string | undefined } | null {
  const url = options.url ?? process.env.OVERSEER_URL;
  if (url === undefined || url === "") return null;
  return { url, token: options.token ?? process.env.OVERSEER_TOKEN };
}

/** A client of the server the options name, or null for the local database. */
export function remoteClient(options: GlobalOptions): OverseerClient | null {
  const remote = remoteOf(options);
  if (remote === null) return null;
  try {
    return new OverseerClient({ url: remote.url, token: remote.token });
  } catch (err) {
    // The client names its option `url`; here it was the flag (or OVERSEER_URL).
    if (isOverseerError(err, "INVALID_ARGUMENT") && err.details.field === "url") {
      throw new OverseerError(err.code, `--${err.message}`, err.details);
    }
    throw err;
  }
}

/** `--as` names the local user; a server decides who acts from the token. */
export function refuseAsWithUrl(options: GlobalOptions & { as?: string }, whoActs: string): void {
  if (options.as !== undefined && remoteOf(options) !== null) {
    throw new OverseerError("INVALID_ARGUMENT", `--as names the local user; with --url ${whoActs}`, { field: "as" });
  }
}
