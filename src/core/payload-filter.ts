/**
 * Finding jobs by what they carry: `payload.<path>=<value>` filters, exact matches on a field of
 * the payload (`payload.phone=+15550100`, `payload.customer.id=42`). Pure: parsing and checking;
 * the stores turn each match into SQL (store/jobs/statements.ts), with the path written into the
 * statement, so that an expression index on that path serves it (see docs/operations.md).
 */
import { OverseerError } from "./errors.js";

/** One field of the payload that must hold `value`. */
export interface PayloadMatch {
  /** Object keys from the payload's root, e.g. ["customer", "id"]. */
  path: readonly string[];
  /** A string field equal to it, or a number field written as it (42, -1.5). */
  value: string;
}

/** A path's keys: letters, digits, `_` and `-`, up to this many per key... */
const KEY = /^[A-Za-z0-9_-]{1,64}$/;
/** ...this many keys deep... */
export const MAX_PATH_KEYS = 5;
/** ...and this many matches per filter. */
export const MAX_PAYLOAD_MATCHES = 5;
/** A value's length at most. */
export const MAX_VALUE_LENGTH = 500;

/** A number as JSON writes it: what a number field must be written as to match. */
export const JSON_NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

/**
 * The matches of `payload.<path>` entries (query parameters or filter fields), in their order;
 * INVALID_ARGUMENT naming the field for a path or value that cannot be matched.
 */
export function parsePayloadMatches(entries: Iterable<[string, unknown]>): PayloadMatch[] {
  const out: PayloadMatch[] = [];
  for (const [field, value] of entries) {
    if (!field.startsWith("payload.")) continue;
    if (typeof value !== "string") {
      throw new OverseerError(
        "INVALID_ARGUMENT",
        `${field} must be a string of at most ${MAX_VALUE_LENGTH} characters`,
        {
          field,
        },
      );
    }
    out.push({ path: field.slice("payload.".length).split("."), value });
  }
  return checkPayloadMatches(out);
}

/**
 * Checks matches before a store writes their paths into SQL (it calls this itself, whoever built
 * them): keys of letters, digits, `_` and `-`, none of them only digits (an array index on one
 * backend and an object key on the other), 1 to 5 deep; values strings up to 500 characters;
 * at most 5 matches, no path twice. INVALID_ARGUMENT naming the field; returns the matches.
 */
export function checkPayloadMatches(matches: readonly PayloadMatch[]): PayloadMatch[] {
  if (matches.length > MAX_PAYLOAD_MATCHES) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `at most ${MAX_PAYLOAD_MATCHES} payload fields per filter; got ${matches.length}`,
      { field: "payload" },
    );
  }
  const seen = new Set<string>();
  for (const { path, value } of matches) {
    const field = `payload.${Array.isArray(path) ? path.join(".") : String(path)}`;
    if (
      !Array.isArray(path) ||
      path.length < 1 ||
      path.length > MAX_PATH_KEYS ||
      !path.every((key) => typeof key === "string" && KEY.test(key) && !/^-?[0-9]+$/.test(key))
    ) {
      throw new OverseerError(
        "INVALID_ARGUMENT",
        `${field}: a payload path is 1 to ${MAX_PATH_KEYS} keys of letters, digits, "_" or "-" (up to 64 each, not only digits), joined by dots, e.g. payload.customer.id`,
        { field },
      );
    }
    if (typeof value !== "string" || value.length > MAX_VALUE_LENGTH) {
      throw new OverseerError(
        "INVALID_ARGUMENT",
        `${field} must be a string of at most ${MAX_VALUE_LENGTH} characters`,
        {
          field,
        },
      );
    }
    if (seen.has(field)) throw new OverseerError("INVALID_ARGUMENT", `${field} is given twice`, { field });
    seen.add(field);
  }
  return [...matches];
}

/** Whether a payload matches, as the stores' SQL decides: for tests and in-memory filtering. */
export function payloadMatches(payload: unknown, match: PayloadMatch): boolean {
  let at: unknown = payload;
  for (const key of match.path) {
    if (at === null || typeof at !== "object" || Array.isArray(at) || !Object.hasOwn(at, key)) return false;
    at = (at as Record<string, unknown>)[key];
  }
  if (typeof at === "string") return at === match.value;
  return typeof at === "number" && JSON_NUMBER.test(match.value) && at === Number(match.value);
}
