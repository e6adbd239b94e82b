/**
 * How the CLI's log reads: pino's JSON lines for files, pipes and log shippers; one readable
 * line per record in a terminal, where JSON between the banner and the output is noise.
 */
import { OverseerError } from "../core/errors.js";
import { REWRITE_LINE } from "./summary.js";

export type LogFormat = "text" | "json";

/** `--log-format` when given; otherwise text when the log goes to a terminal, else JSON. */
export function chooseLogFormat(flag: string | undefined, logIsTty: boolean | undefined): LogFormat {
  if (flag === undefined) return logIsTty === true ? "text" : "json";
  if (flag !== "text" && flag !== "json") {
    throw new OverseerError("INVALID_ARGUMENT", `--log-format must be text or json; got "${flag}"`, {
      field: "log-format",
    });
  }
  return flag;
}

const LEVELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };
/** Fields every record has, said by the line's layout instead. */
const LAYOUT_FIELDS = new Set(["level", "time", "pid", "hostname", "msg", "err"]);

/** One pino record (as parsed from its JSON line) as `HH:MM:SS LEVEL message key=value ... (error: ...)`. */
export function formatLogRecord(record: Record<string, unknown>): string {
  const time = typeof record.time === "number" ? new Date(record.time).toISOString().slice(11, 19) : "--:--:--";
  const level = (LEVELS[record.level as number] ?? String(record.level)).padEnd(5);
  const fields = Object.entries(record)
    .filter(([key]) => !LAYOUT_FIELDS.has(key))
    .map(([key, value]) => `${key}=${typeof value === "string" && !/\s/.test(value) ? value : JSON.stringify(value)}`);
  const err = record.err as { message?: unknown } | undefined;
  const parts = [time, level, String(record.msg ?? ""), ...fields];
  if (err !== undefined) parts.push(`(error: ${String(err.message ?? JSON.stringify(err))})`);
  return parts.filter((p) => p !== "").join(" ");
}

/**
 * A pino destination writing readable lines to `out`. In a terminal each line first erases the
 * line it starts on, so a log record replaces `start`'s status line instead of running into it.
 */
export function textDestination(out: NodeJS.WriteStream): { write(line: string): void } {
  const prefix = out.isTTY ? REWRITE_LINE : "";
  return {
    write(line: string) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(`${prefix}${line}`); // not pino's JSON after all: pass it on unchanged
        return;
      }
      out.write(`${prefix}${formatLogRecord(record)}\n`);
    },
  };
}
