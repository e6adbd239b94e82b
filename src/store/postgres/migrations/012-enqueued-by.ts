/**
 * 012: who enqueued a job (`enqueued_by`: the API token's name, or what the SDK caller gave), so
 * an approval the job requests names them as its requester and they cannot approve it themselves.
 * Null for jobs from before, and for callers that name nobody.
 */
export const sql = `
ALTER TABLE jobs ADD COLUMN enqueued_by TEXT;
`;
