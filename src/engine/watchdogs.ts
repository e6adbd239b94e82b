/**
 * The watchdogs every worker runs in its maintenance pass: approval requests past their timeout
 * are settled, and heartbeats quiet past their interval turn late (raising their alert). Each is
 * a read first, so that most passes write nothing; the deadline is compared with the store's
 * clock, the one that wrote it (on PostgreSQL the database's, which this machine's may not
 * match). The store settles each request, and turns each heartbeat late, exactly once however
 * many workers watch.
 */
import type { Logger } from "../core/logger.js";
import type { Store } from "../store/store.js";

/** What the watchdogs read and write. */
export type WatchdogStore = Pick<
  Store,
  "now" | "nextApprovalExpiry" | "expireApprovals" | "nextHeartbeatDue" | "checkHeartbeats"
>;

/** One pass of both watchdogs; a failure rejects, for the caller's loop to report. */
export async function watchdogPass(store: WatchdogStore, logger: Logger): Promise<void> {
  if (await isDue(store, await store.nextApprovalExpiry())) {
    for (const a of await store.expireApprovals()) {
      logger.info({ approvalId: a.id, jobId: a.jobId, outcome: a.outcome }, "an approval request timed out");
    }
  }
  if (await isDue(store, await store.nextHeartbeatDue())) {
    for (const late of await store.checkHeartbeats()) {
      logger.warn(
        { heartbeat: late.heartbeat.name, alertId: late.raised.alert.id, lastPingAt: late.heartbeat.lastPingAt },
        "a heartbeat is late: raised an alert",
      );
    }
  }
}

/** The clock is read only when something is scheduled: on PostgreSQL it is a round trip. */
async function isDue(store: WatchdogStore, at: number | null): Promise<boolean> {
  return at !== null && at <= (await store.now());
}
