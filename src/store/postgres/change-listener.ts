/**
 * Cross-process wakeups for PostgreSQL: one dedicated connection LISTENs on `overseer_changes`,
 * which transactions that make jobs ready notify as they commit. Notifications are coalesced to
 * at most one call per event-loop turn. The connection is opened with the first subscriber and
 * closed with the last; if it drops, it is reopened after a pause and the failure reported.
 * Wakeups are an optimisation: workers keep a slow poll as a safety net.
 */
import type pg from "pg";
import { Wakeups } from "../wakeups.js";
import type { PgConnection } from "./connection.js";
import * as sql from "./statements.js";

const RECONNECT_DELAY_MS = 1_000;

export class ChangeListener {
  private client: pg.Client | null = null;
  private connecting: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly wakeups = new Wakeups();

  constructor(private readonly conn: PgConnection) {}

  subscribe(listener: () => void): () => void {
    this.wakeups.add(listener);
    this.ensureListening();
    return () => {
      if (this.wakeups.remove(listener)) void this.disconnect();
    };
  }

  /** Wakes listeners now, for writes made by this process (no need to wait for the round trip). */
  notify(): void {
    this.wakeups.notify();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.disconnect();
  }

  private ensureListening(): void {
    if (this.stopped || this.client || this.connecting || this.retryTimer) return;
    this.connecting = this.connect().finally(() => {
      this.connecting = null;
    });
  }

  private async connect(): Promise<void> {
    const client = this.conn.newClient();
    const fail = (err: Error): void => {
      if (this.client === client) this.client = null;
      client.end().catch((endErr: Error) => this.conn.warn("closing a failed LISTEN connection failed", endErr));
      if (this.stopped || this.wakeups.empty) return;
      this.conn.warn("the PostgreSQL LISTEN connection failed; reconnecting (workers poll meanwhile)", err);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.ensureListening();
      }, RECONNECT_DELAY_MS);
      this.retryTimer.unref();
    };
    client.on("error", fail);
    client.on("notification", () => this.notify());
    try {
      await client.connect();
      await client.query(sql.LISTEN_CHANGES);
    } catch (err) {
      fail(err as Error);
      return;
    }
    if (this.stopped || this.wakeups.empty) {
      await client.end();
      return;
    }
    this.client = client;
    // Whatever became ready while the connection was down is found by the next claim.
    this.notify();
  }

  private async disconnect(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.connecting;
    const client = this.client;
    this.client = null;
    if (client) {
      client.removeAllListeners("error");
      client.on("error", (err) => this.conn.warn("the LISTEN connection failed while closing", err));
      await client.end();
    }
  }
}
