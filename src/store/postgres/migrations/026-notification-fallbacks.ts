/**
 * 026: a notification sent to a channel's fallback because its own send failed for good
 * (`fallback_for`: the failed notification's id), so the alert's timeline says why it went there.
 * Null for every other notification. A schema that has the column already keeps it.
 */
export const sql = `
ALTER TABLE alert_notifications ADD COLUMN IF NOT EXISTS fallback_for BIGINT;
`;
