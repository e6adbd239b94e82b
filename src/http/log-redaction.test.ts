/**
 * Tokens never reach a log: the server runs with a logger at the most verbose level writing to
 * memory, takes requests with good, bad, revoked and malformed tokens (some failing inside the
 * store, so errors are logged), and no secret appears in anything logged.
 */
import { expect, it } from "vitest";
import { mintStreamToken } from "../auth/stream-tokens.js";
import { createToken, generateSecret } from "../auth/tokens.js";
import { withFaults } from "../test-support/faulty-store.js";
import { memoryLogger, testApi } from "../test-support/http.js";
import { tempDatabase } from "../test-support/temp-database.js";
import { startHttpServer } from "./server.js";

it("no token, good or bad, appears in the server's log output", async () => {
  const log = memoryLogger();
  const api = await testApi({ logger: log.logger });
  const revoked = await createToken(api.overseer.store, "gone", "admin");
  await api.overseer.store.revokeToken("gone");
  const unknown = generateSecret();
  const secrets = [...Object.values(api.tokens), revoked.secret, unknown];
  for (const secret of secrets) {
    for (const [method, path] of [
      ["GET", "/api/v1/jobs"],
      ["POST", "/api/v1/jobs/01NOSUCHJOB0000000000000000/retry"],
      ["POST", "/api/v1/queues/mail/pause"],
      ["GET", "/api/v1/nope"],
    ] as const) {
      await api.request(method, path, { headers: { authorization: `Bearer ${secret}` } });
      await api.request(method, path, { headers: { authorization: `Basic ${secret}` } });
      if (method === "POST") {
        await api.request(method, path, {
          headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
          raw: "{bad",
        });
      }
    }
  }
  expect(secrets).toHaveLength(6);
  for (const secret of secrets) expect(log.text()).not.toContain(secret);
});

it("no stream token, valid, expired or misplaced, appears in the log, nor any token sent in a URL", async () => {
  const log = memoryLogger();
  const api = await testApi({ logger: log.logger });
  const stream = (await api.request("POST", "/api/v1/stream-tokens", { token: api.tokens.viewer })).body
    .token as string;
  const viewer = (await api.overseer.store.listTokens()).find((t) => t.name === "test-viewer");
  if (!viewer) throw new Error("no viewer token");
  const expired = mintStreamToken(viewer, Date.now() - 120_000);
  const secrets = [stream, expired, ...Object.values(api.tokens)];
  for (const secret of secrets) {
    for (const path of [
      `/api/v1/events?access_token=${secret}`,
      `/api/v1/jobs/01NOSUCHJOB0000000000000000/events?access_token=${secret}`,
      `/api/v1/jobs?access_token=${secret}`,
      `/api/v1/nope?access_token=${secret}`,
      `/api/v1/events?since=x&access_token=${secret}`,
      `/api/v1/ws?access_token=${secret}`,
    ]) {
      await api.request("GET", path);
    }
  }
  for (const secret of secrets) expect(log.text()).not.toContain(secret);
});

it("an unexpected failure is logged (by route, without the token) and answered with a bare 500", async () => {
  const log = memoryLogger();
  const db = tempDatabase("overseer-http-");
  const real = await db.open();
  const { store, faults } = withFaults(real.store);
  const { createOverseer } = await import("../sdk/overseer.js");
  const overseer = await createOverseer({ store });
  const { secret } = await createToken(store, "ops", "admin");
  const server = await startHttpServer({ overseer, port: 0, logger: log.logger });
  try {
    faults.failing.add("listQueues");
    const res = await fetch(`${server.url}/api/v1/queues`, { headers: { authorization: `Bearer ${secret}` } });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      error: { code: "INTERNAL_ERROR", message: "internal error; the server log has the details", details: {} },
    });
    expect(log.text()).toContain("simulated fault: listQueues failed");
    expect(log.text()).toContain('"route":"/api/v1/queues"');
    expect(log.text()).not.toContain(secret);
  } finally {
    await server.close();
  }
});
