/**
 * 019: lessons (see core/lesson.ts), their tags (one row per tag, for filters), and an FTS5
 * index over their texts, kept by triggers. `seq` is the row's integer key: FTS5's external
 * content needs a rowid that VACUUM cannot renumber. `key` makes a write idempotent;
 * `embedding` is the optional embedder's vector as JSON.
 */
export const sql = `
CREATE TABLE lessons (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  key TEXT UNIQUE,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  outcome TEXT NOT NULL,
  tags TEXT NOT NULL,
  job_id TEXT,
  run_id TEXT,
  created_by TEXT,
  created_at INTEGER NOT NULL,
  embedding TEXT
);
CREATE INDEX lessons_by_time ON lessons (created_at, id);
CREATE INDEX lessons_by_job ON lessons (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX lessons_by_run ON lessons (run_id) WHERE run_id IS NOT NULL;
CREATE TABLE lesson_tags (
  tag TEXT NOT NULL,
  lesson_id TEXT NOT NULL,
  PRIMARY KEY (tag, lesson_id)
) WITHOUT ROWID;
CREATE INDEX lesson_tags_by_lesson ON lesson_tags (lesson_id);
CREATE VIRTUAL TABLE lessons_fts USING fts5(
  title, outcome, body, tags, content='lessons', content_rowid='seq', tokenize='porter unicode61'
);
CREATE TRIGGER lessons_fts_insert AFTER INSERT ON lessons BEGIN
  INSERT INTO lessons_fts (rowid, title, outcome, body, tags)
  VALUES (new.seq, new.title, new.outcome, new.body, new.tags);
END;
CREATE TRIGGER lessons_fts_delete AFTER DELETE ON lessons BEGIN
  INSERT INTO lessons_fts (lessons_fts, rowid, title, outcome, body, tags)
  VALUES ('delete', old.seq, old.title, old.outcome, old.body, old.tags);
END;
`;
