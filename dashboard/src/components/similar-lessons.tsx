/**
 * "Sessions like this were resolved by ...": the lessons most like a job, with the words each
 * matched and a link to the session it came from. A help beside the page, never in its way: a
 * job whose payload has nothing to search for, or a failed search, shows nothing.
 */
import { useEffect, useState } from "react";
import type { SimilarLesson } from "../../../src/http/contract";
import { api, isAbort } from "../api/client";
import { Link } from "../router";

export function SimilarLessons({
  jobId,
  limit = 3,
  compact = false,
}: {
  jobId: string;
  limit?: number;
  compact?: boolean;
}) {
  const [found, setFound] = useState<SimilarLesson[] | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    api<{ items: SimilarLesson[] }>(`/lessons/similar?jobId=${encodeURIComponent(jobId)}&limit=${limit}`, {
      signal: controller.signal,
    }).then(
      (answer) => setFound(answer.items),
      (err: unknown) => {
        if (!isAbort(err)) setFound([]);
      },
    );
    return () => controller.abort();
  }, [jobId, limit]);
  if (found === null) return compact ? null : <p className="muted">Looking for similar lessons…</p>;
  if (found.length === 0) return compact ? null : <p className="muted">No lessons like this one yet.</p>;
  const list = (
    <ul className="lessons" aria-label="similar lessons">
      {found.map(({ lesson, reason }) => (
        <li key={lesson.id} data-lesson={lesson.id}>
          <strong>{lesson.title}</strong>: {lesson.outcome}
          <span className="muted small-text">
            {" "}
            matched {[...reason.terms, ...reason.tags.map((t) => `#${t}`)].join(", ") || "by meaning"}
            {lesson.jobId && (
              <>
                {" · "}
                <Link href={`/jobs/${lesson.jobId}`}>its session</Link>
              </>
            )}
          </span>
        </li>
      ))}
    </ul>
  );
  return compact ? (
    <div className="lessons-compact">
      <span className="small-text">Lessons like this</span>
      {list}
    </div>
  ) : (
    list
  );
}
