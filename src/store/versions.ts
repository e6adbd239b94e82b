/**
 * Optimistic concurrency: a write based on a record's `version` is refused when the record has
 * moved on. Backends call this inside the write's transaction, after reading (and, on
 * PostgreSQL, locking) the row, so the check and the write see the same version.
 */
import { OverseerError } from "../core/errors.js";

export function checkVersion(
  record: "job" | "queue" | "run" | "approval" | "alert" | "setting",
  id: string,
  actual: number,
  expected: number | undefined,
): void {
  if (expected === undefined || expected === actual) return;
  throw new OverseerError(
    "VERSION_CONFLICT",
    `${record} ${id} is at version ${actual}, not ${expected}: it changed since you read it; read it again and decide`,
    { [record === "queue" ? "name" : "id"]: id, expectedVersion: expected, version: actual },
  );
}
