/**
 * What an Overseer uses when no config file says otherwise. Kept apart from the config's zod
 * schemas so that the SDK can default to them without loading a validator (see src/index.ts).
 */
import { DEFAULT_DASHBOARD_URL } from "../alerts/links.js";
import type { AlertsConfig } from "./alerts.js";
import type { ApprovalsConfig } from "./approvals.js";

export const EMPTY_ALERTS: AlertsConfig = Object.freeze({
  dashboardUrl: DEFAULT_DASHBOARD_URL,
  channels: [],
  policies: {},
  people: {},
  rotations: {},
  timeWindows: {},
  heartbeats: [],
  rules: [],
});

export const DEFAULT_APPROVALS: ApprovalsConfig = Object.freeze({ groups: {}, defaultTimeoutMs: 24 * 3_600_000 });
