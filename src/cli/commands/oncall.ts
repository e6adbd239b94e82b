/**
 * `overseer oncall`: who is on call in each rotation of the config (now, until when, who is next),
 * and overrides: `oncall override`, `oncall cancel`, `oncall history`. From the local database
 * (as `--as` or $USER) or through a server (`--url`, an operator token to change anything).
 */
import type { Command } from "commander";
import type { OverseerClient } from "../../client/index.js";
import { OverseerError } from "../../core/errors.js";
import type { OncallOverride, OverrideRequest, RotationStatus } from "../../core/oncall.js";
import type { Overseer } from "../../sdk/overseer.js";
import { localUser } from "../approval-backend.js";
import {
  action,
  closing,
  type GlobalOptions,
  globals,
  loadConfig,
  openOverseer,
  printJson,
  printLine,
  printTable,
} from "../context.js";
import { refuseAsWithUrl, remoteClient } from "../remote.js";

interface OverrideFlags {
  from?: string;
  until?: string;
  for?: string;
  reason?: string;
  as?: string;
}

export function registerOncall(program: Command): void {
  const oncall = program
    .command("oncall")
    .description("who is on call in each rotation now and next; override and cancel, with a history")
    .action(
      action(async (_flags, command: Command) => {
        const g = globals(command);
        const rotations = await withOncall(g, (b) => b.status());
        if (g.json) return printJson(rotations);
        if (rotations.length === 0) return printLine("no rotations: the config's alerts.rotations lists none");
        printTable(
          ["ROTATION", "ON CALL", "UNTIL", "NEXT", "FROM"],
          rotations.map((r) => [
            r.name,
            r.now.override === null ? r.now.person : `${r.now.person} (override ${r.now.override.id})`,
            r.now.until,
            r.next?.person ?? "-",
            r.next?.at ?? "-",
          ]),
        );
        const ahead = rotations.flatMap((r) => r.upcoming);
        if (ahead.length > 0) {
          printLine("");
          printLine("overrides now and ahead:");
          printOverrides(ahead);
        }
      }),
    );

  oncall
    .command("override")
    .description("put PERSON on call in ROTATION's place from --from (default now) --until a time or --for a while")
    .argument("<rotation>", "a rotation of the config's alerts.rotations")
    .argument("<person>", "anyone in the config's alerts.people")
    .option("--from <time>", "when it starts: an ISO 8601 time with its zone (default now)")
    .option("--until <time>", "when it ends: an ISO 8601 time with its zone, e.g. 2026-12-08T09:00+01:00")
    .option("--for <duration>", "how long from --from: 30m, 4h, 2d")
    .option("--reason <text>", "why, kept in the history")
    .option("--as <name>", "local mode: who makes it (default $USER); with --url the token does")
    .action(
      action(async (rotation: string, person: string, flags: OverrideFlags, command: Command) => {
        const g = globals(command);
        refuseAsWithUrl({ ...g, as: flags.as }, "the server knows who you are from the token");
        const request = {
          rotation,
          person,
          from: flags.from,
          until: flags.until,
          for: flags.for,
          reason: flags.reason,
        };
        const created = await withOncall(g, (b) => b.override(request, flags.as));
        if (g.json) return printJson(created);
        printLine(
          `override ${created.id}: ${created.person} is on call in ${created.rotation} from ${created.startsAt} until ${created.endsAt}`,
        );
      }),
    );

  oncall
    .command("cancel")
    .description("cancel an override that has not ended (it stays in the history)")
    .argument("<id>", "the override's id (oncall history lists them)")
    .option("--as <name>", "local mode: who cancels it (default $USER); with --url the token does")
    .action(
      action(async (id: string, flags: { as?: string }, command: Command) => {
        const g = globals(command);
        refuseAsWithUrl({ ...g, as: flags.as }, "the server knows who you are from the token");
        if (!/^[0-9]{1,15}$/.test(id)) {
          throw new OverseerError("INVALID_ARGUMENT", `id must be an override's number, got "${id}"`, { field: "id" });
        }
        const cancelled = await withOncall(g, (b) => b.cancel(Number(id), flags.as));
        if (g.json) return printJson(cancelled);
        printLine(`cancelled override ${cancelled.id}: ${cancelled.person} in ${cancelled.rotation}`);
      }),
    );

  oncall
    .command("history")
    .description("every override, newest first: cancelled and ended ones too")
    .option("--rotation <name>", "only this rotation's")
    .option("--limit <n>", "how many, 1-500", "50")
    .action(
      action(async (flags: { rotation?: string; limit: string }, command: Command) => {
        const g = globals(command);
        const limit = Number(flags.limit);
        if (!/^[0-9]{1,3}$/.test(flags.limit) || limit < 1 || limit > 500) {
          throw new OverseerError(
            "INVALID_ARGUMENT",
            `--limit must be a whole number from 1 to 500, got "${flags.limit}"`,
            {
              field: "limit",
            },
          );
        }
        const overrides = await withOncall(g, (b) => b.history(flags.rotation, limit));
        if (g.json) return printJson(overrides);
        if (overrides.length === 0) return printLine("no overrides");
        printOverrides(overrides);
      }),
    );
}

function printOverrides(overrides: readonly OncallOverride[]): void {
  printTable(
    ["ID", "ROTATION", "PERSON", "FROM", "UNTIL", "BY", "REASON", "CANCELLED"],
    overrides.map((o) => [
      String(o.id),
      o.rotation,
      o.person,
      o.startsAt,
      o.endsAt,
      o.createdBy,
      o.reason ?? "-",
      o.cancelledAt === null ? "-" : `${o.cancelledAt} by ${o.cancelledBy}`,
    ]),
  );
}

type Request = Omit<OverrideRequest, "by">;

interface OncallBackend {
  status(): Promise<RotationStatus[]>;
  override(request: Request, as: string | undefined): Promise<OncallOverride>;
  cancel(id: number, as: string | undefined): Promise<OncallOverride>;
  history(rotation: string | undefined, limit: number): Promise<OncallOverride[]>;
  close(): Promise<void>;
}

async function withOncall<T>(options: GlobalOptions, fn: (backend: OncallBackend) => Promise<T>): Promise<T> {
  const client = remoteClient(options);
  if (client) return closing(new RemoteOncall(client), fn);
  // The rotations and people are the config's; without one there are none.
  const config = options.config === undefined ? undefined : await loadConfig(options.config);
  return closing(new LocalOncall(await openOverseer(options, undefined, config)), fn);
}

class LocalOncall implements OncallBackend {
  constructor(private readonly o: Overseer) {}
  status() {
    return this.o.oncall();
  }
  override(request: Request, as: string | undefined) {
    return this.o.overrideOncall({ ...request, by: localUser(as) });
  }
  cancel(id: number, as: string | undefined) {
    return this.o.cancelOncallOverride(id, localUser(as));
  }
  history(rotation: string | undefined, limit: number) {
    return this.o.listOncallOverrides({ rotation, limit });
  }
  close() {
    return this.o.close();
  }
}

class RemoteOncall implements OncallBackend {
  constructor(private readonly api: OverseerClient) {}
  async status() {
    return (await this.api.oncall.status()).rotations;
  }
  override(request: Request) {
    const body = Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined && v !== null));
    return this.api.oncall.override(body as Parameters<OverseerClient["oncall"]["override"]>[0]);
  }
  cancel(id: number) {
    return this.api.oncall.cancel(id);
  }
  async history(rotation: string | undefined, limit: number) {
    return (await this.api.oncall.history({ ...(rotation === undefined ? {} : { rotation }), limit })).items;
  }
  async close() {
    // Nothing to release: each request is its own fetch.
  }
}
