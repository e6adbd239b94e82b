/**
 * The telemetry modes a run profile may name (`RunSpec.telemetry`). Kept apart from the adapters,
 * with no imports, so the HTTP contract and the dashboard can list them without Node's modules.
 */
export const TELEMETRY_MODES = ["overseer", "claude-stream-json", "codex-exec-json"] as const;

export type TelemetryMode = (typeof TELEMETRY_MODES)[number];
