/**
 * The full stored output of one turn of a run, as the server keeps it byte for byte (telemetry
 * lines excluded), with a download of the same text. Linked from the run page's turns table.
 */
import { useEffect, useMemo, useState } from "react";
import { ApiError, apiText, isAbort } from "../api/client";
import { bytes, ErrorNote, Loading } from "../components/common";
import { Link } from "../router";

export function RunTurnOutputPage({ id, turn }: { id: string; turn: string }) {
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    apiText(`/runs/${encodeURIComponent(id)}/output?turn=${encodeURIComponent(turn)}`, {
      signal: controller.signal,
    }).then(setText, (err: unknown) => {
      if (!isAbort(err)) setError(err instanceof ApiError ? err.describe() : String(err));
    });
    return () => controller.abort();
  }, [id, turn]);
  const size = useMemo(() => (text === null ? 0 : new TextEncoder().encode(text).length), [text]);
  const download = useMemo(
    () => (text === null ? null : URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }))),
    [text],
  );
  useEffect(() => () => (download ? URL.revokeObjectURL(download) : undefined), [download]);
  return (
    <>
      <p>
        <Link href={`/runs/${id}`}>← Run {id}</Link>
      </p>
      <h1>
        Turn {turn} output <code>{id}</code>
      </h1>
      <ErrorNote error={error} />
      {text === null && !error && <Loading what="the output" />}
      {text !== null && (
        <>
          <div className="toolbar">
            <span className="muted" data-testid="output-size">
              {bytes(size)}, {text === "" ? 0 : text.split("\n").length} lines
            </span>
            {download && (
              <a href={download} download={`run-${id}-turn-${turn}.txt`}>
                Download
              </a>
            )}
          </div>
          {/* biome-ignore lint/a11y/useSemanticElements: the output keeps its pre; the region role gives the scrolling box its name */}
          <pre
            className="turn-output"
            data-testid="turn-output"
            // biome-ignore lint/a11y/noNoninteractiveTabindex: a long output scrolls, and a keyboard must reach it to scroll it (axe scrollable-region-focusable)
            tabIndex={0}
            role="region"
            aria-label={`turn ${turn} output`}
          >
            {text === "" ? "(no output)" : text}
          </pre>
        </>
      )}
    </>
  );
}
