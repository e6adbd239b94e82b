/**
 * SQL literals, for the statements a transaction sends together in one round trip at its end.
 * node-postgres sends bound parameters one statement at a time (the extended protocol), so a
 * script of several statements (insert, lock, insert, notify, commit) must carry its values as
 * literals in the simple protocol. Only integers and strings (escaped by the driver) get in.
 */
import pg from "pg";

export type Literal = string | number | null;

export function literal(value: Literal): string {
  if (value === null) return "NULL";
  if (typeof value === "number") {
    // Every number we store is an integer (epoch ms, counts, priorities); anything else is a bug.
    if (!Number.isSafeInteger(value)) throw new Error(`not an integer SQL literal: ${value}`);
    return String(value);
  }
  return pg.escapeLiteral(value);
}

/** `INSERT INTO table (columns) VALUES (...), (...)` for rows of values in column order. */
export function insertValues(table: string, columns: readonly string[], rows: readonly (readonly Literal[])[]): string {
  const values = rows.map((row) => `(${row.map(literal).join(",")})`).join(",\n");
  return `INSERT INTO ${table} (${columns.join(", ")}) VALUES\n${values}`;
}
