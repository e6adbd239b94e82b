/**
 * Runs in a test: an Overseer on the test backend's database (test-backend.ts) with the given run
 * profiles, whose working folder is a fresh temp folder, and a run supervisor unless told not to.
 * Call `runsSandbox()` at the top of a test file: after each test it closes the Overseer (and so
 * its supervisors) and removes the folder.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { parseConfig } from "../config/config.js";
import type { Run } from "../core/run.js";
import type { RunState } from "../core/run-state.js";
import type { Overseer } from "../sdk/overseer.js";
import { testDatabase } from "./test-backend.js";
import { waitFor } from "./wait.js";

export interface RunsSandbox {
  /** This test's working folder (the profiles' `cwd` is resolved against it). */
  readonly work: string;
  setUp(profiles: Record<string, unknown>, options?: { supervise?: boolean }): Promise<Overseer>;
  /** The run once it is in one of `states`. */
  until(id: string, states: RunState[]): Promise<Run>;
}

export function runsSandbox(prefix: string): RunsSandbox {
  let work = "";
  let overseer: Overseer | null = null;
  afterEach(async () => {
    await overseer?.close();
    overseer = null;
    if (work) rmSync(work, { recursive: true, force: true });
    work = "";
  });
  return {
    get work() {
      return work;
    },
    async setUp(profiles, options = {}) {
      work = mkdtempSync(join(tmpdir(), prefix));
      const runs = parseConfig({ runs: { profiles, lease: "2s" } }, "test", work).runs;
      overseer = await (await testDatabase(`${prefix}db-`)).open({ runs });
      if (options.supervise !== false) overseer.runSupervisor({ pollMs: 100 }).start();
      return overseer;
    },
    until(id, states) {
      return waitFor(
        `run ${id} to be ${states.join(" or ")}`,
        async () => {
          const run = await overseer?.getRun(id);
          return run && states.includes(run.state) ? run : null;
        },
        { timeoutMs: 20_000, intervalMs: 20 },
      );
    },
  };
}
