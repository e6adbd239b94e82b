/**
 * The heartbeat watchdog in the workers' maintenance pass: with two nodes on one database, a
 * heartbeat that goes quiet past its interval raises one alert, and a ping closes it. Run on
 * SQLite and PostgreSQL.
 */
import { describe, expect, it } from "vitest";
import type { Overseer } from "../sdk/overseer.js";
import { TEST_BACKEND, testDatabase } from "../test-support/test-backend.js";
import { sleep, waitFor } from "../test-support/wait.js";

describe(`the heartbeat watchdog (${TEST_BACKEND})`, () => {
  it("raises one alert for a quiet heartbeat with two nodes watching, and a ping closes it", async () => {
    const open = (await testDatabase("overseer-heartbeats-")).open;
    const nodes = [await open(), await open()] as [Overseer, Overseer];
    await nodes[0].syncHeartbeats([{ name: "nightly-backup", intervalMs: 1_000, policy: null }]);
    for (const node of nodes) {
      node.defineTask("noop", async () => null);
      await node.worker({ pollMs: 20, maintenanceMs: 50 }).start();
    }

    const alert = await waitFor(
      "the heartbeat's alert",
      async () => (await nodes[1].listAlerts({ source: "heartbeat" }))[0],
      { timeoutMs: 10_000 },
    );
    expect(alert).toMatchObject({ status: "triggered", dedupKey: "heartbeat:nightly-backup", count: 1 });
    // Several more passes on both nodes: still one alert, raised once.
    await sleep(300);
    expect(await nodes[0].listAlerts({ source: "heartbeat" })).toHaveLength(1);
    expect((await nodes[0].readEvents({ limit: 1_000 })).filter((e) => e.kind === "alert.raised")).toHaveLength(1);

    const { heartbeat, closedAlert } = await nodes[0].pingHeartbeat("nightly-backup");
    expect(heartbeat.state).toBe("ok");
    expect(closedAlert).toMatchObject({ id: alert.id, status: "closed", closedBy: "heartbeat" });
  });
});
