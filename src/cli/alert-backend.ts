/**
 * What `overseer alerts ...` and `overseer heartbeat` do, from the local database or through a
 * server's HTTP API (`--url`), behind one interface, as `approval-backend.ts` does for
 * approvals. Locally whoever acts is the local user (`--as NAME`, else `$USER`); remotely it is
 * the token, and the server says who that is.
 */
import type { Alert, AlertNotification, AlertSource, AlertStatus } from "../core/alert.js";
import { OverseerError } from "../core/errors.js";
import type { Overseer } from "../sdk/overseer.js";
import type { PingHeartbeatResult } from "../store/store.js";
import { ApiClient } from "./api-client.js";
import { localUser } from "./approval-backend.js";
import { remoteOf } from "./backend.js";
import { type GlobalOptions, openOverseer } from "./context.js";

export interface AlertDetail {
  alert: Alert;
  /** The escalation timeline, oldest first. */
  notifications: AlertNotification[];
}

export interface AlertListQuery {
  statuses?: AlertStatus[];
  source?: AlertSource;
  limit: number;
}

export type AlertAction = "ack" | "escalate" | "close";

export interface AlertBackend {
  list(query: AlertListQuery): Promise<Alert[]>;
  detail(id: string): Promise<AlertDetail>;
  /** The alert after the action, and the notifications an escalation planned (else empty). */
  act(id: string, action: AlertAction, reason: string | null): Promise<AlertDetail>;
  ping(name: string): Promise<PingHeartbeatResult>;
  close(): Promise<void>;
}

export async function withAlertBackend<T>(
  options: GlobalOptions & { as?: string },
  fn: (backend: AlertBackend) => Promise<T>,
): Promise<T> {
  const remote = remoteOf(options);
  if (remote && options.as !== undefined) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      "--as names the local user; with --url the server decides who you are from the token",
      { field: "as" },
    );
  }
  const backend: AlertBackend = remote
    ? new RemoteAlerts(new ApiClient(remote.url, remote.token))
    : new LocalAlerts(await openOverseer(options), options.as);
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

class LocalAlerts implements AlertBackend {
  constructor(
    private readonly o: Overseer,
    private readonly as: string | undefined,
  ) {}

  list(query: AlertListQuery) {
    return this.o.listAlerts({ statuses: query.statuses, source: query.source, limit: query.limit });
  }
  async detail(id: string) {
    const alert = await this.o.getAlert(id);
    if (!alert) throw new OverseerError("ALERT_NOT_FOUND", `no alert with id "${id}"`, { id });
    return { alert, notifications: await this.o.listAlertNotifications(id) };
  }
  async act(id: string, action: AlertAction, reason: string | null) {
    const by = localUser(this.as);
    if (action === "ack") return { alert: await this.o.acknowledgeAlert(id, by), notifications: [] };
    if (action === "close") return { alert: await this.o.closeAlert(id, by, { reason }), notifications: [] };
    const { alert, notifications } = await this.o.escalateAlert(id, by);
    return { alert, notifications };
  }
  ping(name: string) {
    return this.o.pingHeartbeat(name);
  }
  close() {
    return this.o.close();
  }
}

class RemoteAlerts implements AlertBackend {
  constructor(private readonly api: ApiClient) {}

  async list(query: AlertListQuery) {
    const params = new URLSearchParams();
    if (query.statuses) params.set("status", query.statuses.join(","));
    if (query.source !== undefined) params.set("source", query.source);
    return this.api.collect<Alert>("/api/v1/alerts", params, query.limit);
  }
  detail(id: string) {
    return this.api.request<AlertDetail>("GET", `/api/v1/alerts/${encodeURIComponent(id)}`);
  }
  async act(id: string, action: AlertAction, reason: string | null) {
    const path = `/api/v1/alerts/${encodeURIComponent(id)}/${action}`;
    const out = await this.api.request<{ alert: Alert; notifications?: AlertNotification[] }>(
      "POST",
      path,
      reason === null ? {} : { reason },
    );
    return { alert: out.alert, notifications: out.notifications ?? [] };
  }
  ping(name: string) {
    return this.api.request<PingHeartbeatResult>("POST", `/api/v1/heartbeats/${encodeURIComponent(name)}`, {});
  }
  async close() {
    // Nothing to release: each request is its own fetch.
  }
}
