/**
 * A database string fit to print: a PostgreSQL URL loses its password (and its query options,
 * which may hold one too); a SQLite path is shown as given. No driver is loaded here, so any
 * banner or error may use it.
 */

/** True for a `postgres://` or `postgresql://` URL, the strings `openStore` sends to PostgreSQL. */
export function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//i.test(database);
}

/** The URL without its password (and without query options), fit to print. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    const user = u.username === "" ? "" : `${u.username}${u.password === "" ? "" : ":***"}@`;
    return `${u.protocol}//${user}${u.host}${u.pathname}`;
  } catch {
    // Not a URL we can parse: show only its scheme, since the rest may hold a password.
    return `${url.split("://")[0] ?? "postgres"}://…`;
  }
}

/** A scheme, then credentials up to an `@`: the shape of a URL, even a mistyped one. */
const URL_CREDENTIALS = /^([a-z][a-z0-9+.-]*:\/*)[^@]*@/i;

/**
 * What to print for a database: a masked URL for PostgreSQL, the path for SQLite. A mistyped URL
 * (`postgres:/ada:pw@db/jobs`) is taken for a file name, but loses what may be its password all
 * the same.
 */
export function printableDatabase(database: string): string {
  if (isPostgresUrl(database)) return maskUrl(database);
  return database.replace(URL_CREDENTIALS, "$1***@");
}
