/**
 * Numbered migrations for the PostgreSQL backend, applied in order in one transaction under an
 * advisory lock (see PostgresStore.migrate). Versions are recorded in `schema_migrations`.
 */
import { sql as init } from "./001-init.js";
import { sql as schedules } from "./002-schedules.js";
import { sql as tokens } from "./003-tokens.js";
import { sql as finishedIndex } from "./004-finished-index.js";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "001-init", sql: init },
  { version: 2, name: "002-schedules", sql: schedules },
  { version: 3, name: "003-tokens", sql: tokens },
  { version: 4, name: "004-finished-index", sql: finishedIndex },
];
