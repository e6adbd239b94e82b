/**
 * SQL literals, for the statements a transaction sends together in one round trip at its end.
 * node-postgres sends bound parameters one statement at a time (the extended protocol), so a
 * script of several statements (insert, lock, insert, notify, commit) must carry its values as
 * literals in the simple protocol. Only integers, strings (quoted here as the driver would) and the
 * store's own expressions get in.
 */
import { hasNul, nulInStore } from "../../core/nul.js";

/** SQL written by the store itself (such as the clock's expression), put in as it is. */
export interface SqlExpression {
  readonly sql: string;
}

export type Literal = string | number | null | SqlExpression;

export function literal(value: Literal): string {
  if (value === null) return "NULL";
  if (typeof value === "object") return value.sql;
  if (typeof value === "number") {
    // Every number we store is an integer (epoch ms, counts, priorities); anything else is a bug.
    if (!Number.isSafeInteger(value)) throw new Error(`not an integer SQL literal: ${value}`);
    return String(value);
  }
  // The simple protocol sends a script as a C string: a NUL would cut it short, so it is refused
  // here with the same error PostgreSQL gives a bound parameter holding one (see connection.ts).
  if (hasNul(value)) throw nulInStore();
  return quoted(value);
}

/**
 * A string as a literal, exactly as the driver's `escapeLiteral` writes it (quotes doubled; with
 * a backslash, an E'' literal with backslashes doubled). That one builds its answer a character
 * at a time, and on a worker's hot path, whose literals are arrays of a batch's ids and results,
 * it made a third of all the bytes the worker allocated.
 */
function quoted(value: string): string {
  const inQuotes = `'${value.replaceAll("'", "''")}'`;
  return value.includes("\\") ? ` E${inQuotes.replaceAll("\\", "\\\\")}` : inQuotes;
}

/** `INSERT INTO table (columns) VALUES (...), (...)` for rows of values in column order. */
export function insertValues(table: string, columns: readonly string[], rows: readonly (readonly Literal[])[]): string {
  const values = rows.map((row) => `(${row.map(literal).join(",")})`).join(",\n");
  return `INSERT INTO ${table} (${columns.join(", ")}) VALUES\n${values}`;
}

/**
 * A text[] as one literal (`'{"a",NULL}'::text[]`): the server reads it with the array parser,
 * far cheaper than a VALUES list or an ARRAY[...] of as many literals.
 */
export function textArrayLiteral(values: readonly (string | null)[]): string {
  const elements = values.map((v) => (v === null ? "NULL" : `"${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`));
  return `${literal(`{${elements.join(",")}}`)}::text[]`;
}

/** An int[] literal (or bigint[]), NULL for null. */
export function intArrayLiteral(values: readonly (number | null)[], type: "int" | "bigint" = "int"): string {
  return `'{${values.map(literal).join(",")}}'::${type}[]`;
}
