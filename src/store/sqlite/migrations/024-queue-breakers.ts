/**
 * 024: each queue's circuit breaker (see core/breaker.ts): its state, when it opened and lets its
 * probe run (or picked its probe), the probe job and its fencing token when picked (an attempt
 * numbered after it tells the probe's verdict), and what tripped it (JSON). A
 * claim skips a queue whose breaker is not closed, except for its probe job.
 */
export const sql = `
ALTER TABLE queues ADD COLUMN breaker_state TEXT NOT NULL DEFAULT 'closed';
ALTER TABLE queues ADD COLUMN breaker_opened_at INTEGER;
ALTER TABLE queues ADD COLUMN breaker_probe_at INTEGER;
ALTER TABLE queues ADD COLUMN breaker_probe TEXT;
ALTER TABLE queues ADD COLUMN breaker_probe_token INTEGER;
ALTER TABLE queues ADD COLUMN breaker_trip TEXT;
`;
