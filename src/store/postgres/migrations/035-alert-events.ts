/**
 * 035: an alert's events (its timeline) read by the alert's id in the event's data, as SQLite's
 * 035 (the same expression as the query in alerts/statements.ts); partial, so no other event
 * writes to it.
 */
export const sql = `
CREATE INDEX IF NOT EXISTS events_alert ON events ((data::json ->> 'alertId'), seq) WHERE kind LIKE 'alert.%';
`;
