import type { FastifyRequest } from "fastify";
import { describe, expect, it } from "vitest";
import { OverseerError } from "../core/errors.js";
import { decodeCursor, encodeCursor } from "./cursor.js";
import { etag, expectedVersion } from "./versions.js";

const request = (ifMatch: string | undefined, body?: unknown) =>
  ({ headers: ifMatch === undefined ? {} : { "if-match": ifMatch }, body }) as unknown as FastifyRequest;

describe("expectedVersion", () => {
  it.each([
    ['"3"', 3],
    ["3", 3],
    ['W/"3"', 3],
    [' "12" ', 12],
    ["*", undefined],
  ])("reads If-Match %j as %s", (header, version) => {
    expect(expectedVersion(request(header))).toBe(version);
  });

  it("reads the body's version, and both when they agree", () => {
    expect(expectedVersion(request(undefined, { version: 4 }))).toBe(4);
    expect(expectedVersion(request('"4"', { version: 4 }))).toBe(4);
    expect(expectedVersion(request(undefined, {}))).toBeUndefined();
    expect(expectedVersion(request(undefined, undefined))).toBeUndefined();
  });

  it.each([
    ["v3", undefined],
    ['"3", "4"', undefined],
    ["-1", undefined],
    ['"3"', { version: 4 }],
  ])("refuses If-Match %j (body %j) with INVALID_ARGUMENT", (header, body) => {
    expect(() => expectedVersion(request(header, body))).toThrow(OverseerError);
  });

  it("makes the ETag GET /jobs/:id sends", () => {
    expect(etag(7)).toBe('"7"');
    expect(expectedVersion(request(etag(7)))).toBe(7);
  });
});

describe("cursors", () => {
  it("round-trip an id and refuse anything this API did not make", () => {
    expect(decodeCursor(encodeCursor("01ABC"))).toBe("01ABC");
    for (const bad of ["", "not-base64!", Buffer.from("[]").toString("base64url"), encodeCursor("x".repeat(65))]) {
      expect(() => decodeCursor(bad)).toThrow(/cursor is not one this API returned/);
    }
  });
});
