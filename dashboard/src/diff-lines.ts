/**
 * The lines of a unified diff, by their first character (the prefix stays in the text): for an
 * approval's details, a whole diff with its `---` / `+++` file lines (`withHeaders`), and for a
 * watched file, the hunks alone, where a line "--..." is a removed line starting with "-".
 */
export type DiffLineKind = "header" | "hunk" | "add" | "del" | "note" | "context";

export function diffLineKind(line: string, withHeaders = false): DiffLineKind {
  if (withHeaders && (line.startsWith("+++") || line.startsWith("---"))) return "header";
  if (line.startsWith("@@")) return "hunk";
  if (line.startsWith("+")) return "add";
  if (line.startsWith("-")) return "del";
  // "\ No newline at end of file"
  if (line.startsWith("\\")) return "note";
  return "context";
}
