/**
 * A run's live output: the `run.output` chunks of its event stream as lines, a separator at each
 * turn, and in place of bytes the stream skipped (output faster than the event budget) a button
 * that reads them back by byte range from the turn's stored output. The box follows new lines
 * while it is scrolled to the bottom and stops following when the reader scrolls up. The search
 * box shows only the lines that contain its text, highlighted. Bounded: the newest MAX_LINES are
 * held and SHOWN are rendered; every turn's full output stays one click away in the turns table.
 */
import { type ReactNode, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { OverseerEvent } from "../../../src/http/contract";
import { ApiError, apiText } from "../api/client";
import { count } from "./common";

export type OutputLine =
  | { key: number; kind: "turn"; turn: number }
  /** `open`: no line break yet, the next chunk of its turn continues it. */
  | { key: number; kind: "text"; turn: number; text: string; open: boolean }
  /** Bytes `from` (included) to `to` (excluded) of the turn's output, skipped in the stream. */
  | { key: number; kind: "gap"; turn: number; from: number; to: number }
  | { key: number; kind: "warning"; turn: number; text: string };

export interface OutputState {
  lines: OutputLine[];
  /** The newest seq applied: replays and reconnects never apply an event twice. */
  seq: number;
  /** Lines dropped from the front to stay within MAX_LINES. */
  dropped: number;
  nextKey: number;
  /** The turn of the newest separator: a turn's output that comes after the next turn began gets one again. */
  sepTurn: number;
}

const MAX_LINES = 20_000;
const SHOWN = 2_000;
/** Lines drawn from a reader's position while they are scrolled up. */
const ANCHORED_MAX = 4 * SHOWN;

export const emptyOutput = (): OutputState => ({ lines: [], seq: -1, dropped: 0, nextKey: 0, sepTurn: -1 });

interface OutputData {
  turn: number;
  offset: number;
  text: string;
  truncated?: boolean;
  skippedBytes?: number;
}

/** Adds `text` to `lines` as lines of `turn`, continuing that turn's open line. */
function addText(lines: OutputLine[], turn: number, text: string, key: () => number): void {
  const pieces = text.replace(/\r\n/g, "\n").split("\n");
  pieces.forEach((piece, i) => {
    const closed = i < pieces.length - 1;
    // After a final "\n" comes an empty piece: nothing new starts.
    if (!closed && piece === "") return;
    const prev = lines.at(-1);
    if (i === 0 && prev?.kind === "text" && prev.turn === turn && prev.open) {
      lines[lines.length - 1] = { ...prev, text: prev.text + piece, open: !closed };
    } else {
      lines.push({ key: key(), kind: "text", turn, text: piece, open: !closed });
    }
  });
}

/** The state after `events` (oldest first); events already applied are ignored. */
export function applyOutput(state: OutputState, events: readonly OverseerEvent[]): OutputState {
  const fresh = events.filter((e) => e.seq > state.seq);
  if (fresh.length === 0) return state;
  const lines = [...state.lines];
  let nextKey = state.nextKey;
  const key = () => nextKey++;
  let sepTurn = state.sepTurn;
  const separate = (turn: number) => {
    if (turn === sepTurn) return;
    lines.push({ key: key(), kind: "turn", turn });
    sepTurn = turn;
  };
  for (const e of fresh) {
    const data = (e.data ?? {}) as Partial<OutputData> & { message?: string };
    const turn = typeof data.turn === "number" ? data.turn : 0;
    if (e.kind === "run.turn_started") separate(turn);
    else if (e.kind === "run.output" && typeof data.text === "string") {
      separate(turn);
      const offset = data.offset ?? 0;
      const skipped = data.skippedBytes ?? 0;
      if (data.truncated && skipped > 0) {
        // The open line before the gap cannot be continued by text after it.
        const prev = lines.at(-1);
        if (prev?.kind === "text" && prev.open) lines[lines.length - 1] = { ...prev, open: false };
        lines.push({ key: key(), kind: "gap", turn, from: offset - skipped, to: offset });
      }
      addText(lines, turn, data.text, key);
    } else if (e.kind === "run.warning" && typeof data.message === "string") {
      lines.push({ key: key(), kind: "warning", turn, text: data.message });
    }
  }
  const over = Math.max(0, lines.length - MAX_LINES);
  return {
    lines: over > 0 ? lines.slice(over) : lines,
    seq: fresh.at(-1)?.seq ?? state.seq,
    dropped: state.dropped + over,
    nextKey,
    sepTurn,
  };
}

/** Replaces the gap `gapKey` with the bytes read back for it. */
export function fillGap(state: OutputState, gapKey: number, text: string): OutputState {
  const at = state.lines.findIndex((l) => l.key === gapKey);
  const gap = state.lines[at];
  if (gap?.kind !== "gap") return state;
  let nextKey = state.nextKey;
  const filled: OutputLine[] = [];
  addText(filled, gap.turn, text, () => nextKey++);
  const last = filled.at(-1);
  if (last?.kind === "text") filled[filled.length - 1] = { ...last, open: false };
  return { ...state, lines: [...state.lines.slice(0, at), ...filled, ...state.lines.slice(at + 1)], nextKey };
}

/** A line's own key (search results key their separators -1 - the line's key). */
const lineKey = (l: OutputLine) => (l.key < 0 ? -1 - l.key : l.key);

/** `text` with every case-insensitive occurrence of `needle` in a <mark>. */
function Highlighted({ text, needle }: { text: string; needle: string }) {
  if (!needle) return <>{text}</>;
  const parts: ReactNode[] = [];
  const lower = text.toLowerCase();
  let from = 0;
  let at = lower.indexOf(needle);
  while (at !== -1) {
    if (at > from) parts.push(text.slice(from, at));
    parts.push(<mark key={at}>{text.slice(at, at + needle.length)}</mark>);
    from = at + needle.length;
    at = lower.indexOf(needle, from);
  }
  parts.push(text.slice(from));
  return <>{parts}</>;
}

function Gap({
  line,
  runId,
  onLoaded,
}: {
  line: Extract<OutputLine, { kind: "gap" }>;
  runId: string;
  onLoaded: (text: string) => void;
}) {
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const load = async () => {
    setState({ busy: true, error: null });
    try {
      const text = await apiText(`/runs/${encodeURIComponent(runId)}/output?turn=${line.turn}`, {
        range: { from: line.from, to: line.to - 1 },
      });
      onLoaded(text);
    } catch (err) {
      setState({ busy: false, error: err instanceof ApiError ? err.describe() : String(err) });
    }
  };
  return (
    <div className="out-line out-gap" data-turn={line.turn} data-from={line.from} data-to={line.to}>
      <button type="button" className="small" disabled={state.busy} onClick={() => void load()}>
        {count(line.to - line.from)} bytes skipped — load
      </button>
      {state.error && <span className="error"> {state.error}</span>}
    </div>
  );
}

export function RunOutput({
  runId,
  output,
  onFill,
}: {
  runId: string;
  output: OutputState;
  onFill: (gapKey: number, text: string) => void;
}) {
  const [search, setSearch] = useState("");
  const needle = search.trim().toLowerCase();
  const box = useRef<HTMLDivElement>(null);

  // While the reader is scrolled up, the rendered window starts where it was (from this line's
  // key), so nothing above them is dropped and what they read never shifts; lines arriving
  // below are still drawn (up to a bound). At the bottom it follows the newest lines.
  const [anchor, setAnchor] = useState<number | null>(null);

  const { candidates, matches } = useMemo(() => {
    if (!needle) return { candidates: output.lines, matches: 0 };
    const found: OutputLine[] = [];
    let separatorOf = -1;
    let hits = 0;
    for (const l of output.lines) {
      if ((l.kind === "text" || l.kind === "warning") && l.text.toLowerCase().includes(needle)) {
        // A turn's separator only above its first matching line.
        if (separatorOf !== l.turn) {
          found.push({ key: -1 - l.key, kind: "turn", turn: l.turn });
          separatorOf = l.turn;
        }
        found.push(l);
        hits++;
      }
    }
    return { candidates: found, matches: hits };
  }, [output.lines, needle]);
  const shown = useMemo(() => {
    if (anchor === null) return candidates.slice(-SHOWN);
    const from = candidates.findIndex((l) => lineKey(l) >= anchor);
    return from === -1 ? candidates.slice(-SHOWN) : candidates.slice(from, from + ANCHORED_MAX);
  }, [candidates, anchor]);

  const follow = anchor === null;
  // biome-ignore lint/correctness/useExhaustiveDependencies: new lines are what should scroll
  useLayoutEffect(() => {
    const el = box.current;
    if (follow && el) el.scrollTop = el.scrollHeight;
  }, [shown, follow]);
  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 8;
    if (atBottom && !follow) setAnchor(null);
    else if (!atBottom && follow) setAnchor(shown[0] ? lineKey(shown[0]) : 0);
  };
  const textLines = output.lines.filter((l) => l.kind === "text").length;

  return (
    <div className="run-output-wrap">
      <div className="toolbar output-tools">
        <input
          type="search"
          aria-label="Search output"
          placeholder="search the output"
          value={search}
          onChange={(e) => {
            setSearch(e.target.value);
            setAnchor(null); // a new search shows its newest matches
          }}
        />
        <span className="muted" data-testid="output-count">
          {needle
            ? `${count(matches)} of ${count(textLines)} lines match`
            : `${count(textLines)} lines${output.dropped > 0 ? ` (${count(output.dropped)} older ones dropped)` : ""}`}
        </span>
        <span className="spacer" />
        {follow ? (
          <span className="muted" data-testid="follow-state">
            following
          </span>
        ) : (
          <button type="button" className="small" data-testid="follow-state" onClick={() => setAnchor(null)}>
            ↓ Jump to latest
          </button>
        )}
      </div>
      <div
        className="run-output"
        ref={box}
        onScroll={onScroll}
        role="log"
        aria-label="live output"
        aria-live="off"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the output scrolls, and a keyboard must reach it to scroll it (axe scrollable-region-focusable)
        tabIndex={0}
      >
        {shown.length === 0 && <p className="muted out-empty">{needle ? "No line matches." : "No output yet."}</p>}
        {shown.map((l) => {
          switch (l.kind) {
            case "turn":
              return (
                <div key={l.key} className="out-turn" data-turn={l.turn}>
                  turn {l.turn}
                </div>
              );
            case "gap":
              return <Gap key={l.key} line={l} runId={runId} onLoaded={(text) => onFill(l.key, text)} />;
            case "warning":
              return (
                <div key={l.key} className="out-line out-warning" data-turn={l.turn}>
                  ⚠ <Highlighted text={l.text} needle={needle} />
                </div>
              );
            default:
              return (
                <div key={l.key} className="out-line" data-turn={l.turn}>
                  <Highlighted text={l.text} needle={needle} />
                </div>
              );
          }
        })}
      </div>
    </div>
  );
}
