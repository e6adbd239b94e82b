/**
 * /api/v1/alerts and /api/v1/heartbeats: alerts open first with their escalation timeline, the
 * actions people take on them (acknowledge, escalate now, close), raising a manual alert, and
 * the heartbeat monitors with the ping an outside job sends.
 */
import { type Page, type PageQuery, type WalkOptions, walkItems, walkPages } from "./paging.js";
import type { Transport, Versioned } from "./transport.js";
import type {
  Alert,
  AlertBulkFilter,
  AlertDetail,
  AlertPolicies,
  AlertSource,
  AlertStatus,
  BulkAlertResult,
  Heartbeat,
  PingHeartbeatResult,
  RaiseAlertRequest,
} from "./types.js";

export interface AlertQuery {
  /** Statuses to list; `open` stands for triggered and acknowledged. */
  status?: ReadonlyArray<AlertStatus | "open">;
  source?: AlertSource;
  /** Raised at or after / before these times (ISO-8601). */
  createdAfter?: string;
  createdBefore?: string;
}

const path = (id: string, rest = "") => `/api/v1/alerts/${encodeURIComponent(id)}${rest}`;

export class AlertsApi {
  constructor(private readonly t: Transport) {}

  /** One page: open alerts first, then closed ones, each newest first; `total` counts every page. */
  async list(query: AlertQuery & PageQuery = {}, signal?: AbortSignal): Promise<Page<Alert> & { total: number }> {
    const url = "/api/v1/alerts";
    return (await this.t.json<Page<Alert> & { total: number }>("GET", url, { query: { ...query }, signal })).body;
  }

  pages(query: AlertQuery = {}, walk: WalkOptions = {}): AsyncGenerator<Page<Alert>> {
    return walkPages((page) => this.list({ ...query, ...page }), walk);
  }

  all(query: AlertQuery = {}, walk: WalkOptions = {}): AsyncGenerator<Alert> {
    return walkItems((page) => this.list({ ...query, ...page }), walk);
  }

  async get(id: string, signal?: AbortSignal): Promise<AlertDetail> {
    return (await this.t.json<AlertDetail>("GET", path(id), { signal })).body;
  }

  /** A manual alert; `created` is false when an open alert of the same dedupKey was bumped instead. */
  async raise(request: RaiseAlertRequest): Promise<{ alert: Alert; created: boolean }> {
    return (await this.t.json<{ alert: Alert; created: boolean }>("POST", "/api/v1/alerts", { body: request })).body;
  }

  /** The escalation policies of the server's config, by name. */
  async policies(signal?: AbortSignal): Promise<AlertPolicies> {
    return (await this.t.json<AlertPolicies>("GET", "/api/v1/alerts/policies", { signal })).body;
  }

  /** Acknowledges as the token's name: escalation stops; `note` goes on its timeline. */
  async acknowledge(id: string, options: Versioned & { note?: string } = {}): Promise<Alert> {
    const { note, ...write } = options;
    const body = note === undefined ? {} : { note };
    return (await this.t.json<{ alert: Alert }>("POST", path(id, "/ack"), { body, ...write })).body.alert;
  }

  /** Acknowledges every triggered alert the filter matches (up to `limit`), each with `note`. */
  async acknowledgeMany(filter: AlertBulkFilter = {}, note?: string): Promise<BulkAlertResult> {
    const body = note === undefined ? filter : { ...filter, note };
    return (await this.t.json<BulkAlertResult>("POST", "/api/v1/alerts/acknowledge", { body })).body;
  }

  /** Closes every open alert the filter matches (up to `limit`), each with `reason`. */
  async closeMany(filter: AlertBulkFilter = {}, reason?: string): Promise<BulkAlertResult> {
    const body = reason === undefined ? filter : { ...filter, reason };
    return (await this.t.json<BulkAlertResult>("POST", "/api/v1/alerts/close", { body })).body;
  }

  /** Notifies the next step at once; the notifications it planned come back with the alert. */
  async escalate(id: string, options: Versioned = {}): Promise<AlertDetail> {
    return (await this.t.json<AlertDetail>("POST", path(id, "/escalate"), { body: {}, ...options })).body;
  }

  async close(id: string, options: Versioned & { reason?: string } = {}): Promise<Alert> {
    const { reason, ...write } = options;
    const body = reason === undefined ? {} : { reason };
    return (await this.t.json<{ alert: Alert }>("POST", path(id, "/close"), { body, ...write })).body.alert;
  }
}

export class HeartbeatsApi {
  constructor(private readonly t: Transport) {}

  async list(signal?: AbortSignal): Promise<Heartbeat[]> {
    return (await this.t.json<{ items: Heartbeat[] }>("GET", "/api/v1/heartbeats", { signal })).body.items;
  }

  /** The heartbeat is ok until an interval from now; a late one's open alert is closed. */
  async ping(name: string): Promise<PingHeartbeatResult> {
    const url = `/api/v1/heartbeats/${encodeURIComponent(name)}`;
    return (await this.t.json<PingHeartbeatResult>("POST", url, { body: {} })).body;
  }
}
