/**
 * The telemetry modes a run profile may name, and the splitter each gives a turn's stream.
 * `overseer` reads only `overseer_event` lines; every other mode is an agent CLI's own JSON Lines,
 * read by the adapter registered here under its name. To add one: a module with a class that
 * implements `AgentStreamAdapter`, a line in `AGENT_STREAMS`, a recorded sample in `samples/`
 * and a test over it (see docs/agent-streams.md).
 */
import type { RunSpec } from "../run.js";
import { agentLines, TelemetrySplitter } from "../telemetry-splitter.js";
import type { AgentStreamAdapter } from "./agent-stream.js";
import { ClaudeStreamJson } from "./claude-stream-json.js";
import { CodexExecJson } from "./codex-exec-json.js";
import type { TelemetryMode } from "./modes.js";

export type { AgentLine, AgentStreamAdapter } from "./agent-stream.js";
export { TELEMETRY_MODES, type TelemetryMode } from "./modes.js";
export { isTestCommand, parseTestSummary, type TestCounts } from "./test-summary.js";

export type AgentStreamName = Exclude<TelemetryMode, "overseer">;

/** The spec's modes are these modes: one list changed without the other does not compile. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const SPEC_MODES_MATCH: Same<NonNullable<RunSpec["telemetry"]>, TelemetryMode> = true;

/** A fresh adapter per turn and per stream: adapters keep that stream's state. */
export const AGENT_STREAMS: Readonly<Record<AgentStreamName, () => AgentStreamAdapter>> = {
  "claude-stream-json": () => new ClaudeStreamJson(),
  "codex-exec-json": () => new CodexExecJson(),
};

/** The splitter for one stream of a turn run in `mode`. */
export function splitterFor(mode: TelemetryMode = "overseer"): TelemetrySplitter {
  return mode === "overseer" ? new TelemetrySplitter() : new TelemetrySplitter(agentLines(AGENT_STREAMS[mode]()));
}
