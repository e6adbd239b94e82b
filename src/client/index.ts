/**
 * "overseer/client": the typed HTTP client of an Overseer server, for Node 20 and browsers
 * alike (it needs only `fetch`). Errors arrive as the OverseerError the server raised, with
 * the same code, message and details.
 */
export { ERROR_CODES, type ErrorCode, isOverseerError, OverseerError } from "../core/errors.js";
export type { AlertQuery } from "./alerts.js";
export type { ApprovalQuery } from "./approvals.js";
export type { ClaimHistoryQuery, Ttl } from "./claims.js";
export { createClient, OverseerClient } from "./client.js";
export type { EventSubject } from "./events.js";
export type { FollowOptions } from "./follow.js";
export type { Enqueued, JobQuery } from "./jobs.js";
export type { SimilarLessonsQuery } from "./lessons.js";
export { collect, type Page, type PageQuery, type WalkOptions } from "./paging.js";
export type { ByteRange, RunQuery } from "./runs.js";
export type { ClientOptions, Versioned } from "./transport.js";
export type * from "./types.js";
