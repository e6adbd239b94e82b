import { describe, expect, it } from "vitest";
import {
  answerText,
  checkInputTemplate,
  type PreviousTurn,
  previousSummary,
  type RunAnswer,
  renderTurnInput,
  type TurnInputContext,
  takesAnswer,
  templateFiles,
} from "./run-input.js";

const context: TurnInputContext = {
  runId: "run-1",
  turn: 2,
  maxTurns: 5,
  params: { goal: "ship it", n: 3, off: false },
  previous: { turn: 1, outcome: "exited", exitCode: 1, signal: null },
  messages: [],
  files: { "agent-log.md": { text: "did a thing\n", omittedBytes: 0 }, "big.md": { text: "tail", omittedBytes: 10 } },
};

describe("a turn's input template", () => {
  it("lists the files it names, each once, trimmed", () => {
    expect(templateFiles("{{file:a.md}} {{ file: b/c.md }} {{file:a.md}} {{turn}}")).toEqual(["a.md", "b/c.md"]);
  });

  it("is refused with a typo'd name or a file outside the working folder", () => {
    expect(checkInputTemplate("{{turn}} {{goal}} {{previous.summary}} {{file:x.md}}", ["goal"])).toBeNull();
    expect(checkInputTemplate("{{turns}}", ["goal"])).toMatch(/^uses \{\{turns\}\}, which is neither a param/);
    expect(checkInputTemplate("{{previous.exit}}", [])).toMatch(/previous\.exit/);
    expect(checkInputTemplate("{{file:../secrets}}", [])).toBe(
      "{{file:../secrets}} must name a file inside the working folder",
    );
    expect(checkInputTemplate("{{file:/etc/passwd}}", [])).toMatch(/inside the working folder/);
  });

  it("renders the run, its params, the previous turn and files", () => {
    const template =
      "{{runId}} {{turn}}/{{maxTurns}} {{goal}} {{n}} {{off}} [{{missing}}] {{previous.turn}} {{previous.outcome}} " +
      "{{previous.exitCode}} [{{previous.signal}}] {{previous.summary}}\n{{file:agent-log.md}}{{file:big.md}}[{{file:none.md}}]";
    expect(renderTurnInput(template, { ...context, params: { ...context.params, missing: null } })).toBe(
      "run-1 2/5 ship it 3 false [] 1 exited 1 [] Turn 1 failed: it exited with code 1.\n" +
        "did a thing\n[... 10 earlier bytes left out]\ntail[]",
    );
  });

  it("renders nothing for the previous turn before the first, and each message as a paragraph", () => {
    const first = { ...context, turn: 1, previous: null };
    expect(
      renderTurnInput("[{{previous.turn}}|{{previous.outcome}}|{{previous.exitCode}}] {{previous.summary}}", first),
    ).toBe("[||] This is the first turn.");
    const messages = [
      { body: "use the v2 API", sentBy: "alice", at: "2026-12-06T10:00:00.000Z" },
      { body: "and add a test", sentBy: null, at: "2026-12-06T10:01:00.000Z" },
    ];
    expect(renderTurnInput("{{messages}}", { ...context, messages })).toBe(
      "Message from alice at 2026-12-06T10:00:00.000Z:\nuse the v2 API\n\n" +
        "Message from an operator at 2026-12-06T10:01:00.000Z:\nand add a test",
    );
    expect(renderTurnInput("[{{messages}}]", context)).toBe("[]");
  });

  it("leaves text that only looks like a placeholder alone, and does not expand what a value contains", () => {
    expect(renderTurnInput("{{ turn }} {turn} {{}} {{1x}}", context)).toBe("2 {turn} {{}} {{1x}}");
    expect(renderTurnInput("{{goal}}", { ...context, params: { goal: "{{runId}} $& $1" } })).toBe("{{runId}} $& $1");
  });

  it("hands the previous turn's answer on, and nothing when it asked nothing", () => {
    const answer: RunAnswer = {
      kind: "question",
      asked: "Which database?",
      approved: true,
      text: "SQLite",
      by: "ana",
      timedOut: false,
    };
    expect(renderTurnInput("{{answer}}|{{answer.text}}|{{answer.approved}}", { ...context, answer })).toBe(
      'You asked: "Which database?". ana answered: "SQLite".|SQLite|true',
    );
    expect(renderTurnInput("[{{answer}}|{{answer.text}}|{{answer.approved}}]", context)).toBe("[||]");
    expect(checkInputTemplate("{{answer}} {{answer.text}} {{answer.approved}}", [])).toBeNull();
    // Only a template that shows an answer has one looked up for it.
    const input = (template: string) => ({ template, via: "stdin" as const, file: "" });
    expect(["{{answer}}", "[{{ answer.text }}]", "{{turn}} {{messages}}"].map((t) => takesAnswer(input(t)))).toEqual([
      true,
      true,
      false,
    ]);
    expect(takesAnswer(undefined)).toBe(false);
  });

  it("sums up every way a request can be settled", () => {
    const q = (p: Partial<RunAnswer>): RunAnswer => ({
      kind: "question",
      asked: "Which database?",
      approved: true,
      text: "SQLite",
      by: "ana",
      timedOut: false,
      ...p,
    });
    const a = (p: Partial<RunAnswer>): RunAnswer => q({ kind: "approval", asked: "Deploy", text: null, ...p });
    expect(
      [
        q({}),
        q({ text: null }),
        q({ approved: false, text: "not mine to say" }),
        q({ approved: false, timedOut: true, by: "watchdog", text: "timed out" }),
        a({}),
        a({ approved: false, text: "not on a Friday" }),
        a({ approved: true, timedOut: true, by: "watchdog" }),
        null,
      ].map(answerText),
    ).toEqual([
      'You asked: "Which database?". ana answered: "SQLite".',
      'You asked: "Which database?". ana acknowledged it without an answer.',
      'You asked: "Which database?". ana declined to answer: "not mine to say".',
      'You asked: "Which database?". Nobody answered in time.',
      'Your request "Deploy" was approved by ana.',
      'Your request "Deploy" was denied by ana: "not on a Friday".',
      'Your request "Deploy" was not decided in time, so it was approved.',
      "",
    ]);
  });

  it("sums up every way a turn can end", () => {
    const turn = (p: Partial<PreviousTurn>): PreviousTurn => ({
      turn: 4,
      outcome: "exited",
      exitCode: 0,
      signal: null,
      ...p,
    });
    expect(
      [
        turn({}),
        turn({ exitCode: 2 }),
        turn({ exitCode: null, signal: "SIGKILL" }),
        turn({ outcome: "timed_out", exitCode: null, signal: "SIGTERM" }),
        turn({ outcome: "cancelled" }),
        turn({ outcome: "interrupted" }),
        turn({ outcome: "lost" }),
        turn({ outcome: "spawn_failed" }),
      ].map(previousSummary),
    ).toEqual([
      "Turn 4 exited with code 0.",
      "Turn 4 failed: it exited with code 2.",
      "Turn 4 was killed by SIGKILL.",
      "Turn 4 ran past its time limit and was stopped.",
      "Turn 4 was stopped by a cancel.",
      "Turn 4 was interrupted by a shutdown of its node before it finished.",
      "Turn 4 was lost when its node stopped answering; its work may be incomplete.",
      "Turn 4 could not be started.",
    ]);
  });
});
