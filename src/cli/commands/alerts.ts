/**
 * `overseer alerts list|show|ack|escalate|close` and `overseer heartbeat NAME`: the alerts that
 * need a person, acting on them, and pinging a heartbeat monitor (docs/alerts.md).
 */

import type { Command } from "commander";
import type { AlertDetail } from "../../client/index.js";
import { ALERT_SOURCES, ALERT_STATUSES, type AlertSource, parseAlertStatuses } from "../../core/alert.js";
import { OverseerError } from "../../core/errors.js";
import { clip } from "../../core/text.js";
import { type AlertAction, withAlertBackend } from "../alert-backend.js";
import { action, globals, parseIntOption, printJson, printLine, printTable } from "../context.js";

const MAX_REASON = 2_000;

export function registerAlerts(program: Command): void {
  const alerts = program
    .command("alerts")
    .description("list the alerts that need a person, and acknowledge, escalate or close them");

  alerts
    .command("list")
    .description("list alerts: open ones first, then closed ones, each newest first")
    .option("--status <statuses>", `comma-separated: ${ALERT_STATUSES.join(", ")}, or open`)
    .option("--source <source>", `only this source: ${ALERT_SOURCES.join(", ")}`)
    .option("--limit <n>", "at most this many (1-1000)", "50")
    .action(
      action(async (flags: { status?: string; source?: string; limit: string }, command: Command) => {
        const g = globals(command);
        const statuses = flags.status === undefined ? undefined : parseAlertStatuses(flags.status, "--status");
        const source = parseSource(flags.source);
        const limit = parseIntOption(flags.limit, "--limit", 1, 1000);
        const list = await withAlertBackend(g, (b) => b.list({ statuses, source, limit }));
        if (g.json) return printJson(list);
        if (list.length === 0) return printLine(flags.status || flags.source ? "no alerts match" : "no alerts");
        printTable(
          ["ID", "STATUS", "SOURCE", "COUNT", "RAISED", "POLICY", "SUMMARY"],
          list.map((a) => [
            a.id,
            a.status,
            a.source,
            String(a.count),
            a.createdAt,
            a.policy?.name ?? "-",
            clip(a.summary, 60),
          ]),
        );
      }),
    );

  alerts
    .command("show")
    .description("show one alert and its escalation timeline: who was notified when, through which channel")
    .argument("<id>")
    .action(
      action(async (id: string, _flags, command: Command) => {
        const g = globals(command);
        const detail = await withAlertBackend(g, (b) => b.detail(id));
        if (g.json) return printJson(detail);
        for (const line of describe(detail)) printLine(line);
      }),
    );

  const verbs: Array<[AlertAction, string]> = [
    ["ack", "acknowledge a triggered alert: escalation stops"],
    ["escalate", "notify the alert's next escalation step now"],
    ["close", "close an open alert for good"],
  ];
  for (const [verb, description] of verbs) {
    const cmd = alerts.command(verb).description(description).argument("<id>");
    if (verb === "close") cmd.option("--reason <text>", "why, kept on the alert");
    cmd.option("--as <name>", "local mode: act as this name (default $USER); with --url the token decides").action(
      action(async (id: string, flags: { reason?: string; as?: string }, command: Command) => {
        const g = globals(command);
        const reason = parseReason(flags.reason);
        const detail = await withAlertBackend({ ...g, as: flags.as }, (b) => b.act(id, verb, reason));
        if (g.json) return printJson(detail);
        printLine(done(detail, verb));
      }),
    );
  }

  program
    .command("heartbeat")
    .description("ping a heartbeat monitor from the config's alerts.heartbeats: it is ok until its interval passes")
    .argument("<name>")
    .action(
      action(async (name: string, _flags, command: Command) => {
        const g = globals(command);
        const { heartbeat, closedAlert } = await withAlertBackend(g, (b) => b.ping(name));
        if (g.json) return printJson({ heartbeat, closedAlert });
        printLine(`pinged ${heartbeat.name}: ok, next ping due by ${heartbeat.dueAt}`);
        if (closedAlert) printLine(`closed alert ${closedAlert.id} (it was late)`);
      }),
    );
}

function parseSource(text: string | undefined): AlertSource | undefined {
  if (text === undefined) return undefined;
  if (!(ALERT_SOURCES as readonly string[]).includes(text)) {
    throw new OverseerError("INVALID_ARGUMENT", `--source must be one of ${ALERT_SOURCES.join(", ")}`, {
      field: "source",
    });
  }
  return text as AlertSource;
}

function parseReason(reason: string | undefined): string | null {
  if (reason === undefined || reason.trim() === "") return null;
  if (reason.length > MAX_REASON) {
    throw new OverseerError("INVALID_ARGUMENT", `--reason must be at most ${MAX_REASON} characters`, {
      field: "reason",
    });
  }
  return reason.trim();
}

function describe({ alert: a, notifications }: AlertDetail): string[] {
  const lines = [`alert ${a.id}: ${a.status} (${a.source}): ${a.summary}`];
  lines.push(`  raised     ${a.createdAt}${a.count > 1 ? `; ${a.count} times (dedup key ${a.dedupKey})` : ""}`);
  if (a.dedupKey !== null && a.count === 1) lines.push(`  dedup key  ${a.dedupKey}`);
  lines.push(`  policy     ${a.policy ? a.policy.name : "none: nobody is paged"}`);
  if (a.nextEscalationAt) {
    lines.push(`  next       ${a.nextEscalationAt} (${a.status === "acknowledged" ? "ack timeout" : "next step"})`);
  }
  if (a.acknowledgedBy) lines.push(`  acked      ${a.acknowledgedAt} by ${a.acknowledgedBy}`);
  if (a.closedBy) lines.push(`  closed     ${a.closedAt} by ${a.closedBy}${a.closeReason ? `: ${a.closeReason}` : ""}`);
  const details = a.details === null || a.details === undefined ? "none" : JSON.stringify(a.details, null, 2);
  lines.push(`  details    ${details.split("\n").join("\n             ")}`);
  if (notifications.length === 0) lines.push("  timeline   nobody notified yet");
  else {
    lines.push("  timeline");
    for (const n of notifications) {
      lines.push(
        `    ${n.at}  step ${n.step + 1} round ${n.round + 1}  ${n.target}${n.fallbackFor ? " (fallback)" : ""}  ${n.status}${n.error ? `: ${n.error}` : ""}`,
      );
    }
  }
  return lines;
}

function done({ alert: a, notifications }: AlertDetail, verb: AlertAction): string {
  if (verb === "ack") return `acknowledged ${a.id} (${clip(a.summary, 60)}): escalation stopped`;
  if (verb === "close") return `closed ${a.id} (${clip(a.summary, 60)})`;
  const targets = [...new Set(notifications.map((n) => n.target))];
  return targets.length === 0
    ? `escalated ${a.id}: it has no policy, nobody to notify`
    : `escalated ${a.id}: notifying ${targets.join(", ")}`;
}
