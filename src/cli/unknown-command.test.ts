import { describe, expect, it } from "vitest";
import { unknownCommandLine } from "./unknown-command.js";

describe("an unknown command", () => {
  it("is one line with its code, the nearest commands and where to look", () => {
    expect(unknownCommandLine("error: unknown command 'job'\n(Did you mean jobs?)", "overseer")).toBe(
      "overseer: UNKNOWN_COMMAND: unknown command 'job' (did you mean 'jobs'?); see overseer --help\n",
    );
    expect(unknownCommandLine("error: unknown command 'rn'\n(Did you mean one of run, runs?)", "overseer")).toBe(
      "overseer: UNKNOWN_COMMAND: unknown command 'rn' (did you mean 'run' or 'runs'?); see overseer --help\n",
    );
    expect(unknownCommandLine("error: unknown command 'zzz'", "overseer jobs")).toBe(
      "overseer: UNKNOWN_COMMAND: unknown command 'zzz'; see overseer jobs --help\n",
    );
  });
});
