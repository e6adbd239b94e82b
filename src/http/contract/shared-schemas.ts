/**
 * The records the server registers once by `$id` (Fastify's schema store, the OpenAPI document's
 * components) and routes reference as `Name#`; json-schema-to-ts resolves those references
 * through this list's type.
 */
import { alertNotificationSchema, alertSchema } from "./alerts.js";
import { approvalSchema } from "./approvals.js";
import { claimSchema } from "./claims.js";
import { errorEnvelopeSchema } from "./error-envelope.js";
import { eventSchema } from "./events.js";
import { heartbeatSchema } from "./heartbeats.js";
import { attemptSchema, enqueuedJobSchema, jobSchema } from "./jobs.js";
import { lessonSchema, similarLessonSchema } from "./lessons.js";
import { oncallOverrideSchema } from "./oncall.js";
import { concurrencyKeySchema, queueSchema, workerJobSchema, workerSchema } from "./operating.js";
import { runMessageSchema, runSchema, runStatusSchema, runTurnSchema } from "./runs.js";
import { scheduleSchema } from "./schedules.js";

/** The records registered once by `$id` and referenced as `Name#`, in the OpenAPI document's order. */
export const SHARED_SCHEMAS = [
  approvalSchema,
  alertSchema,
  alertNotificationSchema,
  heartbeatSchema,
  oncallOverrideSchema,
  claimSchema,
  lessonSchema,
  similarLessonSchema,
  runSchema,
  runStatusSchema,
  runTurnSchema,
  runMessageSchema,
  errorEnvelopeSchema,
  jobSchema,
  enqueuedJobSchema,
  attemptSchema,
  eventSchema,
  queueSchema,
  workerJobSchema,
  workerSchema,
  concurrencyKeySchema,
  scheduleSchema,
] as const;

export type SharedSchemas = typeof SHARED_SCHEMAS;
