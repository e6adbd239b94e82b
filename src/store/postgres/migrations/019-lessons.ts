/**
 * 019: lessons, as in SQLite's 019, with the search vector a generated column (English stemming;
 * weights A for title and tags, B for the outcome, C for the body) under a GIN index.
 * Punctuation becomes spaces before parsing, as SQLite's tokenizer splits on it: PostgreSQL's
 * parser would keep `deploy.rollback` or `deployment/checkout-api` whole, and a search for
 * "rollback" would find it on one backend only. The class names the symbols and the Unicode
 * punctuation blocks itself (quotes, dashes, CJK and full-width marks), so the split does not
 * depend on the database's locale. statements.ts highlights with the same pattern
 * (PUNCTUATION, checked equal by a test).
 */
export const sql = `
CREATE TABLE lessons (
  id TEXT COLLATE "C" PRIMARY KEY,
  key TEXT COLLATE "C" UNIQUE,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  outcome TEXT NOT NULL,
  tags TEXT NOT NULL,
  job_id TEXT COLLATE "C",
  run_id TEXT COLLATE "C",
  created_by TEXT,
  created_at BIGINT NOT NULL,
  embedding TEXT,
  search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', regexp_replace(title, '[[:punct:]<>|~^$+=\`\\u2010-\\u205E\\u3000-\\u303F\\uFF01-\\uFF0F]+', ' ', 'g')), 'A') ||
    setweight(to_tsvector('english', regexp_replace(tags, '[[:punct:]<>|~^$+=\`\\u2010-\\u205E\\u3000-\\u303F\\uFF01-\\uFF0F]+', ' ', 'g')), 'A') ||
    setweight(to_tsvector('english', regexp_replace(outcome, '[[:punct:]<>|~^$+=\`\\u2010-\\u205E\\u3000-\\u303F\\uFF01-\\uFF0F]+', ' ', 'g')), 'B') ||
    setweight(to_tsvector('english', regexp_replace(body, '[[:punct:]<>|~^$+=\`\\u2010-\\u205E\\u3000-\\u303F\\uFF01-\\uFF0F]+', ' ', 'g')), 'C')
  ) STORED
);
CREATE INDEX lessons_by_time ON lessons (created_at, id);
CREATE INDEX lessons_by_job ON lessons (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX lessons_by_run ON lessons (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX lessons_search ON lessons USING gin (search);
CREATE TABLE lesson_tags (
  tag TEXT COLLATE "C" NOT NULL,
  lesson_id TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (tag, lesson_id)
);
CREATE INDEX lesson_tags_by_lesson ON lesson_tags (lesson_id);
`;
