/**
 * The watchdogs go by the store's clock, not this machine's: with the store's clock held still,
 * nothing is due however much real time passes; moved past a deadline, the request is settled
 * and the heartbeat turns late, once, though real time never got there. On a real SQLite file.
 */
import { expect, it } from "vitest";
import { silentLogger } from "../core/logger.js";
import { pendingApproval } from "../test-support/approvals.js";
import { tempDatabase } from "../test-support/temp-database.js";
import { sleep } from "../test-support/wait.js";
import { watchdogPass } from "./watchdogs.js";

const HOUR = 3_600_000;

it("settles a request and turns a heartbeat late when the store's clock passes their deadlines", async () => {
  let now = Date.now();
  const overseer = await tempDatabase("overseer-watchdogs-").open({ clock: () => now });
  const approval = await pendingApproval(overseer, { timeout: "1h", onTimeout: "deny" });
  await overseer.syncHeartbeats([{ name: "nightly-backup", intervalMs: HOUR, policy: null }]);

  await sleep(20); // real time moves on; the store's clock does not
  await watchdogPass(overseer.store, silentLogger);
  expect((await overseer.getApproval(approval.id))?.state).toBe("pending");
  expect(await overseer.listAlerts({ source: "heartbeat" })).toEqual([]);

  // Two hours on the store's clock, none on this machine's.
  now += 2 * HOUR;
  await watchdogPass(overseer.store, silentLogger);
  expect(await overseer.getApproval(approval.id)).toMatchObject({
    state: "timed_out",
    outcome: { approved: false, timedOut: true, decidedBy: "watchdog" },
  });
  const [late] = await overseer.listHeartbeats();
  expect(late).toMatchObject({ name: "nightly-backup", state: "late" });
  expect(await overseer.listAlerts({ source: "heartbeat" })).toMatchObject([
    { status: "triggered", dedupKey: "heartbeat:nightly-backup", count: 1 },
  ]);

  // A second pass finds nothing more to do.
  await watchdogPass(overseer.store, silentLogger);
  expect(await overseer.listAlerts({ source: "heartbeat" })).toMatchObject([{ count: 1 }]);
});
