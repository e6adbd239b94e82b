/**
 * What each turn did to the files the run's profile watches, as Overseer itself compared them
 * before and after the turn (`run.log_updated` and `run.file_deleted` events marked `watched`;
 * the agent's own reports stay in the files touched). Per turn, newest first, each changed file's
 * diff keeps its +/- prefixes, so added and removed lines read apart without colour too.
 */
import { useMemo, useState } from "react";
import type { OverseerEvent } from "../../../src/http/contract";
import { type DiffLineKind, diffLineKind } from "../diff-lines";
import { count } from "./common";

export interface WatchedChange {
  seq: number;
  turn: number;
  path: string;
  /** Unified diff hunks; null when the turn deleted the file. */
  diff: string | null;
  /** The change is longer than the diff shows. */
  truncated: boolean;
}

/** Turns drawn at first: each file's diff is a box of its own, and a long run has many turns. */
const TURNS_SHOWN = 10;

/** The watched change `e` reports, or null when it is not one (the agent's own report included). */
export function watchedChange(e: OverseerEvent): WatchedChange | null {
  const data = (e.data ?? {}) as Record<string, unknown>;
  if (data.watched !== true || typeof data.path !== "string" || typeof data.turn !== "number") return null;
  const base = { seq: e.seq, turn: data.turn, path: data.path };
  if (e.kind === "run.file_deleted") return { ...base, diff: null, truncated: false };
  if (e.kind !== "run.log_updated") return null;
  return { ...base, diff: typeof data.diff === "string" ? data.diff : "", truncated: data.diffTruncated === true };
}

function DiffBox({ change, lines }: { change: WatchedChange; lines: readonly string[] }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a long diff scrolls, and a keyboard must reach it to scroll it (axe scrollable-region-focusable)
    <section className="watch-diff" tabIndex={0} aria-label={`${change.path}, turn ${change.turn}: diff`}>
      <pre>
        <code>
          {lines.map((line, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: lines of a fixed text, never reordered
            <span key={i} className={`diff-${diffLineKind(line)}`}>
              {line}
              {"\n"}
            </span>
          ))}
        </code>
      </pre>
    </section>
  );
}

function WatchedFile({ change }: { change: WatchedChange }) {
  const { diff, truncated } = change;
  // A rewrite too different to diff cheaply comes as one sentence, not hunks.
  const lines = diff?.startsWith("@@") ? diff.split("\n") : null;
  // A cut diff's counts would undercount: the badge and the note say it is cut instead.
  const tally = (kind: DiffLineKind) => count((lines ?? []).filter((l) => diffLineKind(l) === kind).length);
  const counts = lines && !truncated ? `${tally("add")} added, ${tally("del")} removed` : null;
  return (
    <div className="watch-file" data-path={change.path}>
      <h4 className="watch-file-head">
        <code>{change.path}</code>
        {diff === null && <span className="badge file-deleted">deleted</span>}
        {counts && <span className="muted watch-counts">{counts}</span>}
        {truncated && <span className="badge watch-truncated">truncated</span>}
      </h4>
      {diff === null ? (
        <p className="muted watch-note">The turn deleted this file.</p>
      ) : lines ? (
        <>
          {truncated && <p className="muted watch-note">Truncated: the change is longer than the diff shown.</p>}
          <DiffBox change={change} lines={lines} />
        </>
      ) : (
        <p className="muted watch-note">{diff === "" ? "Changed, with no line to show." : diff}</p>
      )}
    </div>
  );
}

export function WatchedChanges({ changes, watch }: { changes: readonly WatchedChange[]; watch: readonly string[] }) {
  const [all, setAll] = useState(false);
  const turns = useMemo(() => {
    const byTurn = new Map<number, WatchedChange[]>();
    for (const c of changes) {
      const files = byTurn.get(c.turn);
      if (files) files.push(c);
      else byTurn.set(c.turn, [c]);
    }
    return [...byTurn].sort(([a], [b]) => b - a);
  }, [changes]);
  const shown = all ? turns : turns.slice(0, TURNS_SHOWN);
  return (
    <div className="watched-changes">
      {watch.length > 0 && (
        <p className="muted watch-note" data-testid="watched-paths">
          Compared before and after each turn: {watch.join(", ")}.
        </p>
      )}
      {turns.length === 0 && <p className="muted">No watched file has changed yet.</p>}
      {shown.map(([turn, files]) => (
        <div key={turn} className="watch-turn" data-turn={turn}>
          <h3>Turn {turn}</h3>
          {files.map((c) => (
            <WatchedFile key={`${c.path}|${c.seq}`} change={c} />
          ))}
        </div>
      ))}
      {turns.length > shown.length && (
        <button type="button" className="small" onClick={() => setAll(true)}>
          Show all {count(turns.length)} turns with changes
        </button>
      )}
    </div>
  );
}
