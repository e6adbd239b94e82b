/**
 * `overseer start`'s HTTP flags: the connection limits take durations and a count, and refuse
 * what would switch a limit off or cannot be read, naming the flag.
 */
import { describe, expect, it } from "vitest";
import { isOverseerError } from "../core/errors.js";
import { parseHttpFlags } from "./serve-http.js";

describe("parseHttpFlags", () => {
  it("leaves the connection limits to the server's defaults unless given", () => {
    const settings = parseHttpFlags({});
    expect(settings).toEqual({ host: "127.0.0.1", port: 7070, corsOrigins: [], metricsPublic: false });
  });

  it("reads --request-timeout, --keep-alive-timeout and --max-connections", () => {
    const settings = parseHttpFlags({ requestTimeout: "10s", keepAliveTimeout: "1500ms", maxConnections: "200" });
    expect(settings).toMatchObject({ requestTimeoutMs: 10_000, keepAliveTimeoutMs: 1_500, maxConnections: 200 });
  });

  it.each([
    [{ requestTimeout: "0" }, "--request-timeout"],
    [{ requestTimeout: "soon" }, "--request-timeout"],
    [{ keepAliveTimeout: "0s" }, "--keep-alive-timeout"],
    [{ maxConnections: "0" }, "--max-connections"],
    [{ maxConnections: "many" }, "--max-connections"],
  ])("refuses %o naming the flag", (flags, field) => {
    let thrown: unknown;
    try {
      parseHttpFlags(flags);
    } catch (err) {
      thrown = err;
    }
    expect(isOverseerError(thrown, "INVALID_ARGUMENT")).toBe(true);
    expect((thrown as Error).message).toContain(field);
    expect((thrown as { details: unknown }).details).toEqual({ field });
  });
});
