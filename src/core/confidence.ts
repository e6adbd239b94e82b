/**
 * A confidence is how sure an agent (or any handler) is of what it did or proposes: a finite
 * number from 0 to 1. Gate requests take one, and a failed attempt can report one for the
 * retry policy's `minConfidence`.
 */
export function isConfidence(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 && value <= 1;
}
