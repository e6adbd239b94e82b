/**
 * What each backend's upgrade test checks once its store was migrated from an older schema,
 * the same way on both.
 */
import { expect } from "vitest";
import type { ClaimedJob } from "../../core/types.js";
import type { Store } from "../store.js";

/**
 * Two claimed jobs whose claims wrote a `running` attempt row, as versions before migration 017
 * did: each attempt is listed once, and a finish ends it (one succeeded, one failed).
 */
export async function expectEarlierAttemptsEnded(store: Store, claimed: readonly ClaimedJob[]): Promise<void> {
  const [one, two] = claimed.map((c) => c.lease);
  if (!one || !two) throw new Error("expected two claimed jobs");
  expect(await store.listAttempts(one.jobId)).toMatchObject([{ number: one.token, outcome: "running" }]);
  await store.finish([
    { lease: one, outcome: "succeeded", resultJson: "null" },
    { lease: two, outcome: "dead", error: { code: "E", message: "m", retryable: false }, reason: "permanent_error" },
  ]);
  expect(await store.listAttempts(one.jobId)).toMatchObject([{ number: one.token, outcome: "succeeded" }]);
  expect(await store.listAttempts(two.jobId)).toMatchObject([{ number: two.token, outcome: "failed" }]);
}
