/**
 * A fresh SQLite file per test, in a folder of its own (the store watches its folder for WAL
 * changes, so tests must not share one). Overseers opened through it are closed when the test
 * ends; the folder is removed when the test passed and kept, with its path printed, when it
 * failed, so the database can be inspected.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { createOverseer, type Overseer, type OverseerOptions } from "../sdk/overseer.js";

export interface TempDatabase {
  readonly dir: string;
  readonly path: string;
  /** An Overseer on this file, closed when the test ends. */
  open(options?: Omit<OverseerOptions, "database">): Promise<Overseer>;
  /** Closes an Overseer made some other way (a wrapped store) when the test ends. */
  track(overseer: Overseer): Overseer;
}

/** Call inside a test: the cleanup is tied to that test. */
export function tempDatabase(prefix = "overseer-test-"): TempDatabase {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const path = join(dir, "overseer.db");
  const opened: Overseer[] = [];
  onTestFinished(async (ctx) => {
    // Newest first: a later instance may be watching jobs an earlier one's worker runs.
    for (const overseer of opened.reverse()) await overseer.close();
    if (ctx.task.result?.state === "fail") {
      console.warn(`kept the database of failed test "${ctx.task.name}": ${path}`);
    } else {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  const track = (overseer: Overseer): Overseer => {
    opened.push(overseer);
    return overseer;
  };
  return {
    dir,
    path,
    track,
    open: async (options = {}) => track(await createOverseer({ ...options, database: path })),
  };
}
