/**
 * What an approval request asks, as a person reads it in a message: the request's `details` (free
 * JSON, as the requester gave it) as blocks each channel renders its own way (plain text, Telegram
 * HTML). By convention:
 * - `command` (a string, or an argv array) and `commands` (an array of lines) show as a shell block;
 * - `diff` and `patch` (strings) show as a diff block;
 * - other one-line values show as a `key: value` list;
 * - longer text, objects and arrays show as a block each (JSON for the nested ones).
 * A string as the whole `details` is shown as text; any other value as a JSON block.
 */

export type RequestBlock =
  | { kind: "code"; label: string; language: "shell" | "diff" | "json" | "text"; text: string }
  | { kind: "fields"; fields: ReadonlyArray<readonly [string, string]> }
  | { kind: "text"; text: string };

/** A value longer than this goes in a block of its own rather than the key: value list. */
const MAX_FIELD_CHARS = 120;

export function requestBlocks(details: unknown): RequestBlock[] {
  if (details === null || details === undefined) return [];
  if (typeof details === "string") return details.trim() === "" ? [] : [{ kind: "text", text: details }];
  if (typeof details !== "object" || Array.isArray(details)) {
    return [{ kind: "code", label: "Details", language: "json", text: JSON.stringify(details, null, 2) }];
  }
  const commands: RequestBlock[] = [];
  const fields: Array<readonly [string, string]> = [];
  const blocks: RequestBlock[] = [];
  for (const [key, value] of Object.entries(details as Record<string, unknown>)) {
    if (key === "command" && (typeof value === "string" || isStrings(value))) {
      const text = typeof value === "string" ? value : shellLine(value);
      commands.push({ kind: "code", label: "Command", language: "shell", text });
    } else if (key === "commands" && isStrings(value)) {
      commands.push({ kind: "code", label: "Commands", language: "shell", text: value.join("\n") });
    } else if ((key === "diff" || key === "patch") && typeof value === "string") {
      blocks.push({ kind: "code", label: key === "diff" ? "Diff" : "Patch", language: "diff", text: value });
    } else if (value === null || typeof value !== "object") {
      const text = String(value);
      if (text.length <= MAX_FIELD_CHARS && !text.includes("\n")) fields.push([key, text]);
      else blocks.push({ kind: "code", label: key, language: "text", text });
    } else {
      blocks.push({ kind: "code", label: key, language: "json", text: JSON.stringify(value, null, 2) });
    }
  }
  return [...commands, ...(fields.length === 0 ? [] : [{ kind: "fields" as const, fields }]), ...blocks];
}

/** The blocks as plain text: a block's label on a line, its text indented under it. */
export function requestText(blocks: readonly RequestBlock[]): string {
  return blocks.map(blockText).join("\n\n");
}

function blockText(block: RequestBlock): string {
  if (block.kind === "text") return block.text;
  if (block.kind === "fields") return block.fields.map(([key, value]) => `${key}: ${value}`).join("\n");
  const indented = block.text.split("\n").map((line) => `    ${line}`);
  return `${block.label}:\n${indented.join("\n")}`;
}

/** An argv array as one shell line, each word quoted when it has to be. */
export function shellLine(argv: readonly string[]): string {
  return argv.map((word) => (/^[\w./:=@%+,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`)).join(" ");
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}
