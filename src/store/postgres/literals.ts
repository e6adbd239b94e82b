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
  if (!QUOTE_OR_BACKSLASH.test(value)) return `'${value}'`;
  const inQuotes = `'${value.replaceAll("'", "''")}'`;
  return value.includes("\\") ? ` E${inQuotes.replaceAll("\\", "\\\\")}` : inQuotes;
}

const QUOTE_OR_BACKSLASH = /['\\]/;
const DOUBLE_QUOTE_OR_BACKSLASH = /["\\]/;

/** `INSERT INTO table (columns) VALUES (...), (...)` for rows of values in column order. */
export function insertValues(table: string, columns: readonly string[], rows: readonly (readonly Literal[])[]): string {
  const values = rows.map((row) => `(${row.map(literal).join(",")})`).join(",\n");
  return `INSERT INTO ${table} (${columns.join(", ")}) VALUES\n${values}`;
}

const RECORD_SEPARATOR = "\u001e";

/**
 * A text[] expression for a long list, far cheaper for the server to read than a VALUES list
 * or an ARRAY[...] of as many literals: one string it splits at the record separator, with
 * nothing escaped inside (the empty string stands for NULL). The texts on a hot path are ids,
 * names and JSON, which never hold a control character (JSON.stringify escapes them), where an
 * array literal (`'{"a",NULL}'::text[]`) would escape every double quote of the JSON and then,
 * for an E'' literal, every backslash that added. A list that could be misread (of one text,
 * or holding an empty text or the separator) goes as an array literal.
 */
export function textArrayLiteral(values: readonly (string | null)[]): string {
  const plain = values.length > 1 && values.every((v) => v === null || (v !== "" && !v.includes(RECORD_SEPARATOR)));
  if (!plain) return arrayLiteral(values);
  return `string_to_array(${literal(values.map((v) => v ?? "").join(RECORD_SEPARATOR))}, chr(30), '')`;
}

function arrayLiteral(values: readonly (string | null)[]): string {
  const elements = values.map((v) => (v === null ? "NULL" : `"${arrayElement(v)}"`));
  return `${literal(`{${elements.join(",")}}`)}::text[]`;
}

/** A text[] element's characters, backslash-escaped as the array parser reads them inside double quotes. */
function arrayElement(value: string): string {
  return DOUBLE_QUOTE_OR_BACKSLASH.test(value) ? value.replaceAll("\\", "\\\\").replaceAll('"', '\\"') : value;
}

/** An int[] literal (or bigint[]), NULL for null. */
export function intArrayLiteral(values: readonly (number | null)[], type: "int" | "bigint" = "int"): string {
  return `'{${values.map(literal).join(",")}}'::${type}[]`;
}
