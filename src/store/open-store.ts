/** Chooses a backend from a database string: a `postgres://` URL is PostgreSQL; a file path (or nothing) is SQLite. */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { OverseerError } from "../core/errors.js";
import { isPostgresUrl } from "./database-url.js";
import type { Store } from "./store.js";

export const DEFAULT_DATABASE = "./data/overseer.db";

export interface OpenStoreOptions {
  /** SQLite only; PostgreSQL's durability is the server's (`synchronous_commit`), so it is ignored there. */
  durability?: "normal" | "full";
  clock?: () => number;
  onWarning?: (message: string, err: Error) => void;
}

export async function openStore(database: string | undefined, options: OpenStoreOptions = {}): Promise<Store> {
  const target = database === undefined || database === "" ? DEFAULT_DATABASE : database;
  if (options.durability !== undefined && options.durability !== "normal" && options.durability !== "full") {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `durability must be normal or full, got ${String(options.durability)}`,
      {
        field: "durability",
      },
    );
  }
  // Each backend (and its driver) is loaded only when asked for: a SQLite worker never loads pg.
  if (isPostgresUrl(target)) {
    const { PostgresStore } = await import("./postgres/postgres-store.js");
    return PostgresStore.open({
      url: target,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    });
  }
  // Only the default location is created for the user; a path they chose must already have its folder.
  if (target === DEFAULT_DATABASE) mkdirSync(dirname(target), { recursive: true });
  const { SqliteStore } = await import("./sqlite/sqlite-store.js");
  return SqliteStore.open({ path: target, ...options });
}
