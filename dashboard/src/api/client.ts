/**
 * The app's requests, through the package's client (src/client): every one goes through `api()`
 * (or `apiText()`), with the session's token as `Authorization: Bearer`. Failures become an
 * ApiError carrying the server's envelope ({error: {code, message}}) and status, so pages can
 * show exactly what the server said.
 */

import { Transport } from "../../../src/client/transport";
import { isOverseerError, type OverseerError } from "../../../src/core/errors";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The envelope's `details` (e.g. `field` for a refused param), when the server sent some. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
  /** One line for a person: "409 INVALID_TRANSITION: the job is running". */
  describe(): string {
    return this.status === 0 ? this.message : `${this.status} ${this.code}: ${this.message}`;
  }
}

let token: string | null = null;
let onUnauthenticated: (() => void) | null = null;

/** Every request of the app: the session's token, and a 401 tells the app it was signed out. */
export const transport = new Transport({ token: () => token, onUnauthenticated: () => onUnauthenticated?.() });

export function setApiToken(value: string | null): void {
  token = value;
}
export function apiToken(): string | null {
  return token;
}
/** Called when a request is answered 401: the token was revoked while the app was open. */
export function onSignedOut(handler: () => void): void {
  onUnauthenticated = handler;
}

export interface RequestOptions {
  method?: "GET" | "POST";
  body?: unknown;
  ifMatch?: number;
  signal?: AbortSignal;
  /** Use this token instead of the session's (sign-in tries one before keeping it). */
  token?: string;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  // A token being tried is not the session's: its 401 signs nobody out.
  const via = options.token === undefined ? transport : new Transport({ token: options.token });
  const { method = "GET", body, ifMatch, signal } = options;
  const text = await (
    await send(() => via.send(method, `/api/v1${path}`, { accept: "application/json", body, version: ifMatch, signal }))
  ).text();
  try {
    return (text ? JSON.parse(text) : null) as T;
  } catch {
    return null as T; // a success without JSON (none of the API's answers): nothing to read
  }
}

export interface TextOptions {
  signal?: AbortSignal;
  /** Bytes `from` to `to`, both included (an HTTP Range). */
  range?: { from: number; to: number };
}

/** A plain-text resource, such as a run turn's stored output, or a byte range of it. */
export async function apiText(path: string, options: TextOptions = {}): Promise<string> {
  const headers = options.range ? { range: `bytes=${options.range.from}-${options.range.to}` } : undefined;
  const { signal } = options;
  return (await send(() => transport.send("GET", `/api/v1${path}`, { accept: "text/plain", headers, signal }))).text();
}

/** The client's OverseerError as the ApiError pages show; an abort is passed on as it is. */
async function send(request: () => Promise<Response>): Promise<Response> {
  try {
    return await request();
  } catch (err) {
    throw isOverseerError(err) ? apiError(err) : err;
  }
}

function apiError(err: OverseerError): ApiError {
  if (err.code === "SERVER_UNREACHABLE") {
    return new ApiError(0, "NETWORK", `the server did not answer (${String(err.details.reason)})`);
  }
  // An answer that was no envelope (a proxy's page) carries its own status.
  const status = typeof err.details.status === "number" ? err.details.status : err.status;
  return new ApiError(status, err.code, err.message, err.details);
}

export function isAbort(err: unknown): boolean {
  return (err as Error | null)?.name === "AbortError";
}

/** A query string from the set fields, e.g. {state: "dead", q: ""} → "?state=dead". */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : "";
}
