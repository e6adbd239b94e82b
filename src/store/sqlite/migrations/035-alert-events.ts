/**
 * 035: an alert's events (its timeline: raised, bumped, notified, acknowledged with a note,
 * escalated, closed...) read by the alert's id in the event's data, as 028 reads a claim key's:
 * partial, so no other event writes to it. The query in alerts/statements.ts repeats the
 * condition and the expression word for word, which SQLite needs to use it.
 */
export const sql = `
CREATE INDEX IF NOT EXISTS events_alert ON events (json_extract(data, '$.alertId'), seq) WHERE kind LIKE 'alert.%';
`;
