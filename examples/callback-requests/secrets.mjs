// Verification codes and answer keys, derived from a secret the database keeps: no code is
// stored anywhere (not in the request's row, not in the SMS job's payload, which names the
// request and lets the SMS task derive the text as it sends), and every node on the database
// derives the same ones. Comparisons take constant time.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** A new secret, for a database that has none yet. */
export function newSecret() {
  return randomBytes(32).toString("base64url");
}

/**
 * The 6-digit code that confirms callback request `id`.
 * @param {string} secret
 * @param {string} id
 */
export function codeFor(secret, id) {
  const mac = createHmac("sha256", secret).update(`code:${id}`).digest();
  return String(mac.readUInt32BE(0) % 1_000_000).padStart(6, "0");
}

/**
 * The key in a ring's answer URL: whoever holds it heard that ring (the business's phone, or the
 * provider calling back for it), so a guessed request id cannot mark a call answered.
 * @param {string} secret
 * @param {string} id
 * @param {string} ring
 */
export function answerKey(secret, id, ring) {
  return createHmac("sha256", secret).update(`answer:${id}:${ring}`).digest("base64url").slice(0, 22);
}

/**
 * Whether two strings are equal, in time that does not depend on where they differ.
 * @param {string} given
 * @param {string} expected
 */
export function sameSecret(given, expected) {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
