/**
 * Two scheduler processes (`overseer worker` with the same every-second schedule) side by side,
 * on SQLite and PostgreSQL: exactly one job per tick, none missing, none twice.
 */
import { describe, expect, it } from "vitest";
import { cliSandbox } from "../test-support/cli.js";
import { type ChaosBackend, postgres, sqlite } from "./backends.js";
import { twoSchedulers } from "./scenarios.js";

const cli = cliSandbox("overseer-chaos-cli-");
const backends: ChaosBackend[] = [sqlite, postgres()];

describe.each(backends)("$name: two schedulers", (backend) => {
  it("enqueue exactly one job per tick of an every-second schedule", async () => {
    const outcome = await twoSchedulers(backend, cli);
    expect(outcome.problems, outcome.line).toEqual([]);
    expect(outcome).toMatchObject({ missing: 0, twice: 0 });
  });
});
