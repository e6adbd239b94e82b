/**
 * Which CLI commands may create a SQLite database, and the checks made before one is opened:
 * a command that only reads or changes existing records never leaves a new empty database
 * behind (in a folder where Overseer never ran, or at a mistyped path), and a path whose folder
 * does not exist is bad input, not an unavailable database.
 */
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { OverseerError } from "../core/errors.js";
import { isPostgresUrl, printableDatabase } from "../store/database-url.js";
import { DEFAULT_DATABASE } from "../store/open-store.js";

/** The commands that make a database where there is none: they start nodes, add work, or set one up. */
const CREATING_COMMANDS = new Set([
  "start",
  "worker",
  "enqueue",
  "migrate",
  "tokens create",
  "claims take",
  "runs start",
  "heartbeat",
]);

/**
 * `path` is a command's names below the program, e.g. "jobs list". With a config file the
 * schedules commands first register its schedules, which sets a database up as `start` would.
 */
export function createsDatabase(path: string, withConfig = false): boolean {
  return CREATING_COMMANDS.has(path) || (withConfig && path.startsWith("schedules "));
}

/**
 * Throws before anything is opened: INVALID_ARGUMENT when the folder of a chosen SQLite path
 * does not exist (only the default `./data` is made for the user), DATABASE_NOT_FOUND when the
 * file must exist and does not. PostgreSQL URLs are left to the server.
 */
export function checkDatabaseLocation(
  database: string,
  mayCreate: boolean,
  exists: (path: string) => boolean = existsSync,
): void {
  if (isPostgresUrl(database)) return;
  const folder = dirname(database);
  if (database !== DEFAULT_DATABASE && !exists(folder)) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `the folder of database "${printableDatabase(database)}" does not exist; create it first (mkdir -p ${printableDatabase(folder)}) or pass another --database`,
      { field: "database", path: printableDatabase(database) },
    );
  }
  if (!mayCreate && !exists(database)) {
    throw new OverseerError(
      "DATABASE_NOT_FOUND",
      `no database at ${printableDatabase(database)}: this command reads an existing one (start, worker or enqueue make one); ` +
        "pass --database PATH (or set OVERSEER_DATABASE) to use another",
      { path: printableDatabase(database) },
    );
  }
}
