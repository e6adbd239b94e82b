/** What the agent stream adapters' tests read back: a session replayed line by line, and its token totals. */
import type { AgentStreamAdapter } from "../core/agent-streams/agent-stream.js";
import type { TelemetryEvent } from "../core/run-telemetry.js";

/** Every line through one adapter: the events, the stored text, and the lines it passed through. */
export function replayLines(adapter: AgentStreamAdapter, lines: string[]) {
  const events: TelemetryEvent[] = [];
  const texts: string[] = [];
  const passed: string[] = [];
  for (const line of lines) {
    const parsed = adapter.parseLine(line);
    if (parsed === null) passed.push(line);
    else {
      events.push(...parsed.events);
      if (parsed.text !== null) texts.push(parsed.text);
    }
  }
  return { events, text: texts.join("\n"), passed };
}

/** The token_usage events summed. */
export function tokenTotals(events: TelemetryEvent[]): { input: number; output: number } {
  return events.reduce(
    (t, e) => (e.kind === "token_usage" ? { input: t.input + e.input, output: t.output + e.output } : t),
    { input: 0, output: 0 },
  );
}
