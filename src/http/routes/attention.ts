/**
 * /api/v1/attention: what needs a person, in one read for the dashboard's landing page and its
 * nav badges. Each part comes from an index or a small table (see the contract), read at once.
 */
import type { FastifyInstance } from "fastify";
import { escalationExhausted } from "../../core/states.js";
import type { Overseer } from "../../sdk/overseer.js";
import { ATTENTION_ITEMS, getAttention } from "../contract/attention.js";
import { typed } from "../type-provider.js";

/** Open alerts read to sort them into triggered, exhausted and stalled runs: open ones are few. */
const OPEN_ALERTS_READ = 500;
/** Failed runs read, newest first, to find those of the last day. */
const FAILED_RUNS_READ = 100;
const DAY_MS = 24 * 3_600_000;
/** The newest dead jobs grouped by task and queue. */
const DEAD_SAMPLE = 1_000;
/** Dead jobs counted at most: past it the summary says "10,000+" (see COUNT_DEAD). */
const DEAD_COUNT_CAP = 10_000;

export function attentionRoutes(overseer: Overseer) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = typed(fastify);
    app.get("/attention", { config: { scope: "viewer" }, schema: getAttention }, async () => {
      const [now, pendingCount, pending, alertCounts, approvalAlerts, open, failed, workers, dead, paused] =
        await Promise.all([
          overseer.now(),
          overseer.countPendingApprovals(),
          overseer.listApprovals({ states: ["pending"], limit: ATTENTION_ITEMS }),
          overseer.countOpenAlerts(),
          overseer.countAlerts({ statuses: ["triggered"], source: "approval" }),
          overseer.listAlerts({ statuses: ["triggered", "acknowledged"], limit: OPEN_ALERTS_READ }),
          overseer.listRuns({ states: ["failed"], limit: FAILED_RUNS_READ }),
          overseer.listWorkers(),
          overseer.summarizeDeadJobs(DEAD_SAMPLE, DEAD_COUNT_CAP),
          overseer.listPausedQueues(),
        ]);
      // An approval's alert pages people about a request listed under approvals already: it is
      // left out here, so one request is one entry (and one count), not two.
      const triggered = open.filter((a) => a.status === "triggered" && a.source !== "approval");
      const exhausted = triggered.filter(escalationExhausted);
      const stalled = open.filter((a) => a.source === "run.stalled");
      const recentFailed = failed.filter((r) => r.finishedAt !== null && Date.parse(r.finishedAt) >= now - DAY_MS);
      const lost = workers.filter((w) => w.status === "lost");
      const counts = {
        approvals: pendingCount,
        // Two reads: an alert raised between them must not make the count negative.
        alerts: Math.max(0, alertCounts.triggered - approvalAlerts),
        acknowledgedAlerts: alertCounts.acknowledged,
        exhaustedAlerts: exhausted.length,
        failedRuns: recentFailed.length,
        stalledRuns: stalled.length,
        lostWorkers: lost.length,
        deadJobs: dead.total,
        pausedQueues: paused.length,
      };
      // Exhausted and stalled alerts are triggered alerts already: counted once, under alerts.
      const total =
        counts.approvals +
        counts.alerts +
        counts.failedRuns +
        counts.lostWorkers +
        counts.deadJobs +
        counts.pausedQueues;
      const first = <T>(items: readonly T[]) => items.slice(0, ATTENTION_ITEMS);
      return {
        at: new Date(now).toISOString(),
        counts: { total, ...counts },
        approvals: pending,
        alerts: first(triggered),
        exhaustedAlerts: first(exhausted),
        failedRuns: first(recentFailed).map((r) => ({
          id: r.id,
          profile: r.profile,
          finishedAt: r.finishedAt,
          error: r.error?.message ?? null,
        })),
        stalledRuns: first(stalled),
        lostWorkers: first(lost).map((w) => ({ id: w.id, name: w.name, host: w.host, heartbeatAt: w.heartbeatAt })),
        deadJobs: { ...dead, groups: first(dead.groups) },
        pausedQueues: paused,
      };
    });
  };
}
