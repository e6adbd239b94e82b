/**
 * Mirrors the event log to an append-only NDJSON file for tools that tail files. It follows
 * the log by sequence number and resumes from the last line already in the file, so restarts
 * neither skip nor repeat events. Run it in one process per file.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, writeSync } from "node:fs";
import type { Logger } from "../core/logger.js";
import type { Store } from "../store/store.js";
import { SupervisedLoop } from "./supervised-loop.js";

export class EventMirror {
  private readonly loop: SupervisedLoop;
  private fd: number | null = null;
  private lastSeq = 0;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly store: Store,
    private readonly path: string,
    logger: Logger,
    private readonly pollMs = 250,
  ) {
    this.loop = new SupervisedLoop({ name: "events-ndjson", body: () => this.pass(), logger });
  }

  start(): void {
    const { lastSeq, endsMidLine } = readTail(this.path);
    this.lastSeq = lastSeq;
    this.fd = openSync(this.path, "a");
    // A writer died mid-line: end that line, so the first new event does not run into it.
    if (endsMidLine) writeSync(this.fd, "\n");
    this.unsubscribe = this.store.onChange(() => this.loop.poke());
    this.loop.start();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    // One last pass so that the events of a graceful shutdown are in the file too.
    await this.loop.stop();
    await this.pass();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private async pass(): Promise<number> {
    if (this.fd === null) return this.pollMs;
    for (;;) {
      const events = await this.store.readEvents({ afterSeq: this.lastSeq, limit: 1_000 });
      if (events.length === 0) break;
      writeSync(this.fd, `${events.map((e) => JSON.stringify(e)).join("\n")}\n`);
      this.lastSeq = events.at(-1)?.seq ?? this.lastSeq;
      if (events.length < 1_000) break;
    }
    return this.pollMs;
  }
}

/** The `seq` of the file's last complete event, and whether the file ends mid-line (only its tail is read). */
function readTail(path: string): { lastSeq: number; endsMidLine: boolean } {
  if (!existsSync(path)) return { lastSeq: 0, endsMidLine: false };
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const text = buffer.toString("utf8");
    const endsMidLine = text.length > 0 && !text.endsWith("\n");
    const lines = text.split("\n").filter((l) => l.trim() !== "");
    for (let i = lines.length - 1; i >= 0; i--) {
      try {
        const seq = (JSON.parse(lines[i] as string) as { seq?: unknown }).seq;
        if (typeof seq === "number") return { lastSeq: seq, endsMidLine };
      } catch {
        // A torn last line (the process died mid-write): look at the one before it.
      }
    }
    return { lastSeq: 0, endsMidLine };
  } finally {
    closeSync(fd);
  }
}
