/**
 * `overseer start`'s banner, and its HTTP flags: the connection limits take durations and a count,
 * and refuse what would switch a limit off or cannot be read, naming the flag.
 */
import { describe, expect, it } from "vitest";
import { isOverseerError } from "../core/errors.js";
import { tokensCommand } from "./commands/run-node.js";
import { httpBanner, parseHttpFlags } from "./serve-http.js";

describe("the banner of overseer start", () => {
  const url = "http://127.0.0.1:7070";
  const command = "overseer tokens create --scope admin --name me";

  it("names the dashboard first, then the API, then the one-time token", () => {
    const banner = httpBanner(url, { first: { name: "admin", secret: "ovs_x" }, fromEnv: false }, command);
    expect(banner.split("\n")).toEqual([
      "overseer start: dashboard on http://127.0.0.1:7070/",
      "overseer start: HTTP API on http://127.0.0.1:7070/api/v1 (health: http://127.0.0.1:7070/healthz)",
      "overseer start: this database had no API token, so one was made; it is shown only this once:",
      '  admin token "admin": ovs_x',
      '  try: curl -H "Authorization: Bearer ovs_x" http://127.0.0.1:7070/api/v1/stats',
      "",
    ]);
  });

  it("says how to make a token when the database has some, or which one the environment gave", () => {
    expect(httpBanner(url, { first: null, fromEnv: false }, command)).toContain(
      `this database has API tokens already; to make one for yourself: ${command}\n`,
    );
    expect(httpBanner(url, { first: null, fromEnv: true }, command)).toContain(
      "sign in with the token in OVERSEER_ADMIN_TOKEN\n",
    );
  });

  it("names the database in that command only when it was given as --database, never a URL's password", () => {
    expect(tokensCommand({})).toBe(command);
    expect(tokensCommand({ database: "./jobs.db" })).toBe(
      "overseer --database ./jobs.db tokens create --scope admin --name me",
    );
    expect(tokensCommand({ database: "/srv/my jobs/o.db" })).toBe(
      "overseer --database '/srv/my jobs/o.db' tokens create --scope admin --name me",
    );
    expect(tokensCommand({ database: "postgres://ada:pw@db/jobs" })).toBe(
      "overseer --database <the same URL> tokens create --scope admin --name me",
    );
  });
});

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
    [{ keepAliveTimeout: "30d" }, "--keep-alive-timeout"],
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
