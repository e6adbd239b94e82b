/**
 * 030: the W3C trace context a job was enqueued under (`trace_context`, JSON of its
 * `traceparent` and `tracestate`): each attempt's span is its child. Null for jobs from before,
 * and for jobs enqueued outside a trace or with no OpenTelemetry SDK installed. A file that has
 * the column already keeps it.
 */
export const sql = (hasColumn: (table: string, column: string) => boolean): string =>
  hasColumn("jobs", "trace_context") ? "" : "ALTER TABLE jobs ADD COLUMN trace_context TEXT;";
