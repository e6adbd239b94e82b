/**
 * 026: a notification sent to a channel's fallback because its own send failed for good
 * (`fallback_for`: the failed notification's id), so the alert's timeline says why it went there.
 * Null for every other notification. A file that has the column already keeps it.
 */
export const sql = (hasColumn: (table: string, column: string) => boolean): string =>
  hasColumn("alert_notifications", "fallback_for")
    ? ""
    : "ALTER TABLE alert_notifications ADD COLUMN fallback_for INTEGER;";
