/**
 * 014: where a sent notification went (`receipt`: JSON `{chatId, messageId}` of a Telegram message
 * with buttons), so every copy of an alert or approval request can lose its buttons and say who
 * settled it, whichever path did. Null for notifications from before, and for other channels.
 */
export const sql = `
ALTER TABLE alert_notifications ADD COLUMN receipt TEXT;
`;
