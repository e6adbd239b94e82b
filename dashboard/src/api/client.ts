/**
 * The one API client: every request of the app goes through `api()`, with the session's token
 * as `Authorization: Bearer`. Failures become an ApiError carrying the server's envelope
 * ({error: {code, message}}) and status, so pages can show exactly what the server said.
 */
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
/** For readers that call fetch themselves (the event streams): the session's token was answered 401. */
export function reportUnauthenticated(): void {
  onUnauthenticated?.();
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
  const text = await (await send(path, options, "application/json")).text();
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
  return (await send(path, { signal: options.signal }, "text/plain", headers)).text();
}

async function send(
  path: string,
  options: RequestOptions,
  accept: string,
  extraHeaders: Record<string, string> = {},
): Promise<Response> {
  const headers: Record<string, string> = { accept, ...extraHeaders };
  const bearer = options.token ?? token;
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.ifMatch !== undefined) headers["if-match"] = `"${options.ifMatch}"`;
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (err) {
    if ((err as Error).name === "AbortError") throw err;
    throw new ApiError(0, "NETWORK", `the server did not answer (${(err as Error).message})`);
  }
  if (response.ok) return response;
  const text = await response.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null; // not JSON: reported below from the status alone
  }
  const error = body?.error;
  if (response.status === 401 && options.token === undefined) onUnauthenticated?.();
  throw new ApiError(
    response.status,
    error?.code ?? "HTTP_ERROR",
    error?.message ?? response.statusText,
    error?.details,
  );
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
