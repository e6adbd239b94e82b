/**
 * A turn's input: the profile's template, rendered before each turn from what the run knows at
 * that moment: its turn number, its params, how the previous turn ended, the operator messages
 * that arrived since, and files of the run's working folder (the agent's own logs). Pure: the
 * caller reads the files and the messages; this module only says which files a template names,
 * checks a template when the config loads, and renders it.
 *
 * Placeholders are `{{name}}`:
 * - `{{turn}}`, `{{maxTurns}}`, `{{runId}}`, and the profile's params by name;
 * - `{{previous.turn}}`, `{{previous.outcome}}`, `{{previous.exitCode}}`, `{{previous.signal}}`
 *   (empty before the first turn) and `{{previous.summary}}`, a sentence;
 * - `{{messages}}`: the operator messages not yet given to a turn, one paragraph each;
 * - `{{answer}}`: what a person answered to the question (or decided on the approval request)
 *   the previous turn asked, as a sentence; `{{answer.text}}` the answer (or the reason given)
 *   alone, `{{answer.approved}}` true or false; all empty when the previous turn asked nothing;
 * - `{{file:agent-log.md}}`: a file of the working folder, its last `MAX_INPUT_FILE_BYTES`
 *   (empty when it does not exist).
 */

/** How the rendered input reaches the command. */
export type RunInputVia = "stdin" | "file" | "arg";

export interface RunInputSpec {
  template: string;
  via: RunInputVia;
  /** With `via: "file"`: where it is written, relative to the working folder. */
  file: string;
}

/** The placeholder an `arg`-input profile puts in `args`, replaced by the rendered input. */
export const INPUT_ARG_PLACEHOLDER = "{{input}}";
export const DEFAULT_INPUT_FILE = ".overseer/input.md";
/** A file placeholder brings at most this much of the file's end. */
export const MAX_INPUT_FILE_BYTES = 64 * 1024;

const PLACEHOLDER = /\{\{\s*(file:[^{}]+?|[A-Za-z_][A-Za-z0-9_.]*)\s*\}\}/g;
export const BUILT_IN_INPUT_NAMES = [
  "turn",
  "maxTurns",
  "runId",
  "messages",
  "answer",
  "answer.text",
  "answer.approved",
  "previous.turn",
  "previous.outcome",
  "previous.exitCode",
  "previous.signal",
  "previous.summary",
] as const;

export interface PreviousTurn {
  turn: number;
  /** A finished turn's `RunTurnOutcome` (run.ts; not imported, so that a browser can use this module). */
  outcome: "exited" | "timed_out" | "cancelled" | "interrupted" | "lost" | "spawn_failed";
  exitCode: number | null;
  signal: string | null;
}

export interface RunMessageInput {
  body: string;
  sentBy: string | null;
  /** ISO time it was sent. */
  at: string;
}

/** The settled request the previous turn made (or the approval asked before the first turn). */
export interface RunAnswer {
  kind: "approval" | "question";
  /** The question's text, or the approval request's title. */
  asked: string;
  approved: boolean;
  /** The answer to a question, or the reason given with a decision; null when none was given. */
  text: string | null;
  /** Who settled it (`watchdog` on a timeout). */
  by: string;
  timedOut: boolean;
}

/** A file as the template sees it; null when it does not exist. */
export interface InputFile {
  text: string;
  /** Bytes left out from the file's start. */
  omittedBytes: number;
}

export interface TurnInputContext {
  runId: string;
  turn: number;
  maxTurns: number;
  params: Record<string, unknown>;
  previous: PreviousTurn | null;
  messages: readonly RunMessageInput[];
  files: Readonly<Record<string, InputFile | null>>;
  /** Absent or null: the previous turn asked nothing. */
  answer?: RunAnswer | null;
}

/** The relative paths a template's `{{file:...}}` placeholders name, each once. */
export function templateFiles(template: string): string[] {
  const files = new Set<string>();
  for (const name of names(template)) if (name.startsWith("file:")) files.add(name.slice(5).trim());
  return [...files];
}

/** A relative path that stays inside the working folder as written (no leading `/`, no `..`). */
export function isInsideFolder(path: string): boolean {
  return path !== "" && !path.startsWith("/") && !/^[A-Za-z]:/.test(path) && !path.split(/[\\/]/).includes("..");
}

/** Whether turns given this input see operator messages (its template has `{{messages}}`). */
export function takesMessages(input: RunInputSpec | undefined): boolean {
  return input !== undefined && names(input.template).includes("messages");
}

/** Whether turns given this input see the previous turn's answer (`{{answer}}` or one of its parts). */
export function takesAnswer(input: RunInputSpec | undefined): boolean {
  return input !== undefined && names(input.template).some((n) => n === "answer" || n.startsWith("answer."));
}

/**
 * What is wrong with a template for a profile with these params, as a sentence; null when it is
 * fine. Unknown names are refused so a typo shows when the config loads, not in a prompt.
 */
export function checkInputTemplate(template: string, params: readonly string[]): string | null {
  for (const name of names(template)) {
    if (name.startsWith("file:")) {
      const path = name.slice(5).trim();
      if (!isInsideFolder(path)) {
        return `{{${name}}} must name a file inside the working folder`;
      }
    } else if (!(BUILT_IN_INPUT_NAMES as readonly string[]).includes(name) && !params.includes(name)) {
      return `uses {{${name}}}, which is neither a param of the profile nor one of ${BUILT_IN_INPUT_NAMES.join(", ")}, file:<path>`;
    }
  }
  return null;
}

export function renderTurnInput(template: string, context: TurnInputContext): string {
  return template.replace(PLACEHOLDER, (_, raw: string) => {
    const name = raw.trim();
    if (name.startsWith("file:")) return fileText(context.files[name.slice(5).trim()] ?? null);
    const { previous } = context;
    switch (name) {
      case "turn":
        return String(context.turn);
      case "maxTurns":
        return String(context.maxTurns);
      case "runId":
        return context.runId;
      case "messages":
        return context.messages.map(messageText).join("\n\n");
      case "answer":
        return answerText(context.answer ?? null);
      case "answer.text":
        return context.answer?.text ?? "";
      case "answer.approved":
        return context.answer ? String(context.answer.approved) : "";
      case "previous.turn":
        return previous === null ? "" : String(previous.turn);
      case "previous.outcome":
        return previous?.outcome ?? "";
      case "previous.exitCode":
        return previous?.exitCode === null || previous === null ? "" : String(previous.exitCode);
      case "previous.signal":
        return previous?.signal ?? "";
      case "previous.summary":
        return previousSummary(previous);
      default: {
        const value = context.params[name];
        return value === undefined || value === null ? "" : String(value);
      }
    }
  });
}

/** How the previous turn ended, as a sentence for an agent to read. */
export function previousSummary(previous: PreviousTurn | null): string {
  if (previous === null) return "This is the first turn.";
  const turn = `Turn ${previous.turn}`;
  switch (previous.outcome) {
    case "exited":
      if (previous.signal !== null) return `${turn} was killed by ${previous.signal}.`;
      return previous.exitCode === 0
        ? `${turn} exited with code 0.`
        : `${turn} failed: it exited with code ${previous.exitCode}.`;
    case "timed_out":
      return `${turn} ran past its time limit and was stopped.`;
    case "cancelled":
      return `${turn} was stopped by a cancel.`;
    case "interrupted":
      return `${turn} was interrupted by a shutdown of its node before it finished.`;
    case "lost":
      return `${turn} was lost when its node stopped answering; its work may be incomplete.`;
    case "spawn_failed":
      return `${turn} could not be started.`;
  }
}

/** A settled request as a sentence for an agent to read; "" when there is none. */
export function answerText(answer: RunAnswer | null): string {
  if (answer === null) return "";
  const asked = JSON.stringify(answer.asked);
  const said = answer.text === null ? "" : `: ${JSON.stringify(answer.text)}`;
  if (answer.kind === "question") {
    if (answer.timedOut) return `You asked: ${asked}. Nobody answered in time.`;
    if (!answer.approved) return `You asked: ${asked}. ${answer.by} declined to answer${said}.`;
    return answer.text === null
      ? `You asked: ${asked}. ${answer.by} acknowledged it without an answer.`
      : `You asked: ${asked}. ${answer.by} answered${said}.`;
  }
  const decided = answer.approved ? "approved" : "denied";
  if (answer.timedOut) return `Your request ${asked} was not decided in time, so it was ${decided}.`;
  return `Your request ${asked} was ${decided} by ${answer.by}${said}.`;
}

function messageText(message: RunMessageInput): string {
  return `Message from ${message.sentBy ?? "an operator"} at ${message.at}:\n${message.body}`;
}

function fileText(file: InputFile | null): string {
  if (file === null) return "";
  return file.omittedBytes > 0 ? `[... ${file.omittedBytes} earlier bytes left out]\n${file.text}` : file.text;
}

function names(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => (m[1] as string).trim());
}
