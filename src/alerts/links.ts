/**
 * Links from a notification to the dashboard: the alert's page, and the approval's, the job's or
 * the run's when the alert is about one. Built from the dashboard's public base URL (the config's
 * `alerts.dashboardUrl`); pure, so every channel and every copy gets the same links.
 */
import type { NotificationLink } from "./channels/channel.js";

/** Where `overseer start` serves the dashboard when no flag says otherwise (`--host`, `--port`). */
export const DEFAULT_DASHBOARD_URL = "http://127.0.0.1:7070";

export interface LinkSubjects {
  alertId: string;
  approvalId?: string | undefined;
  jobId?: string | undefined;
  runId?: string | undefined;
}

/**
 * The dashboard pages about an alert: the approval first (where a person decides), then the
 * alert, then the job or the run. `base` may carry a path (a reverse proxy's prefix); a trailing slash is fine.
 */
export function dashboardLinks(base: string, subjects: LinkSubjects): NotificationLink[] {
  const root = base.replace(/\/+$/, "");
  const page = (kind: string, id: string) => `${root}/${kind}/${encodeURIComponent(id)}`;
  const links: NotificationLink[] = [];
  if (subjects.approvalId !== undefined) links.push({ label: "Approval", url: page("approvals", subjects.approvalId) });
  links.push({ label: "Alert", url: page("alerts", subjects.alertId) });
  if (subjects.jobId !== undefined) links.push({ label: "Job", url: page("jobs", subjects.jobId) });
  if (subjects.runId !== undefined) links.push({ label: "Run", url: page("runs", subjects.runId) });
  return links;
}
