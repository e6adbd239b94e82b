/**
 * An unknown command is bad input like any other: one line with a code and a way on, instead of
 * commander's message followed by the whole help text.
 */
import { Command, CommanderError } from "commander";
import { EXIT_BAD_INPUT } from "./context.js";

/** A command's names below the program: "jobs list" for `overseer jobs list`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/**
 * The line for commander's unknown-command message (`error: unknown command 'foo'` and, when
 * one is close, `(Did you mean jobs?)` or `(Did you mean one of a, b?)`). `where` is the
 * command that was given it, e.g. "overseer" or "overseer jobs".
 */
export function unknownCommandLine(commanderMessage: string, where: string): string {
  const name = /unknown command '([^']*)'/.exec(commanderMessage)?.[1] ?? "";
  const similar = /\(Did you mean (?:one of )?(.+)\?\)/.exec(commanderMessage)?.[1];
  const suggestion =
    similar === undefined
      ? ""
      : ` (did you mean ${similar
          .split(", ")
          .map((s) => `'${s}'`)
          .join(" or ")}?)`;
  return `overseer: UNKNOWN_COMMAND: unknown command '${name}'${suggestion}; see ${where} --help\n`;
}

export class OverseerCommand extends Command {
  override createCommand(name?: string): Command {
    return new OverseerCommand(name);
  }

  override error(message: string, options?: { code?: string; exitCode?: number }): never {
    if (options?.code === "commander.unknownCommand") {
      const where = ["overseer", commandPath(this)].filter((s) => s !== "").join(" ");
      process.stderr.write(unknownCommandLine(message, where));
      throw new CommanderError(EXIT_BAD_INPUT, options.code, message);
    }
    return super.error(message, options);
  }
}
