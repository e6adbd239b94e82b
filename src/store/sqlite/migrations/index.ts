/** Numbered migrations for the SQLite backend, applied in order, each in its own transaction. */
import { sql as init } from "./001-init.js";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [{ version: 1, name: "001-init", sql: init }];
