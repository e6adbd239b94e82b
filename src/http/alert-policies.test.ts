/** GET /api/v1/alerts/policies: the config's escalation policies, as the dashboard's policies view reads them. */
import { describe, expect, it, onTestFinished } from "vitest";
import { createToken } from "../auth/tokens.js";
import { parseConfig } from "../config/config.js";
import { tempDatabase } from "../test-support/temp-database.js";
import { startHttpServer } from "./server.js";

const CONFIG = parseConfig(
  {
    alerts: {
      channels: { "ops-hook": { type: "webhook", url: "http://127.0.0.1:9/hook", secret: "env:HOOK_SECRET" } },
      policies: {
        default: {
          steps: [
            { delay: "0m", notify: ["ops-hook"] },
            { delay: "5m", notify: ["telegram:12345"] },
          ],
          repeat: 1,
          ackTimeout: "30m",
        },
        calm: { steps: [{ delay: "10m", notify: ["ops-hook"] }] },
      },
    },
  },
  "test",
);

describe("GET /api/v1/alerts/policies", () => {
  it("lists the config's policies by name, to a viewer", async () => {
    const db = tempDatabase("overseer-policies-");
    const overseer = await db.open({ alerts: CONFIG.alerts });
    const viewer = (await createToken(overseer.store, "viewer", "viewer")).secret;
    const server = await startHttpServer({ overseer, port: 0 });
    onTestFinished(() => server.close());
    const res = await fetch(`${server.url}/api/v1/alerts/policies`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { policies: { name: string }[] };
    expect(body.policies).toEqual([
      {
        name: "calm",
        steps: [{ delayMs: 600_000, notify: ["ops-hook"] }],
        repeat: 0,
        repeatDelayMs: 600_000,
        ackTimeoutMs: null,
      },
      {
        name: "default",
        steps: [
          { delayMs: 0, notify: ["ops-hook"] },
          { delayMs: 300_000, notify: ["telegram:12345"] },
        ],
        repeat: 1,
        repeatDelayMs: 300_000,
        ackTimeoutMs: 1_800_000,
      },
    ]);
  });

  it("is an empty list without alerts in the config", async () => {
    const db = tempDatabase("overseer-policies-");
    const overseer = await db.open();
    const viewer = (await createToken(overseer.store, "viewer", "viewer")).secret;
    const server = await startHttpServer({ overseer, port: 0 });
    onTestFinished(() => server.close());
    const res = await fetch(`${server.url}/api/v1/alerts/policies`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(await res.json()).toEqual({ policies: [] });
  });
});
