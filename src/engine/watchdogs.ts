/**
 * The watchdogs every worker runs in its maintenance pass: approval requests past their timeout
 * are settled, and heartbeats quiet past their interval turn late (raising their alert). The
 * store reads first, so that most passes write nothing, and compares each deadline with its own
 * clock, the one that wrote it (on PostgreSQL the database's, which this machine's may not
 * match). It settles each request, and turns each heartbeat late, exactly once however many
 * workers watch.
 */
import type { Logger } from "../core/logger.js";
import type { Store } from "../store/store.js";

/** What the watchdogs read and write. */
export type WatchdogStore = Pick<Store, "expireApprovals" | "checkHeartbeats">;

/** One pass of both watchdogs; a failure rejects, for the caller's loop to report. */
export async function watchdogPass(store: WatchdogStore, logger: Logger): Promise<void> {
  for (const a of await store.expireApprovals()) {
    const asker = a.runId === null ? { jobId: a.jobId } : { runId: a.runId };
    logger.info({ approvalId: a.id, ...asker, outcome: a.outcome }, "an approval request timed out");
  }
  for (const late of await store.checkHeartbeats()) {
    logger.warn(
      { heartbeat: late.heartbeat.name, alertId: late.raised.alert.id, lastPingAt: late.heartbeat.lastPingAt },
      "a heartbeat is late: raised an alert",
    );
  }
}
