/**
 * What every command shares: the global options, opening Overseer, printing results (plain or
 * `--json`), and turning errors into one clear line on stderr with a non-zero exit code.
 * No stack trace reaches the user for bad input.
 */
import type { Command } from "commander";
import pino from "pino";
import type { OverseerConfig } from "../config/config.js";
import { OverseerError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { createOverseer, type Overseer, type OverseerOptions } from "../sdk/overseer.js";
import { DEFAULT_DATABASE } from "../store/open-store.js";
import { checkDatabaseLocation } from "./database-location.js";
import { chooseLogFormat, textDestination } from "./log-format.js";

export interface GlobalOptions {
  database?: string;
  /** A config file (.json, .yaml or .yml) with schedules. */
  config?: string;
  json?: boolean;
  durability?: string;
  logLevel?: string;
  /** `text` (one readable line per record) or `json`; default text when stderr is a terminal. */
  logFormat?: string;
  /** A server to talk to instead of the database (every command but tokens, schedules, prune, migrate, start and worker). */
  url?: string;
  token?: string;
  /**
   * Not a flag: set by main.ts for the command being run. False for commands that only work on
   * an existing database, which then refuse to create one.
   */
  createsDatabase?: boolean;
}

/** Exit codes: 2 for bad input (fix the command), 1 for anything else that went wrong. */
export const EXIT_BAD_INPUT = 2;
export const EXIT_FAILURE = 1;

export function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}

export function databaseOf(options: GlobalOptions): string {
  return options.database ?? process.env.OVERSEER_DATABASE ?? DEFAULT_DATABASE;
}

export function makeLogger(level: string | undefined, fallback: string, format?: string): Logger {
  const chosen = level ?? process.env.OVERSEER_LOG_LEVEL ?? fallback;
  const levels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
  if (!levels.includes(chosen)) {
    throw new OverseerError("INVALID_ARGUMENT", `--log-level must be one of ${levels.join(", ")}; got "${chosen}"`, {
      field: "log-level",
    });
  }
  // The HTTP server logs no requests; should a header ever reach a log line anyway, its token is censored.
  const redact = { paths: ["authorization", "*.authorization", "*.headers.authorization"], censor: "[redacted]" };
  const options = { level: chosen, base: { pid: process.pid }, redact };
  return chooseLogFormat(format, process.stderr.isTTY) === "text"
    ? pino(options, textDestination(process.stderr))
    : pino(options, pino.destination(2));
}

/** Opens Overseer on the database the options name, with the run profiles, gates, approvals and alerts of a loaded config. */
export async function openOverseer(
  options: GlobalOptions,
  logger?: Logger,
  config?: Pick<OverseerConfig, "runs" | "gates"> &
    Partial<Pick<OverseerConfig, "approvals" | "alerts" | "execution" | "commands">>,
): Promise<Overseer> {
  return createOverseer(overseerOptions(options, logger, config));
}

/** What `openOverseer` opens with: INVALID_ARGUMENT for a bad --durability, and the database's location checked. */
export function overseerOptions(
  options: GlobalOptions,
  logger?: Logger,
  config?: Pick<OverseerConfig, "runs" | "gates"> &
    Partial<Pick<OverseerConfig, "approvals" | "alerts" | "execution" | "commands">>,
): OverseerOptions {
  const durability = options.durability;
  if (durability !== undefined && durability !== "normal" && durability !== "full") {
    throw new OverseerError("INVALID_ARGUMENT", `--durability must be normal or full; got "${durability}"`, {
      field: "durability",
    });
  }
  const database = databaseOf(options);
  checkDatabaseLocation(database, options.createsDatabase !== false);
  return {
    database,
    durability,
    logger,
    runs: config?.runs,
    gates: config?.gates,
    approvals: config?.approvals,
    alerts: config?.alerts,
    execution: config?.execution,
    commands: config?.commands,
    onWarning: (message, err) => logger?.warn({ err }, message),
  };
}

/** Opens Overseer, runs `fn`, and always closes it. */
export async function withOverseer<T>(options: GlobalOptions, fn: (overseer: Overseer) => Promise<T>): Promise<T> {
  const overseer = await openOverseer(options);
  try {
    return await fn(overseer);
  } finally {
    await overseer.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(line = ""): void {
  process.stdout.write(`${line}\n`);
}

/** A plain table: columns padded to their widest cell. */
export function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  printLine(line(headers));
  for (const r of rows) printLine(line(r));
}

export function fail(err: unknown): never {
  if (err instanceof OverseerError) {
    process.stderr.write(`overseer: ${err.code}: ${err.message}\n`);
    // Not found, a conflict, or busy (429): the input was fine, the state was not; exit 1, not 2.
    const stateNotInput = err.status === 404 || err.status === 409 || err.status === 429;
    process.exit(err.status < 500 && !stateNotInput ? EXIT_BAD_INPUT : EXIT_FAILURE);
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`overseer: unexpected error: ${message}\n`);
  if (process.env.OVERSEER_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ""}\n`);
  process.exit(EXIT_FAILURE);
}

/** Wraps a command action so that every error becomes one line and an exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      fail(err);
    }
  };
}

export function parseIntOption(value: string, name: string, min = 1, max = 1_000_000): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new OverseerError(
      "INVALID_ARGUMENT",
      `${name} must be a whole number from ${min} to ${max}; got "${value}"`,
      {
        field: name,
      },
    );
  }
  return n;
}

export function parseList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/**
 * Reads and validates a config file. Its validators (zod, yaml) are loaded only when a command is
 * given `--config`, so that a plain worker process stays small.
 */
export async function loadConfig(path: string): Promise<import("../config/config.js").OverseerConfig> {
  return (await import("../config/config.js")).loadConfig(path);
}

/** Runs `fn` with a backend (the database's, or a server's through `--url`), and always closes it. */
export async function closing<B extends { close(): Promise<void> }, T>(
  backend: B,
  fn: (backend: B) => Promise<T>,
): Promise<T> {
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}
