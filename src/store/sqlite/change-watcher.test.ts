import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sleep, waitFor } from "../../test-support/wait.js";
import { ChangeWatcher } from "./change-watcher.js";

/**
 * The watcher against a real directory and a scripted `data_version`: a WAL write (the first
 * write of another process's commit) comes before that commit is visible, so listeners must be
 * woken when the version changes, not when the file does.
 */
describe("ChangeWatcher", () => {
  let dir: string;
  let db: string;
  let version: number;
  let reads: number;
  let watcher: ChangeWatcher;
  let wakes: number;
  let unsubscribe: () => void;

  const open = (settleMs: number): void => {
    watcher = new ChangeWatcher(
      db,
      () => {
        reads++;
        return version;
      },
      (err) => {
        throw err;
      },
      settleMs,
    );
    unsubscribe = watcher.subscribe(() => {
      wakes++;
    });
  };
  const writeWal = (): void => appendFileSync(`${db}-wal`, "frame");

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "overseer-watch-"));
    db = join(dir, "overseer.db");
    version = 1;
    reads = 0;
    wakes = 0;
  });
  afterEach(() => {
    unsubscribe();
    watcher.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("wakes no one for a WAL write whose commit is not visible yet, then once it is, with no further write", async () => {
    open(60_000);
    const before = reads;
    writeWal();
    await waitFor("the watcher to look for the commit a few times", () => reads >= before + 5);
    expect(wakes).toBe(0);
    version = 2; // the commit becomes visible: SQLite writes no more to the WAL for it
    await waitFor("a wakeup for the visible commit", () => wakes === 1);
    const read = reads;
    await waitFor("a few more looks", () => reads >= read + 5);
    expect(wakes).toBe(1); // once per commit, however often it looks
  });

  it("wakes once for several commits seen in one look", async () => {
    open(60_000);
    version = 5;
    writeWal();
    writeWal();
    await waitFor("a wakeup", () => wakes === 1);
    const read = reads;
    await waitFor("a few more looks", () => reads >= read + 5);
    expect(wakes).toBe(1);
  });

  it("stops looking once no WAL write has come for the settle time", async () => {
    open(20);
    writeWal();
    await waitFor("the looks to stop", async () => {
      const seen = reads;
      await sleep(50);
      return reads === seen && reads > 1;
    });
    version = 2; // seen only after the next write
    const seen = reads;
    await sleep(50);
    expect(reads).toBe(seen);
    expect(wakes).toBe(0);
    writeWal();
    await waitFor("a wakeup after the next write", () => wakes === 1);
  });

  it("wakes listeners at once for this process's own writes", async () => {
    open(60_000);
    watcher.notify();
    await waitFor("a wakeup", () => wakes === 1);
  });

  it("a stopped watcher reads nothing more", async () => {
    open(60_000);
    writeWal();
    await waitFor("some looks", () => reads >= 3);
    watcher.stop();
    const seen = reads;
    await sleep(30);
    expect(reads).toBe(seen);
  });
});
