/**
 * Server-Timing: every answer says how long the server spent on it, successes and refusals alike,
 * so the server's share of a slow page can be told from the network's.
 */
import { describe, expect, it } from "vitest";
import { testApi } from "../test-support/http.js";

const TIMING = /^app;dur=\d+\.\d$/;

describe("Server-Timing", () => {
  it("is on a listing, a route's error and a refused token, with the server's time in ms", async () => {
    const api = await testApi();
    const admin = api.tokens.admin;
    for (const [what, answer, status] of [
      ["a listing", api.request("GET", "/api/v1/queues", { token: admin }), 200],
      ["a route's error", api.request("GET", "/api/v1/jobs/01NOSUCHJOB", { token: admin }), 404],
      ["no token", api.request("GET", "/api/v1/jobs"), 401],
    ] as const) {
      const res = await answer;
      expect(res.status, what).toBe(status);
      const timing = res.headers.get("server-timing") ?? "";
      expect(timing, what).toMatch(TIMING);
      expect(Number(timing.slice("app;dur=".length)), what).toBeLessThan(60_000);
    }
  });
});
