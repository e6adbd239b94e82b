/**
 * The lock classes of `Tx.lock` (see tx.ts): the first of PostgreSQL's two int4 advisory-lock
 * keys, one per kind of key, so a lock on one kind never collides with another's keys. SQLite
 * takes no such locks (its one writer excludes every other transaction).
 */
export const LOCK = {
  migrate: 0x4f56_0001,
  events: 0x4f56_0002,
  concurrencyKey: 0x4f56_0003,
  idempotencyKey: 0x4f56_0004,
  schedules: 0x4f56_0005,
  claims: 0x4f56_0006,
  signals: 0x4f56_0007,
  alerts: 0x4f56_0008,
  heartbeats: 0x4f56_0009,
  tokens: 0x4f56_000a,
  settings: 0x4f56_000b,
} as const;
