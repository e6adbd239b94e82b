/**
 * The event-stream clients connected to this server, by transport: counted for the metrics, and
 * closed together when the server stops (an open stream would otherwise hold `close()` forever).
 */
export type StreamTransport = "sse" | "websocket";

export class StreamClients {
  private readonly open = new Map<symbol, { transport: StreamTransport; close: () => void }>();

  /** Registers a client; the returned function unregisters it (call it once it is gone). */
  add(transport: StreamTransport, close: () => void): () => void {
    const key = Symbol(transport);
    this.open.set(key, { transport, close });
    return () => this.open.delete(key);
  }

  count(transport: StreamTransport): number {
    let n = 0;
    for (const c of this.open.values()) if (c.transport === transport) n++;
    return n;
  }

  closeAll(): void {
    for (const c of [...this.open.values()]) c.close();
    this.open.clear();
  }
}
