/**
 * What `overseer alerts ...` and `overseer heartbeat` do, from the local database or through a
 * server's HTTP API (`--url`), behind one interface, as `approval-backend.ts` does for
 * approvals. Locally whoever acts is the local user (`--as NAME`, else `$USER`); remotely it is
 * the token, and the server says who that is.
 */
import {
  type Alert,
  type AlertDetail,
  type AlertSource,
  type AlertStatus,
  collect,
  type OverseerClient,
  type PingHeartbeatResult,
} from "../client/index.js";
import { OverseerError } from "../core/errors.js";
import type { Overseer } from "../sdk/overseer.js";
import { localUser } from "./approval-backend.js";
import { closing, type GlobalOptions, openOverseer } from "./context.js";
import { refuseAsWithUrl, remoteClient } from "./remote.js";

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
  refuseAsWithUrl(options, "the server decides who you are from the token");
  const client = remoteClient(options);
  const backend: AlertBackend = client
    ? new RemoteAlerts(client)
    : new LocalAlerts(await openOverseer(options), options.as);
  return closing(backend, fn);
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
  constructor(private readonly api: OverseerClient) {}

  list(query: AlertListQuery) {
    return collect(this.api.alerts.all({ status: query.statuses, source: query.source }, { limit: query.limit }));
  }
  detail(id: string) {
    return this.api.alerts.get(id);
  }
  async act(id: string, action: AlertAction, reason: string | null) {
    if (action === "ack") return { alert: await this.api.alerts.acknowledge(id), notifications: [] };
    if (action === "escalate") return this.api.alerts.escalate(id);
    return { alert: await this.api.alerts.close(id, reason === null ? {} : { reason }), notifications: [] };
  }
  ping(name: string) {
    return this.api.heartbeats.ping(name);
  }
  async close() {
    // Nothing to release: each request is its own fetch.
  }
}
