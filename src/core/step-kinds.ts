/** What a durable job's stored step records: a `ctx.step` result, a sleep, a wait, an approval. */
export const STEP_KINDS = ["step", "sleep", "wait", "approval"] as const;
export type StepKind = (typeof STEP_KINDS)[number];
