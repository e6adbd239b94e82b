/**
 * Numbered migrations for the PostgreSQL backend, applied in order in one transaction under an
 * advisory lock (see PostgresStore.migrate). Versions are recorded in `schema_migrations`.
 */
import { sql as init } from "./001-init.js";
import { sql as schedules } from "./002-schedules.js";
import { sql as tokens } from "./003-tokens.js";
import { sql as finishedIndex } from "./004-finished-index.js";
import { sql as runs } from "./005-runs.js";
import { sql as claims } from "./006-claims.js";
import { sql as durable } from "./007-durable.js";
import { sql as approvals } from "./008-approvals.js";
import { sql as alerts } from "./009-alerts.js";
import { sql as heartbeats } from "./010-heartbeats.js";
import { sql as retentionIndexes } from "./011-retention-indexes.js";
import { sql as enqueuedBy } from "./012-enqueued-by.js";
import { sql as cursors } from "./013-cursors.js";
import { sql as notificationReceipts } from "./014-notification-receipts.js";
import { sql as heldJobs } from "./015-held-jobs.js";
import { sql as tasks } from "./016-tasks.js";
import { sql as attemptsAtEnd } from "./017-attempts-at-end.js";
import { sql as attemptTimeouts } from "./018-attempt-timeouts.js";
import { sql as lessons } from "./019-lessons.js";
import { sql as runHarness } from "./020-run-harness.js";
import { sql as peopleInTheLoop } from "./021-people-in-the-loop.js";
import { sql as scheduleRetries } from "./022-schedule-retries.js";
import { sql as taskDefaults } from "./023-task-defaults.js";
import { sql as queueBreakers } from "./024-queue-breakers.js";
import { sql as hotPathIndexes } from "./025-hot-path-indexes.js";
import { sql as notificationFallbacks } from "./026-notification-fallbacks.js";
import { sql as claimHolders } from "./027-claim-holders.js";
import { sql as claimHistory } from "./028-claim-history.js";
import { sql as executionMode } from "./029-execution-mode.js";
import { sql as traceContext } from "./030-trace-context.js";
import { sql as oncallOverrides } from "./031-oncall-overrides.js";
import { sql as jobRollups } from "./032-job-rollups.js";
import { sql as workerControl } from "./033-worker-control.js";
import { sql as finishedCounts } from "./034-finished-counts.js";
import { sql as alertEvents } from "./035-alert-events.js";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "001-init", sql: init },
  { version: 2, name: "002-schedules", sql: schedules },
  { version: 3, name: "003-tokens", sql: tokens },
  { version: 4, name: "004-finished-index", sql: finishedIndex },
  { version: 5, name: "005-runs", sql: runs },
  { version: 6, name: "006-claims", sql: claims },
  { version: 7, name: "007-durable", sql: durable },
  { version: 8, name: "008-approvals", sql: approvals },
  { version: 9, name: "009-alerts", sql: alerts },
  { version: 10, name: "010-heartbeats", sql: heartbeats },
  { version: 11, name: "011-retention-indexes", sql: retentionIndexes },
  { version: 12, name: "012-enqueued-by", sql: enqueuedBy },
  { version: 13, name: "013-cursors", sql: cursors },
  { version: 14, name: "014-notification-receipts", sql: notificationReceipts },
  { version: 15, name: "015-held-jobs", sql: heldJobs },
  { version: 16, name: "016-tasks", sql: tasks },
  { version: 17, name: "017-attempts-at-end", sql: attemptsAtEnd },
  { version: 18, name: "018-attempt-timeouts", sql: attemptTimeouts },
  { version: 19, name: "019-lessons", sql: lessons },
  { version: 20, name: "020-run-harness", sql: runHarness },
  { version: 21, name: "021-people-in-the-loop", sql: peopleInTheLoop },
  { version: 22, name: "022-schedule-retries", sql: scheduleRetries },
  { version: 23, name: "023-task-defaults", sql: taskDefaults },
  { version: 24, name: "024-queue-breakers", sql: queueBreakers },
  { version: 25, name: "025-hot-path-indexes", sql: hotPathIndexes },
  { version: 26, name: "026-notification-fallbacks", sql: notificationFallbacks },
  { version: 27, name: "027-claim-holders", sql: claimHolders },
  { version: 28, name: "028-claim-history", sql: claimHistory },
  { version: 29, name: "029-execution-mode", sql: executionMode },
  { version: 30, name: "030-trace-context", sql: traceContext },
  { version: 31, name: "031-oncall-overrides", sql: oncallOverrides },
  { version: 32, name: "032-job-rollups", sql: jobRollups },
  { version: 33, name: "033-worker-control", sql: workerControl },
  { version: 34, name: "034-finished-counts", sql: finishedCounts },
  { version: 35, name: "035-alert-events", sql: alertEvents },
];
