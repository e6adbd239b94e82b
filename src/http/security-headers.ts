/**
 * Security headers on every answer, the API's and the dashboard's alike (@fastify/helmet).
 * The Content-Security-Policy fits the built dashboard: its script and stylesheet are files
 * under /assets (no inline script or style), it talks only to its own origin (fetch, event
 * streams), and its one image is the `data:` favicon. No page may frame it (clickjacking), no
 * referrer leaves it (client routes hold job and run ids), and no answer is content-sniffed.
 *
 * Left out on purpose: HSTS, which belongs to whatever terminates TLS in front of the server
 * (it serves plain HTTP, often on loopback), and `upgrade-insecure-requests`, which would send
 * the dashboard's own requests to https:// on a server that has none.
 */
import helmet from "@fastify/helmet";

export const CONTENT_SECURITY_POLICY = {
  "default-src": ["'self'"],
  "script-src": ["'self'"],
  "style-src": ["'self'"],
  "img-src": ["'self'", "data:"],
  "connect-src": ["'self'"],
  "font-src": ["'self'"],
  "object-src": ["'none'"],
  "base-uri": ["'none'"],
  "form-action": ["'self'"],
  "frame-ancestors": ["'none'"],
};

export const securityHeaders = [
  helmet,
  {
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    frameguard: { action: "deny" as const },
    referrerPolicy: { policy: "no-referrer" as const },
    strictTransportSecurity: false,
  },
] as const;

/**
 * The same headers for the answers no plugin hook runs before: a URL the router cannot decode,
 * and a request Node's parser refused (written on the raw socket, see errors.ts).
 */
export const FALLBACK_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": Object.entries(CONTENT_SECURITY_POLICY)
    .map(([name, values]) => `${name} ${values.join(" ")}`)
    .join(";"),
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

/** FALLBACK_SECURITY_HEADERS as header lines of a raw HTTP answer. */
export const RAW_SECURITY_HEADERS = Object.entries(FALLBACK_SECURITY_HEADERS)
  .map(([name, value]) => `${name}: ${value}\r\n`)
  .join("");
